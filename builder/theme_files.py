"""Theme files: the templates' static files, the country flags, and one fingerprint of them all."""

from __future__ import annotations

import hashlib
from pathlib import Path

STATIC_FOLDER = "static"


def static_files(template_dirs: tuple[Path, ...]) -> dict[str, Path]:
    """Files under each templates/static folder (a site's shadow the theme's)."""
    found: dict[str, Path] = {}
    for folder in reversed(template_dirs):
        static = folder / STATIC_FOLDER
        if static.is_dir():
            for path in sorted(static.rglob("*")):
                if path.is_file():
                    found[path.relative_to(static).as_posix()] = path
    return found


FLAGS_FOLDER = "flags"  # the theme's SVG flags (flag-icons, MIT: see its LICENSE), published as used


def flag_file(template_dirs: tuple[Path, ...], code: str) -> Path | None:
    """The SVG flag of an ISO alpha-2 code (a site's own first), or None when there is none."""
    for folder in template_dirs:
        path = folder / FLAGS_FOLDER / f"{code.lower()}.svg"
        if path.is_file():
            return path
    return None


def templates_fingerprint(template_dirs: tuple[Path, ...]) -> str:
    """A hash of every template and static file (names and bytes)."""
    digest = hashlib.sha256()
    for folder in template_dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]

