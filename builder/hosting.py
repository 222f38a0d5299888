"""Hosting: where a built site is published, and what that host allows.

- **Host limits**, in one table (``host_table``; docs/deploy.md shows it with its
  sources): total bytes, number of files, entries in one folder, largest file, for
  each ``[hosting] target``. The build measures its output against the target's
  limits and warns (``build --strict`` fails) naming what is over and by how much;
  ``report`` shows the same numbers.
- **Content types** every published file is served with: the preview server and the
  object-storage deploy (builder.s3) use the same table, so both agree.
- The note ``deploy`` prints for a base_url without scheme and host.

This module imports nothing else of the package, so the configuration can check
``[hosting] target`` against the table.
"""

from __future__ import annotations

import dataclasses
import functools
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

PAGES_SIZE_LIMIT = 1024 ** 3  # bytes: "published GitHub Pages sites may be no larger than 1 GB"
WARN_AT = 0.8  # share of a limit from which the build warns
KIB, MIB, GIB, TIB = 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4
DEFAULT_TARGET = "github-pages"

# ------------------------------------------------------------------ limits


@dataclass(frozen=True)
class Limit:
    """One documented limit: the number, and how the host states it."""

    amount: int
    shown: str  # '1 GB', '25 MiB', '20,000'


@dataclass(frozen=True)
class Host:
    """What one host accepts (None: no documented limit)."""

    target: str  # the [hosting] target naming it
    name: str  # for tables: 'Cloudflare Pages, free plan'
    whose: str  # for messages: "Cloudflare Pages' free-plan"
    total_bytes: Limit | None
    files: Limit | None
    folder_entries: Limit | None  # files and folders directly in one folder
    file_bytes: Limit | None
    sources: tuple[str, ...]


