"""``python -m builder``: the command line."""

import sys

from builder.cli import main

sys.exit(main())
