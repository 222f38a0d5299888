"""Hosting: notes on what a built site means where it is published.

GitHub Pages publishes sites of up to 1 GB (the build summary warns near
it), and feeds, sitemaps and canonical links need absolute URLs, which
only a base_url with a scheme and host gives (deploy warns without one).
"""

from __future__ import annotations

import os
from pathlib import Path

from builder.config import SiteConfig

PAGES_SIZE_LIMIT = 1024 ** 3  # bytes: "published GitHub Pages sites may be no larger than 1 GB"
WARN_AT = 0.8  # share of the limit from which the build warns


def hosting_notes(config: SiteConfig, output: Path, files: set[str] | None = None) -> list[str]:
    """Notes for the build summary (empty when there is nothing to say).

    ``files``: the output's files when the build knows them (no need to list the folder again).
    """
    note = size_note(folder_size(output) if files is None else files_size(output, files))
    return [note] if note else []


def files_size(folder: Path, files: set[str]) -> int:
    """Bytes in the given files under ``folder`` (missing ones count nothing)."""
    root, total = str(folder) + os.sep, 0
    for name in files:
        try:
            total += os.stat(root + name).st_size
        except OSError:
            pass
    return total


def local_build_note(config: SiteConfig) -> str:
    """For a build summary: without a host in base_url, what must be absolute is left out."""
    if config.origin:
        return ""
    return (f"base_url {config.base_url!r} has no scheme and host (a local build): canonical links, og:url "
            "and robots.txt's Sitemap lines are left out, and feeds and sitemaps carry root-relative URLs; "
            "set base_url (or --base-url) to the published address when you deploy")


def size_note(size: int, limit: int = 0) -> str:
    """A warning when ``size`` bytes approach or pass GitHub Pages' published-size limit."""
    limit = limit or PAGES_SIZE_LIMIT
    if size < limit * WARN_AT:
        return ""
    share = f"{size / limit:.0%} of"
    verdict = "over" if size > limit else "close to"
    return (f"the site is {size / 2 ** 20:,.0f} MB, {verdict} GitHub Pages' 1 GB limit for a published "
            f"site ({share} it); see README 'Deploy to GitHub Pages' for ways to slim it down")


def folder_size(folder: Path) -> int:
    """Bytes in every file under ``folder`` (0 when it does not exist)."""
    return sum(size for _, size in folder_files(folder))


def folder_files(folder: Path):
    """(relative POSIX path, bytes) of every file under ``folder``, symlinks not followed."""
    root = len(str(folder)) + 1
    stack = [str(folder)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    yield entry.path[root:].replace(os.sep, "/"), entry.stat(follow_symlinks=False).st_size
