"""A bounded CPU hog for the loaded post-dial delay: one process spinning on one core, stopping by itself."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

# The child spins until its own deadline, so it ends even if the bench dies without stopping it.
SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def one_core_busy(seconds: float) -> Iterator[int]:
    """Keep one core busy for at most `seconds` (or until the block ends); yields the hog's pid."""
    proc = subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=float(seconds))],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc.pid
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(10)
