"""Content: find every article file under ``content/`` and parse them all.

Problems from every file are collected; duplicate slugs are reported with
both paths. Parsing is per file, so it runs in worker processes and is
cached (see ``builder.cache``) without changing the result.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from builder import workers
from builder.articles import ParseSettings, Parsed, parse_article
from builder.bodies import MemoryBodies
from builder.cache import ArticleRecord, Cache
from builder.model import Article
from builder.problems import Problem
from builder.text import slugify
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


@dataclass(frozen=True)
class Content:
    """Every article parsed (drafts already left out unless asked for)."""

    articles: tuple[Article, ...]  # in path order: what the site publishes
    drafts_left_out: int
    unparsed_slugs: frozenset[str] = frozenset()  # slugs (from file names) of files that failed
    scheduled: tuple[Article, ...] = ()  # dated after now, held back: soonest first

    @property
    def next_due(self) -> dt.datetime | None:
        """When the first scheduled article is due (None when none is)."""
        return self.scheduled[0].date if self.scheduled else None


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
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        found.append(_refused(folder, prefix, f"cannot read this folder: {error.strerror}"))
        return
    ancestors = (*ancestors, (identity, folder))
    folders = []
    for entry in entries:
        if entry.name.startswith(SKIPPED_PREFIXES) or entry.name.endswith(SKIPPED_SUFFIXES):
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
                stat = entry.stat()
                pictures.append((entry.path[prefix:].replace(os.sep, "/"), (stat.st_size, stat.st_mtime_ns)))
        elif kind != "other" or entry.name.lower().endswith(ARTICLE_SUFFIXES):
            found.append(_refused(entry.path, prefix, kind))
    for path in folders:
        _walk(path, prefix, found, ancestors, pictures)


def _kind(entry: os.DirEntry, ancestors: tuple) -> tuple[str, os.stat_result | None]:
    """('folder' | 'file' | 'other' | the reason it is not read, the stat of what it is)."""
    if entry.is_dir(follow_symlinks=False):
        return "folder", None
    if not entry.is_symlink():
        if not entry.name.lower().endswith(ARTICLE_SUFFIXES):
            return "file", None  # an asset: not even a stat
        info = entry.stat()
        return ("file" if stat.S_ISREG(info.st_mode) else _not_regular(info)), info
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
    return (_not_regular(info) if entry.name.lower().endswith(ARTICLE_SUFFIXES) else "other"), info


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _relative(folder: str, ancestors: tuple) -> str:
    """``folder`` as the user types it (from the site folder: content/…)."""
    content = ancestors[0][1]
    return "content" + folder[len(content):].replace(os.sep, "/")


def _not_regular(info: os.stat_result) -> str:
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


@dataclass(frozen=True)
class _Job:
    """One file to parse, with what the cache knows of it."""

    source: SourceFile
    known_sha: str  # sha256 of the bytes the cached article came from ('' if none)


@dataclass(frozen=True)
class Loaded:
    """Every source parsed (or taken from the cache), with the store of their bodies."""

    results: list[tuple[Article | None, tuple[Problem, ...]]]  # one per source, in order
    records: dict[str, ArticleRecord]  # what the cache keeps of each parsed source, by path
    bodies: object  # resolves body digests: the cache's Store, or MemoryBodies without a cache


def load_articles(sources: list[SourceFile], settings: ParseSettings, cache: Cache, jobs: int,
                  advance=None) -> Loaded:
    """Parse every source, reusing cached articles whose file did not change.

    A file whose (size, mtime) matches the cache is not read at all; one whose bytes
    hash to the cached sha256 is not parsed again. With a cache, bodies go to its
    database as they are parsed (in the workers); without one, they come back here.
    """
    records: dict[str, ArticleRecord] = {}
    failed: dict[str, tuple[Problem, ...]] = {}
    pending: list[_Job] = []
    store = cache.checked_store()
    # A cached article is only as good as its body (someone may have pruned the cache).
    bodies_known = cache.body_digests() if store is not None else set()
    for source in sources:
        if source.problem:  # never opened, never cached
            failed[source.path] = (source_problem(source),)
            continue
        record = cache.articles.get(source.path)
        if record is not None and record.article.body_digest not in bodies_known:
            record = None
        if record is not None and record.stat == source.stat:
            records[source.path] = record
        else:
            pending.append(_Job(source, record.sha if record else ""))
    memory = MemoryBodies()
    if pending:
        def parse_chunk(chunk: list[_Job]):
            results = [_parse_job(job, settings) for job in chunk]
            parsed = [(parsed.article.body_digest, parsed.body) for _, parsed in results if parsed.article]
            if store is not None:  # one transaction per chunk, not one per file
                store.add(parsed)
                return [(sha, parsed.article, parsed.problems, None) for sha, parsed in results]
            return [(sha, parsed.article, parsed.problems, parsed.body) for sha, parsed in results]

        for job, (sha, article, problems, body) in zip(pending, workers.run(parse_chunk, pending, jobs, advance)):
            if article is None and not problems:  # same bytes as cached: reuse
                article = cache.articles[job.source.path].article
            if article is None:
                failed[job.source.path] = problems
                continue
            records[job.source.path] = ArticleRecord(job.source.stat, sha, article)
            if body is not None:
                memory.bodies[article.body_digest] = body
    results = [(records[s.path].article, ()) if s.path in records else (None, failed[s.path])
               for s in sources]
    return Loaded(results, records, store if store is not None else memory)


def parse_sources(sources: list[SourceFile], settings: ParseSettings) -> list[tuple[Article | None, tuple[Problem, ...]]]:
    """Parse files in this process, bodies dropped (for tools that need only the articles)."""
    return [(parsed.article, parsed.problems) for parsed in parse_all(sources, settings)]


def parse_all(sources: list[SourceFile], settings: ParseSettings) -> list[Parsed]:
    """Parse files in this process, each with its body (the editorial tools)."""
    return [_parse_job(_Job(source, ""), settings)[1] for source in sources]


class NotRegularFile(OSError):
    """A file found as a regular file that is something else when it is opened."""


def _read(path: str) -> bytes:
    """The bytes of a regular file. Opened without blocking and checked once open: a named
    pipe that took the file's place since the scan must not hang the build."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with open(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(_not_regular(info))
        return handle.read()