def host_table() -> dict[str, Host]:
    """Every host a site can name in ``[hosting] target``, with its limits (read at call
    time, so one changed figure changes every check and the report)."""
    cloudflare = ("https://developers.cloudflare.com/pages/platform/limits/",
                  "https://developers.cloudflare.com/changelog/post/2026-01-23-pages-file-limit-increase/")
    hosts = (
        Host("github-pages", "GitHub Pages", "GitHub Pages'",
             total_bytes=Limit(PAGES_SIZE_LIMIT, "1 GB"), files=None, folder_entries=None,
             file_bytes=Limit(100 * MIB, "100 MiB"),
             sources=("https://docs.github.com/en/pages/getting-started-with-github-pages/github-pages-limits",
                      "https://docs.github.com/en/repositories/working-with-files/managing-large-files/"
                      "about-large-files-on-github")),
        Host("cloudflare-pages", "Cloudflare Pages, free plan", "Cloudflare Pages' free-plan",
             total_bytes=None, files=Limit(20_000, "20,000"), folder_entries=None,
             file_bytes=Limit(25 * MIB, "25 MiB"), sources=cloudflare),
        Host("cloudflare-pages-paid", "Cloudflare Pages, paid plans", "Cloudflare Pages' paid-plan",
             total_bytes=None, files=Limit(100_000, "100,000"), folder_entries=None,
             file_bytes=Limit(25 * MIB, "25 MiB"), sources=cloudflare),
        Host("netlify", "Netlify", "Netlify's",
             total_bytes=None, files=None, folder_entries=Limit(54_000, "54,000"), file_bytes=None,
             sources=("https://docs.netlify.com/site-deploys/overview/#files-per-directory-limit",)),
        Host("s3", "Object storage (Amazon S3, R2, GCS, MinIO, SeaweedFS)", "object storage's",
             total_bytes=None, files=None, folder_entries=None, file_bytes=Limit(5 * TIB, "5 TiB"),
             sources=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html",)),
    )
    return {host.target: host for host in hosts}


TARGETS = tuple(host_table())  # what [hosting] target accepts, in the table's order


def host_of(target: str) -> Host:
    return host_table()[target]


@dataclass(frozen=True)
class Measure:
    """An output folder in the four numbers hosts limit."""

    total_bytes: int
    files: int
    fullest_folder: str  # relative POSIX path ending in '/', '' for the top
    folder_entries: int  # files and folders directly in it
    largest_file: str  # relative POSIX path ('' when there are no files)
    largest_bytes: int


def measure(folder: Path, files: set[str] | frozenset[str] | None = None) -> Measure:
    """Measure the files under ``folder`` (or the given ones, when the build knows them:
    no need to list the folder again); the tool's marker file counts too (42 bytes)."""
    if files is None:
        sized = list(folder_files(folder))
    else:
        root, sized = str(folder) + os.sep, []
        for name in files:
            try:
                sized.append((name, os.stat(root + name).st_size))
            except OSError:
                pass
    fullest, entries = _fullest_folder(name for name, _ in sized)
    largest = min(sized, key=lambda item: (-item[1], item[0]), default=("", 0))
    return Measure(total_bytes=sum(size for _, size in sized), files=len(sized), fullest_folder=fullest,
                   folder_entries=entries, largest_file=largest[0], largest_bytes=largest[1])


def file_sizes(folder: Path, names) -> dict[str, int]:
    """The sizes of the files among ``names`` (relative paths) that are in ``folder`` now."""
    root, sizes = str(folder) + os.sep, {}
    for name in names:
        try:
            sizes[name] = os.stat(root + name).st_size
        except FileNotFoundError:
            pass
    return sizes


def _fullest_folder(names) -> tuple[str, int]:
    """The folder with the most entries (files and folders) among the files ``names``, and
    how many ('' for the root)."""
    entries: dict[str, int] = {}
    folders: set[str] = set()
    for name in names:
        parent = name.rpartition("/")[0]
        entries[parent] = entries.get(parent, 0) + 1
        while parent and parent not in folders:  # each folder counts once in its parent
            folders.add(parent)
            above = parent.rpartition("/")[0]
            entries[above] = entries.get(above, 0) + 1
            parent = above
    fullest = min(entries.items(), key=lambda item: (-item[1], item[0]), default=("", 0))
    return (fullest[0] + "/" if fullest[0] else ""), fullest[1]


def remeasured(found: Measure, before: dict[str, int], after: dict[str, int],
               files: set[str] | frozenset[str] | None = None) -> Measure | None:
    """``found`` after files changed: ``before`` holds the sizes of the files replaced or
    removed, ``after`` those of the files written (by relative path; a file in one only was
    removed or added). ``files``: every file now, needed when files were added or removed
    (the fullest folder is counted again from their names, without reading a size). None
    when only a new measure can tell (the largest file shrank or went: another may be the
    largest now)."""
    largest_now = after.get(found.largest_file, 0 if found.largest_file in before else found.largest_bytes)
    if largest_now < found.largest_bytes:
        return None
    added, removed = after.keys() - before.keys(), before.keys() - after.keys()
    if (added or removed) and files is None:
        return None
    fullest, entries = _fullest_folder(files) if added or removed else (found.fullest_folder, found.folder_entries)
    largest = min([(found.largest_file, found.largest_bytes), *after.items()], key=lambda item: (-item[1], item[0]))
    return Measure(total_bytes=found.total_bytes + sum(after.values()) - sum(before.values()),
                   files=found.files + len(added) - len(removed), fullest_folder=fullest,
                   folder_entries=entries, largest_file=largest[0], largest_bytes=largest[1])


@dataclass(frozen=True)
class Excess:
    """A measure at or over ``WARN_AT`` of a host's limit."""

    what: str  # 'total_bytes', 'files', 'folder_entries' or 'file_bytes'
    amount: int
    limit: int
    over: bool  # False: close to the limit, not over it
    message: str


def check_limits(host: Host, found: Measure) -> list[Excess]:
    """Every limit of ``host`` that ``found`` is over or close to, each with its message."""
    excesses = []

    def check(what: str, limit: Limit | None, amount: int, describe) -> None:
        if limit is None or amount < limit.amount * WARN_AT:
            return
        over = amount > limit.amount
        verdict = "over" if over else "close to"
        share = f"{amount / limit.amount:.0%} of it"
        excesses.append(Excess(what, amount, limit.amount, over, describe(verdict, limit, share)))

    def too_many(amount: int, limit: int, in_bytes: bool) -> str:
        extra = amount - limit
        return f" by {size_text(extra) if in_bytes else f'{extra:,}'}" if extra > 0 else ""

    check("total_bytes", host.total_bytes, found.total_bytes, lambda verdict, limit, share: (
        f"the site is {found.total_bytes / MIB:,.0f} MB, {verdict} {host.whose} {limit.shown} limit for a "
        f"published site{too_many(found.total_bytes, limit.amount, True)} ({share})"))
    check("files", host.files, found.files, lambda verdict, limit, share: (
        f"the site has {found.files:,} files, {verdict} {host.whose} limit of {limit.shown} files a "
        f"site{too_many(found.files, limit.amount, False)} ({share})"))
    check("folder_entries", host.folder_entries, found.folder_entries, lambda verdict, limit, share: (
        f"the folder {found.fullest_folder or '/'} holds {found.folder_entries:,} files and folders, "
        f"{verdict} {host.whose} limit of {limit.shown} files in one folder"
        f"{too_many(found.folder_entries, limit.amount, False)} ({share})"))
    check("file_bytes", host.file_bytes, found.largest_bytes, lambda verdict, limit, share: (
        f"{found.largest_file} is {size_text(found.largest_bytes)}, {verdict} {host.whose} limit of "
        f"{limit.shown} a file{too_many(found.largest_bytes, limit.amount, True)} ({share})"))
    return excesses


ADVICE = "see docs/deploy.md (host limits) for ways to slim the site down, or a host that takes it"


def hosting_notes(config, found: Measure) -> list[str]:
    """Notes for the build summary: each limit of ``[hosting] target`` the output (as
    ``found``) is over or close to (empty when there is nothing to say)."""
    return [f"{excess.message}; {ADVICE}" for excess in check_limits(host_of(config.hosting.target), found)]


def over_limits(config, output: Path) -> list[Excess]:
    """The limits of ``[hosting] target`` the output is over (``build --strict`` fails on them)."""
    return [excess for excess in check_limits(host_of(config.hosting.target), measure(output)) if excess.over]


def size_note(size: int, limit: int = 0) -> str:
    """A warning when ``size`` bytes approach or pass GitHub Pages' published-size limit."""
    host = host_of("github-pages")
    if limit:
        host = dataclasses.replace(host, total_bytes=Limit(limit, host.total_bytes.shown))
    excesses = check_limits(host, Measure(size, 0, "", 0, "", 0))
    return f"{excesses[0].message}; {ADVICE}" if excesses else ""


def size_text(count: int) -> str:
    """Bytes for people: '812 bytes', '3.4 KiB', '25.0 MiB', '1.20 GiB'."""
    if count < KIB:
        return f"{count:,} bytes"
    if count < MIB:
        return f"{count / KIB:.1f} KiB"
    if count < GIB:
        return f"{count / MIB:.1f} MiB"
    return f"{count / GIB:.2f} GiB"


def files_size(folder: Path, files: set[str]) -> int:
    """Bytes in the given files under ``folder`` (missing ones count nothing)."""
    root, total = str(folder) + os.sep, 0
    for name in files:
        try:
            total += os.stat(root + name).st_size
        except OSError:
            pass
    return total


def local_build_note(config) -> str:
    """For a build summary: without a host in base_url, what must be absolute is left out."""
    if config.origin:
        return ""
    return (f"base_url {config.base_url!r} has no scheme and host (a local build): canonical links, og:url "
            "and robots.txt's Sitemap lines are left out, and feeds and sitemaps carry root-relative URLs; "
            "set base_url (or --base-url) to the published address when you deploy")


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


# ----------------------------------------------------------- content types

MIME_TYPES = {  # what Python's table may not know, and what must be exact
    ".wasm": "application/wasm", ".js": "text/javascript", ".mjs": "text/javascript",
    ".json": "application/json", ".css": "text/css", ".xml": "application/xml",
    ".svg": "image/svg+xml", ".webp": "image/webp", ".avif": "image/avif", ".woff2": "font/woff2",
    ".woff": "font/woff", ".ico": "image/x-icon", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".gif": "image/gif", ".pdf": "application/pdf",
    ".pf_meta": "application/octet-stream", ".pf_fragment": "application/octet-stream",
    ".pf_index": "application/octet-stream", ".pf_filter": "application/octet-stream",
    ".pagefind": "application/octet-stream", ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


@functools.lru_cache(maxsize=1)
def _built_in_types() -> mimetypes.MimeTypes:
    """Python's own table only: the system's /etc/mime.types differs from machine to machine,
    and an object's type must not change with the machine that deploys it. Made on first use
    (it takes milliseconds, and every command imports this module)."""
    return mimetypes.MimeTypes()


def content_type(path: str | Path) -> str:
    """The Content-Type a published file is served with."""
    name = str(path)
    suffix = os.path.splitext(name)[1].lower()
    return MIME_TYPES.get(suffix) or _built_in_types().guess_type(name, strict=False)[0] or "application/octet-stream"


# ------------------------------------------------------------------ base_url


def relative_urls_note(config) -> str:
    """For deploy: a base_url without scheme and host leaves feeds and sitemap without absolute URLs.

    Not a build note: local builds with the default base_url '/' are normal.
    """
    if config.origin:
        return ""
    return (f"base_url {config.base_url!r} has no scheme and host, so feeds, the sitemap and "
            "canonical links carry root-relative URLs, which feed readers and search engines do "
            "not accept; set base_url in site.toml (or pass --base-url) to the address the site is "
            "published at, such as https://user.github.io/repo/")
