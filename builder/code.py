"""Code: one fingerprint of the code that shapes the output, for every cache key.

The builder's own source files and the installed versions of every library whose
behaviour reaches the pages (Markdown, YAML, templates, countries, time zones,
search) go into one hash. A cache made by other code, or with another version of a
library, is then never reused, whatever ``__version__`` says: no hand-bumped number
is needed for correctness.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

# Distributions whose code shapes what a build writes.
OUTPUT_LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "pyyaml", "pycountry",
                    "tzdata", "pagefind-bin", "pillow")


def library_versions() -> tuple[tuple[str, str], ...]:
    """(distribution, version) of each output library ('' when it is not installed)."""
    found = []
    for name in OUTPUT_LIBRARIES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, ""))
    return tuple(found)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the package's Python source, its starter files, Python's version and the
    output libraries' versions (the default theme is hashed with the templates)."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(repr(library_versions()).encode())
    return digest.hexdigest()[:20]