def parse_source(source: SourceFile, known_sha: str, settings: ParseSettings) -> tuple[str, Parsed]:
    """(sha, parsed); the Parsed has no article and no problems when the bytes hash to ``known_sha``."""
    return _parse_job(_Job(source, known_sha), settings)


def _parse_job(job: _Job, settings: ParseSettings) -> tuple[str, Parsed]:
    if job.source.problem:
        return "", Parsed(None, "", (source_problem(job.source),))
    try:
        raw = _read(job.source.absolute)
    except NotRegularFile as error:
        return "", Parsed(None, "", (Problem(job.source.path, 0, str(error)),))
    except OSError as error:
        return "", Parsed(None, "", (Problem(job.source.path, 0, f"cannot read this file: {error.strerror}"),))
    sha = hashlib.sha256(raw).hexdigest()
    if sha == job.known_sha:
        return sha, Parsed(None, "")
    return sha, parse_article(job.source.path, raw, settings)


def collect(results: list[tuple[Article | None, tuple[Problem, ...]]], drafts: bool,
            now: dt.datetime | None = None) -> tuple[Content, list[Problem]]:
    """Gather parsed articles, leave out drafts (unless ``drafts``) and articles dated after
    ``now`` (scheduled; all are published when ``now`` is None: --future), and find
    duplicate slugs (scheduled articles included: they will be published)."""
    problems: list[Problem] = []
    articles: list[Article] = []
    left_out = 0
    unparsed: set[str] = set()
    for article, found in results:
        problems.extend(found)
        if article is None:
            if found:
                unparsed.add(slugify(PurePosixPath(found[0].path).stem))
            continue
        if article.draft and not drafts:
            left_out += 1
            continue
        articles.append(article)
    by_slug: dict[str, Article] = {}
    for article in articles:
        other = by_slug.get(article.slug)
        if other is None:
            by_slug[article.slug] = article
        else:
            problems.append(Problem(article.path, 0, f"duplicate slug '{article.slug}': "
                                                     f"also used by {other.path}"))
            problems.append(Problem(other.path, 0, f"duplicate slug '{article.slug}': "
                                                   f"also used by {article.path}"))
    scheduled = tuple(sorted((a for a in articles if now is not None and a.date > now),
                             key=lambda a: (a.date, a.slug)))
    held = {a.path for a in scheduled}
    return Content(articles=tuple(a for a in articles if a.path not in held), drafts_left_out=left_out,
                   unparsed_slugs=frozenset(unparsed), scheduled=scheduled), problems


def site_static(root: Path) -> dict[str, Path]:
    """A site's own static/ folder (images, favicons, CNAME…): copied to the output root as it is."""
    folder = root / "static"
    if not folder.is_dir():
        return {}
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
