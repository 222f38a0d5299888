"""Sources: every article file under ``content/`` found with its size and time (nothing is
read), and the site's own static files: what an incremental build compares."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from builder.problems import Problem
from builder.urls import IMAGE_SUFFIXES

ARTICLE_SUFFIXES = (".md", ".markdown")  # in any case: 'Upper.MD' is an article too
SKIPPED_PREFIXES = (".", "_", "#")  # hidden files, '_' for "leave this out", Emacs autosaves '#x.md#'
SKIPPED_SUFFIXES = ("~", ".swp", ".swo", ".tmp")  # editor backups and swap files


@dataclass(frozen=True)
class SourceFile:
    """An article file found on disk, or one that cannot be read (``problem`` says why)."""

    path: str  # relative to the site folder, POSIX separators
    absolute: str  # a plain string: Path objects for 100,000 files cost a quarter second
    stat: tuple[int, int]  # (size, mtime_ns): cheap change detection
    problem: str = ""  # '' for a file to parse; else why it is not read (it is never opened)


def find_sources(root: Path, pictures: list | None = None) -> list[SourceFile]:
    """Article files under ``root/content`` in a stable order, with the ones that cannot be read.

    Every file under ``content/`` is read, skipped on purpose, or named with the reason
    it is not read:

    - names starting with '.', '_' or '#' or ending with '~', '.swp', '.swo' or '.tmp'
      (hidden files, files left out on purpose, editor backups) are skipped silently,
      and so are folders starting with '.' or '_';
    - a file named ``*.md`` or ``*.markdown``, in any case, is an article; other files
      (images, notes) are assets and left alone;
    - a symbolic link is read as what it points to, a file or a folder, inside the site or
      outside it (an archive may link in articles kept elsewhere; the build only reads
      them); a link to nothing and a link loop are problems;
    - a named pipe, socket or device named like an article is a problem and never opened
      (reading a named pipe would wait forever for a writer);
    - a folder that cannot be listed is a problem (its articles would vanish otherwise).

    The files that are not read come back with ``problem`` set: the loader reports them
    with the parse problems, every one in the same run (see ``source_problem``).
    ``pictures``, when given, gets the (path, (size, mtime)) of every picture file the walk
    passes (JPEG, PNG, WebP, GIF): the build's inputs (builder.images resizes them).
    """
    found: list[SourceFile] = []
    # Plain strings and os.scandir: this runs over every file on every build.
    _walk(os.path.join(str(root), "content"), len(str(root)) + 1, found, (), pictures)
    return found


def _walk(folder: str, prefix: int, found: list[SourceFile], ancestors: tuple, pictures: list | None = None) -> None:
    """Add ``folder``'s articles to ``found``: its files by name, then its folders by name."""
    try:
        identity = _identity(os.stat(folder))
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=_name)
    except OSError as error:
        found.append(_refused(folder, prefix, f"cannot read this folder: {error.strerror}"))
        return
    ancestors = (*ancestors, (identity, folder))
    folders = []
    for entry in entries:
        name = entry.name
        if name.startswith(SKIPPED_PREFIXES) or name.endswith(SKIPPED_SUFFIXES):
            continue
        if name.lower().endswith(ARTICLE_SUFFIXES) and not entry.is_symlink():
            # The common case inline (this runs for every article on every build, a no-op's
            # largest step): a regular article file. Anything else takes the general path.
            try:
                info = entry.stat()
            except OSError:
                info = None
            if info is not None and stat.S_ISREG(info.st_mode):
                found.append(SourceFile(entry.path[prefix:].replace(os.sep, "/"), entry.path,
                                        (info.st_size, info.st_mtime_ns)))
                continue
        try:
            kind, info = _kind(entry, ancestors)
        except OSError as error:
            kind, info = f"cannot read this file: {error.strerror}", None
        if kind == "folder":
            folders.append(entry.path)
        elif kind == "file":
            if entry.name.lower().endswith(ARTICLE_SUFFIXES):
                found.append(_article(entry.path, prefix, info))
            elif pictures is not None and entry.name.lower().endswith(IMAGE_SUFFIXES):
                picture = entry.stat()
                pictures.append((entry.path[prefix:].replace(os.sep, "/"), (picture.st_size, picture.st_mtime_ns)))
        elif kind != "other" or entry.name.lower().endswith(ARTICLE_SUFFIXES):
            found.append(_refused(entry.path, prefix, kind))
    for path in folders:
        _walk(path, prefix, found, ancestors, pictures)


def _name(entry: os.DirEntry) -> str:
    return entry.name


def _kind(entry: os.DirEntry, ancestors: tuple) -> tuple[str, os.stat_result | None]:
    """('folder' | 'file' | 'other' | the reason it is not read, the stat of what it is)."""
    if entry.is_dir(follow_symlinks=False):
        return "folder", None
    if not entry.is_symlink():
        if not entry.name.lower().endswith(ARTICLE_SUFFIXES):
            return "file", None  # an asset: not even a stat
        info = entry.stat()
        return ("file" if stat.S_ISREG(info.st_mode) else not_regular(info)), info
    target = os.readlink(entry.path)
    try:
        info = os.stat(entry.path)
    except FileNotFoundError:
        return f"a symbolic link to nothing ('{target}' does not exist)", None
    except OSError as error:
        if error.errno == errno.ELOOP:
            return f"a symbolic link loop (it points to '{target}', which leads back to it)", None
        raise
    if stat.S_ISDIR(info.st_mode):
        for identity, folder in ancestors:
            if identity == _identity(info):
                return f"a symbolic link loop (it leads back to {_relative(folder, ancestors)})", None
        return "folder", None
    if stat.S_ISREG(info.st_mode):
        return "file", info
    return (not_regular(info) if entry.name.lower().endswith(ARTICLE_SUFFIXES) else "other"), info


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _relative(folder: str, ancestors: tuple) -> str:
    """``folder`` as the user types it (from the site folder: content/…)."""
    content = ancestors[0][1]
    return "content" + folder[len(content):].replace(os.sep, "/")


def not_regular(info: os.stat_result) -> str:
    mode = info.st_mode
    what = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
            else "not a file")
    return f"not a regular file ({what}): only regular files are read as articles"


def _article(absolute: str, prefix: int, info: os.stat_result) -> SourceFile:
    return SourceFile(path=absolute[prefix:].replace(os.sep, "/"), absolute=absolute,
                      stat=(info.st_size, info.st_mtime_ns))


def _refused(absolute: str, prefix: int, reason: str) -> SourceFile:
    return SourceFile(path=absolute[prefix:].replace(os.sep, "/"), absolute=absolute, stat=(0, 0),
                      problem=reason)


def source_problem(source: SourceFile) -> Problem | None:
    """The problem of a file that is not read (None for an article to parse)."""
    return Problem(source.path, 0, source.problem) if source.problem else None


def site_static(root: Path) -> dict[str, Path]:
    """A site's own static/ folder (images, favicons, CNAME…): copied to the output root as it is."""
    folder = root / "static"
    if not folder.is_dir():
        return {}
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
