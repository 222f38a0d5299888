"""Content: find every article file under ``content/`` and parse them all.

Problems from every file are collected; duplicate slugs are reported with
both paths. Parsing is per file, so it runs in worker processes and is
cached (see ``builder.cache``) without changing the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from builder.articles import Article, ParseSettings, parse_article
from builder.problems import Problem

ARTICLE_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class SourceFile:
    """An article file found on disk."""

    path: str  # relative to the site folder, POSIX separators
    absolute: Path
    stat: tuple[int, int]  # (size, mtime_ns): cheap change detection


@dataclass(frozen=True)
class Content:
    """Every article parsed (drafts already left out unless asked for)."""

    articles: tuple[Article, ...]  # in path order
    drafts_left_out: int


def find_sources(root: Path) -> list[SourceFile]:
    """Article files under ``root/content`` in a stable order (hidden files skipped)."""
    content = root / "content"
    found: list[SourceFile] = []
    for folder, subfolders, files in os.walk(content):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.endswith(ARTICLE_SUFFIXES) and not name.startswith((".", "_", "#")) \
                    and not name.endswith("~"):
                absolute = Path(folder) / name
                info = absolute.stat()
                found.append(SourceFile(path=absolute.relative_to(root).as_posix(),
                                        absolute=absolute, stat=(info.st_size, info.st_mtime_ns)))
    return found


def parse_sources(sources: list[SourceFile], settings: ParseSettings) -> list[tuple[Article | None, list[Problem]]]:
    """Parse files in this process (the unit of work for a worker process)."""
    results = []
    for source in sources:
        try:
            raw = source.absolute.read_bytes()
        except OSError as error:
            results.append((None, [Problem(source.path, 0, f"cannot read: {error.strerror}")]))
            continue
        results.append(parse_article(source.path, raw, settings))
    return results


def collect(results: list[tuple[Article | None, list[Problem]]], drafts: bool) -> tuple[Content, list[Problem]]:
    """Gather parsed articles, leave out drafts, and find duplicate slugs."""
    problems: list[Problem] = []
    articles: list[Article] = []
    left_out = 0
    for article, found in results:
        problems.extend(found)
        if article is None:
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
    return Content(articles=tuple(articles), drafts_left_out=left_out), problems
