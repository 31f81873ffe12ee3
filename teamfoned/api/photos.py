"""A photo is stored only as Pillow re-encoded it from its pixels: a JPEG or PNG of sane size, with no metadata and nothing appended."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's format name for each content type we accept; nothing else is even tried.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# A portrait needs far less; the cap also bounds the memory one decode takes (4096² pixels).
MAX_SIDE = 4096
# What we write: fixed settings, so the same pixels always give the same bytes.
JPEG_QUALITY = 85
# Modes written as they are; anything else (palette, CMYK, 16-bit, ...) is converted first.
JPEG_MODES = {"L", "RGB"}
PNG_MODES = {"L", "LA", "RGB", "RGBA"}
# Pillow only warns of an image past its own pixel bound (far past ours) while reading the
# header; as an error it is refused like any other oversized photo (Pillow's documented way).
warnings.simplefilter("error", Image.DecompressionBombWarning)
TOO_MANY_PIXELS = (Image.DecompressionBombWarning, Image.DecompressionBombError)
# Whatever Pillow raises on a file it cannot read: truncated, corrupt, not an image.
UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)


class PhotoRefused(ValueError):
    """The bytes are not an acceptable portrait photo; the message says why."""


def _too_large(size: str = "far more") -> PhotoRefused:
    return PhotoRefused(f"the photo must be 1 to {MAX_SIDE} pixels on each side, not {size}")


def _open(data: bytes, declared_type: str) -> Image.Image:
    """The image, its header read and checked, its pixels not decoded yet."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS.values()))
    except TOO_MANY_PIXELS:
        raise _too_large() from None
    kind = next(t for t, f in FORMATS.items() if f == image.format)
    if kind != declared_type:
        raise PhotoRefused(f"the bytes are {kind}, not {declared_type}")
    width, height = image.size
    # Checked on the header, before anything is decoded: a 10000x10000 bomb never unpacks.
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise _too_large(f"{width}x{height}")
    return image


def _pixels_only(image: Image.Image, kind: str) -> Image.Image:
    """A fresh image from the decoded pixels alone: no EXIF, ICC, text, comment or frames."""
    # Phones rotate by an EXIF tag; apply it, since the tag goes.
    upright = ImageOps.exif_transpose(image)
    mode = upright.mode
    if kind == "image/jpeg" and mode not in JPEG_MODES:
        mode = "L" if mode in ("1", "I", "I;16", "F") else "RGB"
    elif kind == "image/png" and mode not in PNG_MODES:
        has_alpha = mode in ("PA", "La") or "transparency" in upright.info
        grey = mode in ("1", "I", "I;16", "I;16B", "F")
        mode = ("LA" if grey else "RGBA") if has_alpha else ("L" if grey else "RGB")
    if upright.mode in ("I", "I;16", "I;16B") and mode == "L":
        # 16-bit grey: scale to 8 bits rather than clip everything above 255 to white.
        upright = upright.convert("I").point(lambda v: v * (1 / 257))
    pixels = upright.convert(mode)
    return Image.frombytes(mode, pixels.size, pixels.tobytes())


def normalise_photo(data: bytes, declared_type: str) -> tuple[bytes, str]:
    """The photo re-encoded from its pixels, and its content type; refuses anything else.

    Refused: not a JPEG or PNG, a format other than the declared one, a side over MAX_SIDE
    (read from the header, before decoding), truncated or corrupt data. Whatever the file
    carried besides its pixels (EXIF with the location, comments, text chunks, a script
    appended after the image) is not in the result.
    """
    if declared_type not in FORMATS:
        raise PhotoRefused("only JPEG and PNG photos are accepted")
    try:
        with _open(data, declared_type) as checked:
            # A PNG's chunks and their checksums, to its end: a truncated file is refused.
            checked.verify()
        with _open(data, declared_type) as image:
            image.load()
            clean = _pixels_only(image, declared_type)
    except PhotoRefused:
        raise
    except UNREADABLE as exc:
        raise PhotoRefused(f"the photo cannot be read as {FORMATS[declared_type]}: "
                           f"{_reason(exc)}") from None
    out = io.BytesIO()
    if declared_type == "image/jpeg":
        clean.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        clean.save(out, "PNG")
    return out.getvalue(), declared_type


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "not an image of that type"
    return str(exc) or type(exc).__name__
