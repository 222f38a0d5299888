"""State: what a successful build leaves for the next one to compare against.

Small and typed: a no-op rebuild reads only this (builder.cache keeps it in
``state.pickle``, under FORMAT and the cache key). The rows it vouches for —
parsed articles, bodies, page fingerprints and plans — are in the cache's database.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.hosting import Measure
from builder.topics import Topic

FORMAT = 11  # of the state file and the database rows; a cache in another format is discarded


@dataclass(frozen=True)
class TemplateFacts:
    """What the analysis of the templates found (reused while they are unchanged)."""

    fingerprint: str  # hash of every template and theme static file
    archive_templates: frozenset[str]  # templates that read the whole archive (the global ``archive``)
    body_templates: frozenset[str]  # templates that show article bodies


@dataclass(frozen=True)
class OutputListing:
    """The output folder as the build left it."""

    files: frozenset[str]  # every file, relative POSIX paths
    folders: tuple[tuple[str, int], ...]  # every folder's (relative path, mtime_ns), sorted
    measure: Measure | None = None  # its size in the numbers hosts limit, once a build measured it

    @property
    def folder_times(self) -> dict[str, int]:
        return dict(self.folders)


@dataclass(frozen=True)
class Counts:
    """The figures of the build summary."""

    articles: int  # published in this build
    pages: int  # planned (static files and the search index not counted)
    drafts_left_out: int  # articles marked draft, left out
    scheduled: int = 0  # articles dated after now, held back


@dataclass(frozen=True)
class Sections:
    """Which of the optional sections the site has: every page's navigation and footer
    link to them (the template global ``sections``)."""

    authors: bool = False  # /authors/
    stories: bool = False  # /stories/
    corrections: bool = False  # /corrections/


@dataclass(frozen=True)
class SearchIndexState:
    """The search index in the output, shard by shard (builder.search)."""

    shards: tuple[tuple[str, str], ...] = ()  # (shard name, key it was made from), by name; key '' when
    # the shard is behind the pages (or was removed from the plan and is still in the output)

    @property
    def behind(self) -> bool:
        """Some shard is not what its pages would make: a build that indexes must redo it."""
        return any(not key for _, key in self.shards)

    def keys(self) -> dict[str, str]:
        return dict(self.shards)


@dataclass(frozen=True)
class BuildState:
    """The last successful build, for the next build's decision (builder.incremental)."""

    inputs: str  # hash of every input but the article files (code, config, templates, static files, options)
    signature: str  # ``inputs`` plus every article file's path, size and mtime
    output: OutputListing  # the output folder as this build left it
    templates: TemplateFacts  # what the templates read (reused while they are unchanged)
    topics: tuple[Topic, ...]  # every topic under its canonical name (a patch keeps them)
    counts: Counts  # for the summary of a build that has nothing to do
    search_index: SearchIndexState = SearchIndexState()  # each shard's key (none: no index)
    next_due: str = ""  # when the first scheduled article is due, ISO 8601 in UTC ('' when none)
    sections: Sections = Sections()  # the optional sections every page links to (builder.pages)
    changes_at: str = ""  # when the clock alone next changes the output (a scheduled article, the news sitemap)
