"""`python -m teamfoned.cli`: the same as the `teamfoned` console script."""

import sys

from teamfoned.cli.main import main

sys.exit(main())
