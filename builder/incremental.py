"""Incremental: what a build needs to do, decided from the last build's state and the inputs.

Three answers:

- **nothing**: every input and the output folder are as the last build left them;
- **patch**: only a few articles changed, each in fields that change how it is shown
  but not where (builder.model.SHOWN_ONLY): the pages that show them are re-rendered
  from their stored plans (builder.patch);
- **everything**: the whole pipeline runs (unchanged pages are still skipped by
  their fingerprints), with the reason why.

The patch guard allows rather than forbids: an edited article may be patched only
when its planning view (every field but the shown-only ones, including any field
added later) equals the cached article's, and when the pages it reaches, planned
again from their stored plans, refer to the same articles as before. Anything else
takes the whole pipeline.
"""

from __future__ import annotations

import dataclasses
import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from builder.cache import ArticleRecord, Cache
from builder.clock import now
from builder.code import code_fingerprint
from builder.config import SiteConfig
from builder.model import Article, planning_view
from builder.output import scan, unchanged
from builder.parse_settings import ParseSettings
from builder.sources import SourceFile, find_sources, site_static
from builder.state import BuildState
from builder.theme_files import templates_fingerprint
from builder.urls import IMAGE_SUFFIXES

NOTHING, PATCH, EVERYTHING_ = "nothing", "patch", "everything"
MAX_CHANGED_FILES = 20  # beyond this, the whole pipeline is about as quick


@dataclass(frozen=True)
class Inputs:
    """Everything a build reads, hashed, and the output folder as it is now."""

    inputs: str  # hash of the code, settings, templates and options (everything but articles and static files)
    signature: str  # ``inputs`` plus every article and static file's path, size and mtime
    sources: tuple[SourceFile, ...]
    existing: frozenset[str]  # the output folder's files
    folders: dict[str, int]  # the output folder's folder times


def scan_inputs(config: SiteConfig, options, output: Path, state: BuildState | None) -> Inputs:
    """Hash the inputs and look at the output folder (by folder times when it can)."""
    pictures: list = []
    sources = find_sources(config.root, pictures)
    where = output.relative_to(config.root).as_posix() if output.is_relative_to(config.root) else str(output)
    static = site_static(config.root)
    pictures += [(f"static/{name}", _stat(path)) for name, path in static.items()
                 if name.lower().endswith(IMAGE_SUFFIXES)]
    # Static files by name here (one added or removed changes the output's file list),
    # by size and time in the signature (an edited one is copied by a patch); pictures with
    # their size and time here (an edited one changes the resized files of every page
    # that shows it: the whole pipeline, where unchanged pages are still skipped).
    # The favicon's picture by size and time too: the icons are drawn from it.
    icon = None
    if config.favicon.image:
        with contextlib.suppress(OSError):  # a missing picture is the config check's to report
            icon = _stat(config.root / config.favicon.image)
    digest = hashlib.sha256(repr((code_fingerprint(), config.fingerprint(), templates_fingerprint(config.template_dirs),
                                  options.drafts, options.future, config.search.enabled, where,
                                  sorted(static), sorted(pictures), icon)).encode())
    inputs = digest.hexdigest()
    for name, path in sorted(static.items()):
        info = path.stat()
        digest.update(f"static/{name}\0{info.st_size},{info.st_mtime_ns}\n".encode())
    for source in sources:
        digest.update(f"{source.path}\0{source.stat}\n".encode())
    # Listing 13,000 output files takes longer than checking 2,600 folder times.
    if state is not None and unchanged(output, state.output.folder_times):
        existing, folders = state.output.files, state.output.folder_times
    else:
        found, folders = scan(output)
        existing = frozenset(found)
    return Inputs(inputs, digest.hexdigest(), tuple(sources), frozenset(existing), folders)


@dataclass(frozen=True)
class Edit:
    """One changed article file, parsed."""

    source: SourceFile
    sha: str
    before: ArticleRecord
    article: Article  # the new article (the cached one when only the file's time changed)
    body: str  # its new body ('' when unchanged)

    @property
    def record(self) -> ArticleRecord:
        return ArticleRecord(self.source.stat, self.sha, self.article)


@dataclass(frozen=True)
class Work:
    """What this build must do."""

    kind: str  # NOTHING, PATCH or EVERYTHING_
    reason: str = ""  # why the whole pipeline runs
    edits: tuple[Edit, ...] = ()  # for a patch
    # For a patch: (output, stored fingerprint, the slugs it refers to) of each page to redo.
    reached: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    touched: tuple[tuple[str, tuple[int, int]], ...] = ()  # files with new times and the same bytes: (path, stat)


