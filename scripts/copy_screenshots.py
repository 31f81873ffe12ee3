"""Copy the browser tests' screenshots (build/screenshots/) into docs/screenshots/ for the README."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "build" / "screenshots"
TARGET = ROOT / "docs" / "screenshots"


def main() -> int:
    shots = sorted(SOURCE.glob("*.png"))
    if not shots:
        print(f"no screenshots in {SOURCE.relative_to(ROOT)}: run the browser tests first "
              "(pytest tests/browser)", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        shutil.copy2(shot, TARGET / shot.name)
    print(f"copied {len(shots)} screenshots to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
