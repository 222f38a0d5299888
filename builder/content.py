"""Content: find every article file under ``content/`` and parse them all.

Problems from every file are collected; duplicate slugs are reported with
both paths. Parsing is per file, so it runs in worker processes and is
cached (see ``builder.cache``) without changing the result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from builder import workers
from builder.articles import Article, BodyRef, ParseSettings, parse_article
from builder.cache import ArticleRecord, Cache, Store
from builder.problems import Problem
from builder.text import slugify

ARTICLE_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class SourceFile:
    """An article file found on disk."""

    path: str  # relative to the site folder, POSIX separators
    absolute: str  # a plain string: Path objects for 100,000 files cost a quarter second
    stat: tuple[int, int]  # (size, mtime_ns): cheap change detection


@dataclass(frozen=True)
class Content:
    """Every article parsed (drafts already left out unless asked for)."""

    articles: tuple[Article, ...]  # in path order
    drafts_left_out: int
    unparsed_slugs: frozenset[str] = frozenset()  # slugs (from file names) of files that failed


def find_sources(root: Path) -> list[SourceFile]:
    """Article files under ``root/content`` in a stable order (hidden files skipped)."""
    content = root / "content"
    found: list[SourceFile] = []
    prefix = len(str(root)) + 1
    # Plain strings and os.stat: this runs over every file on every build.
    for folder, subfolders, files in os.walk(content):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.endswith(ARTICLE_SUFFIXES) and not name.startswith((".", "_", "#")) \
                    and not name.endswith("~"):
                absolute = os.path.join(folder, name)
                info = os.stat(absolute)
                found.append(SourceFile(path=absolute[prefix:].replace(os.sep, "/"),
                                        absolute=absolute, stat=(info.st_size, info.st_mtime_ns)))
    return found


@dataclass(frozen=True)
class _Job:
    """One file to parse, with what the cache knows of it."""

    source: SourceFile
    known_sha: str  # sha256 of the bytes the cached article came from ('' if none)


def load_articles(sources: list[SourceFile], settings: ParseSettings, cache: Cache,
                  jobs: int, advance=None) -> tuple[list[tuple[Article | None, list[Problem]]], dict[str, ArticleRecord]]:
    """Parse every source, reusing cached articles whose file did not change.

    A file whose (size, mtime) matches the cache is not read at all; one
    whose bytes hash to the cached sha256 is not parsed again.
    """
    records: dict[str, ArticleRecord] = {}
    failed: dict[str, list[Problem]] = {}
    pending: list[_Job] = []
    # A cached article is only as good as its body file (someone may have pruned the cache).
    bodies = cache.body_digests()
    for source in sources:
        record = cache.articles.get(source.path)
        if record is not None and record.article.digest not in bodies:
            record = None
        if record is not None and record.stat == source.stat:
            records[source.path] = record
        else:
            pending.append(_Job(source, record.sha if record else ""))
    if pending:
        def parse_chunk(chunk: list[_Job]):
            results = [_parse_job(job, settings) for job in chunk]
            # Bodies go to the store in one transaction per chunk, not one file each.
            store = Store.at(cache.database)
            store.add([(a.digest, a.body) for _, a, _ in results if a is not None])
            return [(sha, dataclasses.replace(a, body=BodyRef(cache.database, a.digest)) if a else None, p)
                    for sha, a, p in results]
        for job, (sha, article, problems) in zip(pending, workers.run(parse_chunk, pending, jobs, advance)):
            if article is None and not problems:  # same bytes as cached: reuse
                article = cache.articles[job.source.path].article
            if article is None:
                failed[job.source.path] = problems
            else:
                records[job.source.path] = ArticleRecord(job.source.stat, sha, article)
    results = [(records[s.path].article, []) if s.path in records else (None, failed[s.path])
               for s in sources]
    return results, records


def parse_sources(sources: list[SourceFile], settings: ParseSettings) -> list[tuple[Article | None, list[Problem]]]:
    """Parse files in this process, bodies kept in memory (for tools that need no cache)."""
    return [_parse_job(_Job(source, ""), settings)[1:] for source in sources]


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _parse_job(job: _Job, settings: ParseSettings):
    """(sha, article, problems); (sha, None, []) when the cache has these bytes parsed."""
    try:
        raw = _read(job.source.absolute)
    except OSError as error:
        return "", None, [Problem(job.source.path, 0, f"cannot read: {error.strerror}")]
    sha = hashlib.sha256(raw).hexdigest()
    if sha == job.known_sha:
        return sha, None, []
    article, problems = parse_article(job.source.path, raw, settings)
    return sha, article, problems


def collect(results: list[tuple[Article | None, list[Problem]]], drafts: bool) -> tuple[Content, list[Problem]]:
    """Gather parsed articles, leave out drafts, and find duplicate slugs."""
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
    return Content(articles=tuple(articles), drafts_left_out=left_out,
                   unparsed_slugs=frozenset(unparsed)), problems