def everything(reason: str) -> Work:
    return Work(EVERYTHING_, reason)


def decide(state: BuildState | None, inputs: Inputs, cache: Cache, config: SiteConfig, options) -> Work:
    """Nothing, a patch or everything (see the module docstring)."""
    search = config.search.enabled
    if state is None:
        return everything("no earlier build in the cache")
    if state.inputs != inputs.inputs:
        return everything("the code, settings, templates, pictures or options changed")
    if inputs.existing != state.output.files:
        return everything("the output folder changed")
    if search and options.index_search and state.search_index.behind:
        return everything("the search index is behind the pages")
    if state.next_due and not options.future and now().isoformat() >= state.next_due:
        return everything(f"a scheduled article is due (since {state.next_due})")
    if state.changes_at and now().isoformat() >= state.changes_at:
        return everything(f"the news sitemap's window moved on (since {state.changes_at})")
    if state.signature == inputs.signature:
        return Work(NOTHING)
    store = cache.checked_store()
    if store is None:
        return everything("no cache")
    known = store.sources()
    paths = {source.path for source in inputs.sources}
    if len(known) != len(paths) or not paths <= known.keys():
        return everything("articles were added or removed")
    # A file with a new size or time may hold the bytes the cache parsed (a fresh checkout,
    # a cache restored by CI): its hash tells, and only the others are edits.
    if any(source.problem for source in inputs.sources):
        return everything("a file has problems")  # never opened here (it may be a named pipe)
    moved = [s for s in inputs.sources if known[s.path][0] != s.stat]
    changed, touched = [], []
    for source in moved:
        (touched if file_sha(source) == known[source.path][1] else changed).append(source)
        if len(changed) > MAX_CHANGED_FILES:
            return everything("many files changed")
    before = store.articles_at([s.path for s in changed])
    from builder.content import parse_source  # only now: a no-op never loads the parsers
    settings = ParseSettings.from_config(config)
    edits = []
    for source in changed:
        old = before.get(source.path)
        if old is None:
            return everything("an article is missing from the cache")
        sha, parsed = parse_source(source, old.sha, settings)
        if parsed.problems:
            return everything("a file has problems")  # the whole pipeline reports them all
        if parsed.article is None:  # the same bytes with a new time
            edits.append(Edit(source, sha, old, old.article, ""))
            continue
        difference = planning_difference(old.article, parsed.article)
        if difference:
            return everything(f"the archive's shape changed ({difference} of {source.path})")
        edits.append(Edit(source, sha, old, parsed.article, parsed.body))
    if search and options.index_search and any(e.article is not e.before.article for e in edits):
        return everything("an edited article's search shard is indexed again")
    work = _reached(edits, store, options.drafts)
    return dataclasses.replace(work, touched=tuple((s.path, s.stat) for s in touched)) if work.kind == PATCH else work


def _stat(path) -> tuple[int, int]:
    info = path.stat()
    return (info.st_size, info.st_mtime_ns)


def file_sha(source: SourceFile) -> str:
    """The sha256 of a source file's bytes ('' when it cannot be read: the parse says why)."""
    try:
        with open(source.absolute, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""


def planning_difference(before: Article, after: Article) -> str:
    """The fields (comma-separated) in which two articles differ other than how they are shown."""
    old, new = planning_view(before), planning_view(after)
    if old == new:
        return ""
    return ", ".join(f.name for f in dataclasses.fields(after) if getattr(old, f.name) != getattr(new, f.name))


def _reached(edits: list[Edit], store, drafts: bool) -> Work:
    """The patch: the stored pages that show an edited article."""
    cards: set[str] = set()  # slugs whose card changed: every page showing them
    texts: set[str] = set()  # slugs whose body changed: pages showing bodies
    for edit in edits:
        if edit.article.draft and not drafts:
            continue  # in no page (and its slug may be a published article's)
        if edit.article.card != edit.before.article.card:
            cards.add(edit.article.slug)
        if edit.article.body_digest != edit.before.article.body_digest:
            texts.add(edit.article.slug)
    from builder.fingerprints import EVERYTHING  # only now: it loads the archive model
    reached = []
    for output, full, keys, fingerprint in store.pages_with(sorted(cards | texts) + [EVERYTHING]):
        if EVERYTHING in keys and (cards or (full and texts)):
            return everything("a page reads the whole archive")
        if set(keys) & (cards | (texts if full else set())):
            reached.append((output, fingerprint, keys))
    return Work(PATCH, edits=tuple(edits), reached=tuple(sorted(reached)))
