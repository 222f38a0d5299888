"""Code: one fingerprint of the code that shapes the output, for every cache key.

The builder's own source files and the installed versions of every library whose
behaviour reaches the pages (Markdown, YAML, templates, countries, time zones,
search) go into one hash. A cache made by other code, or with another version of a
library, is then never reused, whatever ``__version__`` says: no hand-bumped number
is needed for correctness.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

# Distributions whose code shapes what a build writes.
OUTPUT_LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "pyyaml", "pycountry",
                    "tzdata", "pagefind-bin", "pillow")


def library_versions() -> tuple[tuple[str, str], ...]:
    """(distribution, version) of each output library ('' when it is not installed).

    Read from the names of the installed metadata folders (``jinja2-3.1.4.dist-info``:
    the name and version, PEP 427), first on ``sys.path`` first, as importlib.metadata
    finds them: importing it and parsing each METADATA file took 45 ms of every command,
    a tenth of a no-op build. A path entry that is not a folder (a zip) is left to it.
    """
    wanted = {_normalized(name): name for name in OUTPUT_LIBRARIES}
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return _asked_of_importlib()
            continue
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            stem, dot, kind = name.rpartition(".")
            if kind not in ("dist-info", "egg-info") or not dot:
                continue
            project, _, version = stem.partition("-")
            key = _normalized(project)
            if key in wanted and key not in found:
                found[key] = version.split("-")[0]  # an egg-info may end in '-py3.11'
    return tuple((name, found.get(_normalized(name), "")) for name in OUTPUT_LIBRARIES)


def _normalized(project: str) -> str:
    """A distribution's name as metadata folders spell it (PEP 503, with '_')."""
    return re.sub(r"[-_.]+", "_", project).lower()


def _asked_of_importlib() -> tuple[tuple[str, str], ...]:
    from importlib import metadata
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
