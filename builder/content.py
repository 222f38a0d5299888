"""Content: parse every article file found under ``content/`` (builder.sources finds them).

Problems from every file are collected; duplicate slugs are reported with
both paths. Parsing is per file, so it runs in worker processes and is
cached (see ``builder.cache``) without changing the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import stat
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from builder import workers
from builder.articles import ParseSettings, Parsed, parse_article
from builder.bodies import MemoryBodies
from builder.cache import ArticleRecord, Cache, row_of
from builder.model import Article
from builder.problems import Problem
from builder.sources import SourceFile, not_regular, source_problem
from builder.text import slugify

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
    rows: dict[str, bytes] = field(default_factory=dict)  # newly parsed articles as the cache's rows hold them


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
    rows: dict[str, bytes] = {}
    parent = os.getpid()
    if pending:
        def parse_chunk(chunk: list[_Job]):
            results = [_parse_job(job, settings) for job in chunk]
            parsed = [(parsed.article.body_digest, parsed.body) for _, parsed in results if parsed.article]
            if store is not None:  # one transaction per chunk, not one per file
                store.add(parsed)
                if os.getpid() != parent:
                    # A worker's articles cross to the parent pickled anyway: pickled as the
                    # cache's rows keep them, the parent's save need not pickle them again.
                    return [(sha, parsed.article and row_of(parsed.article), parsed.problems, None)
                            for sha, parsed in results]
                return [(sha, parsed.article, parsed.problems, None) for sha, parsed in results]
            return [(sha, parsed.article, parsed.problems, parsed.body) for sha, parsed in results]

        for job, (sha, article, problems, body) in zip(pending, workers.run(parse_chunk, pending, jobs, advance)):
            if isinstance(article, bytes):
                rows[job.source.path] = article
                article = pickle.loads(article)
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
    return Loaded(results, records, store if store is not None else memory, rows)


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
            raise NotRegularFile(not_regular(info))
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
