"""``python -m builder``: the same command line as ``builder``."""

from builder.cli import entry_point

entry_point()
