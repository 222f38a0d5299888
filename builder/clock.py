"""Clock: the build's notion of now.

``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC: the reproducible-builds convention)
when it is set, else the system clock. Articles dated after now are held back
(scheduled) unless ``--future`` is given; the build remembers when the next one is
due, so a later build publishes it even when no file changed.
"""

from __future__ import annotations

import datetime as dt
import os

from builder.problems import UsageError

VARIABLE = "SOURCE_DATE_EPOCH"


def now() -> dt.datetime:
    """The current time (aware, UTC), from SOURCE_DATE_EPOCH when set."""
    value = os.environ.get(VARIABLE, "").strip()
    if not value:
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    try:
        return dt.datetime.fromtimestamp(int(value), dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"{VARIABLE}={value[:40]!r} is not a time: give whole seconds since "
                         "1970-01-01 UTC (such as 1781337600), or unset it to use the clock") from None
