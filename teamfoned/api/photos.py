"""A photo is stored only if its bytes are what they claim: a JPEG or PNG whose header decodes to sane dimensions."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
JPEG_START = b"\xff\xd8\xff"
# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG), CC (DAC) share the range but do not.
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
MAX_SIDE = 10_000
PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}


class PhotoRefused(ValueError):
    """The bytes are not an acceptable portrait photo; the message says why."""


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 8 + 25 + 12 or not data.endswith(PNG_END):
        raise PhotoRefused("the PNG is truncated")
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        raise PhotoRefused("the PNG does not start with its header chunk")
    body = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(data[12:29]) != crc:
        raise PhotoRefused("the PNG header is corrupt")
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", body)
    if depth not in PNG_DEPTHS.get(colour, ()) or interlace > 1:
        raise PhotoRefused("the PNG header is not valid")
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise PhotoRefused("the JPEG is truncated")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise PhotoRefused("the JPEG structure is corrupt")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if length < 2 or i + 2 + length > len(data):
            raise PhotoRefused("the JPEG structure is corrupt")
        if marker in JPEG_SOF:
            if length < 8:
                raise PhotoRefused("the JPEG frame header is corrupt")
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise PhotoRefused("the JPEG has no frame header")


def check_photo(data: bytes, declared_type: str) -> str:
    """The content type the bytes really are; refuses anything else, or a mismatch with the declared one."""
    if data.startswith(PNG_SIGNATURE):
        kind, (width, height) = "image/png", _png_size(data)
    elif data.startswith(JPEG_START):
        kind, (width, height) = "image/jpeg", _jpeg_size(data)
    else:
        raise PhotoRefused("only JPEG and PNG photos are accepted")
    if kind != declared_type:
        raise PhotoRefused(f"the bytes are {kind}, not {declared_type}")
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise PhotoRefused(f"the photo must be 1 to {MAX_SIDE} pixels on each side")
    return kind
