"""What a caller heard, as the carrier recorded it: 20 ms frames told apart as silence, a known tone or other sound.

Each frame is weighed with the Goertzel algorithm at the tones' frequencies.

The bench's PBX gets a music-on-hold class whose only file is one sine tone (made with sox when
the bench starts), and a test may give a team a greeting of another tone: a recording then
shows, from the caller's side, which sound reached them and in which order.
"""

from __future__ import annotations

import math
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

# The bench's music-on-hold class (musiconhold_site.conf) and its tone.
BENCH_MOH_CLASS = "bench-tone"
MUSIC_HZ = 1000
RATE = 8000
# A frame is 20 ms; both bench tones (1000 Hz, 600 Hz) fall on a whole Goertzel bin of it.
FRAME_SECONDS = 0.02
SILENCE_RMS = 300.0
# Share of a frame's energy at the tone's frequency above which the frame is that tone
# (a pure sine on the bin gives 1.0; speech spreads its energy).
TONE_SHARE = 0.6
# Runs shorter than this are transitions (a tone cut off, a click), not a sound heard.
MIN_RUN_SECONDS = 0.2


def write_tone(path: Path, hz: int, seconds: float) -> None:
    """A sine tone as 8 kHz 16-bit mono wav (a format Asterisk plays natively)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(path),
                    "synth", str(seconds), "sine", str(hz), "vol", "0.5"],
                   check=True, capture_output=True, timeout=30)


def moh_site_file(base: Path, inner_base: str) -> str:
    """Write the bench class's tone under the PBX's own tree (`base` on the host,
    `inner_base` as Asterisk sees it) and return the musiconhold_site.conf naming it."""
    write_tone(base / "moh-tone" / "tone.wav", MUSIC_HZ, 5)
    return f"[{BENCH_MOH_CLASS}]\nmode = files\ndirectory = {inner_base}/moh-tone\n"


def seconds_of(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _share(samples: list[int], hz: float, rate: int) -> float:
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    energy = sum(x * x for x in samples)
    return power / (len(samples) / 2 * energy) if energy else 0.0


@dataclass(frozen=True)
class Run:
    label: str  # a tone's name, or "sound"
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def heard(path: Path, tones: dict[str, float]) -> list[Run]:
    """The sounds of a recording in order: runs of one tone or of other sound, silence left
    out, runs shorter than MIN_RUN_SECONDS dropped, neighbours of one label joined."""
    with wave.open(str(path)) as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    assert (width, channels) == (2, 1), f"{path}: expected 16-bit mono, got {width * 8}-bit x{channels}"
    samples = [int.from_bytes(raw[i:i + 2], "little", signed=True) for i in range(0, len(raw), 2)]
    size = int(rate * FRAME_SECONDS)
    runs: list[Run] = []
    for index in range(len(samples) // size):
        frame = samples[index * size:(index + 1) * size]
        rms = math.sqrt(sum(x * x for x in frame) / size)
        if rms < SILENCE_RMS:
            continue
        label = next((name for name, hz in tones.items() if _share(frame, hz, rate) > TONE_SHARE),
                     "sound")
        start = index * FRAME_SECONDS
        if runs and runs[-1].label == label and abs(runs[-1].end - start) < 1e-6:
            runs[-1] = Run(label, runs[-1].start, start + FRAME_SECONDS)
        else:
            runs.append(Run(label, start, start + FRAME_SECONDS))
    kept: list[Run] = []
    for run in runs:
        if run.seconds < MIN_RUN_SECONDS:
            continue
        if kept and kept[-1].label == run.label:
            kept[-1] = Run(run.label, kept[-1].start, run.end)
        else:
            kept.append(run)
    return kept
