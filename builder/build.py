"""The build pipeline, top to bottom:

    load_config → scan → load_content → build_archive → plan_pages
                → fingerprint and render (workers) → stage → index → swap → save

``scan`` may end a build early: when no input changed there is nothing to do,
and when only articles changed without changing the archive's shape, only the
pages that show them are rebuilt (builder.patch). ``check`` runs the full
pipeline without staging or swapping anything.
"""

from __future__ import annotations

import contextlib
import gc
import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from builder import __version__
from builder.archive import Archive, build_archive
from builder.articles import ParseSettings
from builder.config import SiteConfig, load_config
from builder.console import plural
from builder import workers
from builder.cache import Cache
from builder.content import Content, SourceFile, collect, find_sources, load_articles
from builder.feeds import plan_feeds
from builder.fingerprints import Fingerprinter
from builder.hosting import hosting_notes
from builder.interrupts import interrupts_held
from builder.output import (MARKER, check_output_folder, scan, snapshot, start_staging, touched,
                            transaction, unchanged)
from builder.output import recover
from builder.pages import Page, plan_pages
from builder.patch import PatchRefused, patch
from builder.problems import Problem, raise_if_any
from builder.render import Renderer
from builder.search import drop_index, index_site, keep_index, pagefind_version
from builder.sitemap import plan_sitemap
from builder.templates import (check_templates, make_environment, make_helpers, static_files,
                               templates_fingerprint, templates_using)
from builder.urls import Urls

SEARCH_FOLDER = "pagefind/"  # written by the search step, not by page rendering


@dataclass(frozen=True)
class BuildOptions:
    """What the command line asked for."""

    site: Path = Path(".")
    drafts: bool = False
    base_url: str | None = None
    out: Path | None = None
    search: bool = True  # False: --no-search
    write: bool = True  # False: check only
    cache: bool = True  # False: --no-cache
    index_search: bool = True  # False: keep the current index (serve refreshes it afterwards)
    jobs: int = 0  # worker processes; 0: one per core
    incremental: bool = True  # False: run every step even when nothing or one article changed


@dataclass
class BuildResult:
    """What a build did, for the summary line and the tests."""

    articles: int = 0
    pages: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    drafts_left_out: int = 0
    output: Path | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)
    plan: tuple | None = None  # (config, pages) of a written build, for refresh_search
    rendered: int = 0  # pages whose fingerprint changed (rendered and compared with the output)
    patched: bool = False  # only the pages an edit reaches were rebuilt (builder.patch)
    full_because: str = ""  # why a rebuild could not be patched (serve logs it)
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(t for _, t in self.timings)

    def summary(self) -> str:
        steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.timings)
        return (f"built {plural(self.pages, 'page')} from {plural(self.articles, 'article')} in {self.seconds:.2f}s "
                f"({self.rendered:,} rendered, {self.written:,} written, {self.unchanged:,} unchanged, "
                f"{self.removed:,} removed; {steps})")


class Timer:
    """Times named steps and tells ``progress`` (a builder.console.Progress) of each."""

    def __init__(self, result: BuildResult, progress=None):
        self.result = result
        self.progress = progress

    @contextlib.contextmanager
    def step(self, name: str, total: int = 0):
        start = time.perf_counter()
        if self.progress:
            self.progress.start(name, total)
        yield
        seconds = time.perf_counter() - start
        self.result.timings.append((name, seconds))
        if self.progress:
            self.progress.end(name, seconds)

    def advance(self, count: int) -> None:
        """``count`` more items of the current step are done (from the workers' results)."""
        if self.progress:
            self.progress.advance(count)


def load_content(config: SiteConfig, drafts: bool, cache: Cache | None = None, jobs: int = 1,
                 sources: list[SourceFile] | None = None, advance=None) -> tuple[Content, list[Problem], dict]:
    """Parse every article (reusing the cache); also return the new cache records."""
    settings = ParseSettings.from_config(config)
    if not config.content_dir.is_dir():
        return Content((), 0), [_no_content(config)], {}
    own_cache = cache is None
    cache = cache or Cache.throwaway(cache_key(config))
    try:
        sources = find_sources(config.root) if sources is None else sources
        results, records = load_articles(sources, settings, cache, jobs, advance)
        if own_cache:  # nobody will read the bodies later: bring them into memory
            results = [(dataclasses.replace(a, body=a.body_html) if a else None, p) for a, p in results]
    finally:
        if own_cache:
            cache.close()
    content, problems = collect(results, drafts)
    return content, problems, records


def _no_content(config: SiteConfig) -> Problem:
    return Problem(str(config.content_dir), 0, "no such folder: a site keeps its articles in content/ "
                                               "(create it, or start a site with builder init)")


def cache_key(config: SiteConfig) -> str:
    return f"{__version__}:{ParseSettings.from_config(config).fingerprint()}"


def site_globals(config: SiteConfig, archive: Archive, urls: Urls, assets: dict[str, Path]) -> dict:
    """Variables every template sees (documented in the README)."""
    versions = {name: hashlib.sha256(path.read_bytes()).hexdigest()[:10] for name, path in assets.items()}

    def asset(name: str) -> str:
        return urls.asset(name, versions.get(name, ""))

    return {"site": config, "archive": archive, "url": urls, "asset": asset,
            "builder_version": __version__, **make_helpers(urls)}


def build(options: BuildOptions, progress=None, cache: Cache | None = None) -> BuildResult:
    """Build the site (or only check it); raise BuildFailed with every problem found.

    ``cache``: a Cache kept by the caller across builds (serve); by default the
    build opens the site's cache folder (or a throwaway one with --no-cache).
    """
    result = BuildResult()
    timer = Timer(result, progress)
    with timer.step("config"):
        config = load_config(options.site, options.base_url)
        if not options.search:  # pages must not link to a /search/ this build leaves out
            config = dataclasses.replace(config, search=dataclasses.replace(config.search, enabled=False))
        output = (options.out.resolve() if options.out else config.output_dir)
        if options.write:
            check_output_folder(output, config.root)
        result.notes += recover(output)  # a build stopped while it wrote the output is finished first
        jobs = options.jobs or workers.default_jobs()
        own_cache = cache is None
        if not own_cache:
            cache.rekey(cache_key(config))
        elif options.cache and options.write:
            cache = Cache.open(config.cache_dir, cache_key(config))
        else:
            cache = Cache.throwaway(cache_key(config))
    try:
        with _collector_paused():
            _build(options, config, output, cache, jobs, result, timer)
        if options.write and own_cache:  # once per build command, not on each of serve's rebuilds
            result.notes += hosting_notes(config, output, cache.state.get("files"))
        return result
    finally:
        result.notes += cache.notes
        cache.notes.clear()
        if own_cache:
            cache.close()


@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cycle collector for a build.

    A build allocates millions of objects that live until it ends (articles, the
    archive, pages) and makes almost no reference cycles; the collector would scan
    them again and again as they pile up — a third of the time at 100,000 articles.
    Whatever cycles a build leaves are collected when the collector runs again after
    it (serve's next idle moment, or the process exit).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def input_signature(config: SiteConfig, options: BuildOptions, sources: list[SourceFile],
                    output: Path, templates: str, site_static: dict[str, Path]) -> tuple[str, str]:
    """Hashes of every input of a build: (everything but the articles, everything).

    When the second and the output's file list match the last build's, there is
    nothing to do; when only the first does, the edit may be patched in."""
    # Whether this build indexes for search is not an input: the state's index key
    # tells whether the index on disk is current (see _build).
    digest = hashlib.sha256(repr((__version__, config.fingerprint(), templates, options.drafts,
                                  options.search and config.search.enabled, str(output))).encode())
    for name, path in sorted(site_static.items()):
        info = path.stat()
        digest.update(f"static/{name}\0{info.st_size},{info.st_mtime_ns}\n".encode())
    inputs = digest.hexdigest()
    for source in sources:
        digest.update(f"{source.path}\0{source.stat}\n".encode())
    return inputs, digest.hexdigest()


def _build(options, config, output, cache, jobs, result, timer) -> BuildResult:
    with timer.step("scan"):
        if not config.content_dir.is_dir():
            raise_if_any([_no_content(config)])
        sources = find_sources(config.root)
        templates = templates_fingerprint(config.template_dirs)
        site_static = _site_static(config)
        inputs, signature = input_signature(config, options, sources, output, templates, site_static)
        state = cache.state
        existing, folders = set(), {}
        if options.write:
            # Listing 13,000 output files takes longer than checking 2,600 folder times.
            if unchanged(output, state.get("folders")):
                existing, folders = state["files"], state["folders"]
            else:
                existing, folders = scan(output)
        stale_index = options.search and config.search.enabled and options.index_search \
            and not state.get("index_key")
        if options.write and options.incremental and state.get("signature") == signature \
                and existing == state.get("files") and not stale_index:
            if folders != state.get("folders"):
                cache.save_state(dict(state, folders=folders))
            result.articles, result.pages, result.drafts_left_out = state["counts"]
            result.unchanged, result.output = len(state["files"]), output
            return result
    if options.write and not state:
        result.full_because = "no earlier build in the cache"
    elif options.write and state.get("inputs") != inputs:
        result.full_because = "settings, templates or static files changed"
    elif options.write and existing != state.get("files"):
        result.full_because = "the output folder changed"
    elif options.write and options.incremental:
        with timer.step("patch"):
            patched = _try_patch(options, config, output, cache, sources, signature, templates, folders,
                                 result)
        if patched:
            return result
    with timer.step("content", len(sources)):
        cache.load_records()
        content, problems, records = load_content(config, options.drafts, cache, jobs, sources, timer.advance)
        result.articles = len(content.articles)
        result.drafts_left_out = content.drafts_left_out
    with timer.step("archive"):
        memo = cache.archive_memo()
        memo_before = dict(memo)
        archive, archive_problems = build_archive(content.articles, memo, content.unparsed_slugs)
        problems += archive_problems
        urls = Urls(config.base_path, config.origin)
        search = options.search and config.search.enabled
        pages = plan_pages(archive, urls, config.page_size, search)
        pages += plan_feeds(archive, urls, config.feeds.size)
        pages += plan_sitemap(pages, archive, urls)
        env = make_environment(config.template_dirs, cache.compiled)
        # Compiling and analysing every template costs a third of a second: when they are
        # the ones the last successful build used, what it learned still holds.
        template_facts = state.get("template_facts")
        if template_facts is None or template_facts[0] != templates:
            template_problems = check_templates(env, config.template_dirs)
            problems += template_problems
            if not template_problems:
                template_facts = (templates, templates_using(env, "archive", as_global=True),
                                  templates_using(env, "body_html"))
    raise_if_any(problems)
    result.pages = len(pages)

    assets = static_files(config.template_dirs)
    renderer = Renderer(env, site_globals(config, archive, urls, assets), config.template_dirs)
    fingerprinter = (Fingerprinter(_fingerprint_base(config, templates), archive, template_facts[1],
                                   template_facts[2]) if options.write else None)
    staging = start_staging(output) if options.write else None
    with contextlib.ExitStack() as stack, transaction(staging) as apply:
        with timer.step("render", len(pages)):
            changed, records_of, rendered = _render(pages, renderer, staging, jobs, fingerprinter,
                                                    cache.pages, existing, timer.advance)
            result.rendered = len(rendered)
            extra = {f"static/{name}": path for name, path in assets.items()}
            extra.update(site_static)
            if staging:
                changed += [name for name, path in extra.items() if staging.write(name, path.read_bytes())]
        if not options.write:
            return result
        index = drop_index(existing)
        index_key = search_index_key(config, pages)
        if search and (not options.index_search or _index_is_current(
                index_key, state, pages, changed, existing)):
            index = keep_index(existing)
        elif search:
            with timer.step("search"):
                index = index_site(config, pages, staging, existing)
        held = stack.enter_context(interrupts_held())
        with timer.step("write"):
            wanted = {page.output for page in pages} | set(extra) | {MARKER}
            removed = sorted(f for f in existing - wanted if not f.startswith(SEARCH_FOLDER)) + index.removed
            apply(sorted(changed + index.changed), removed)
        held.check()  # Ctrl-C while files moved: roll them back (the cache is not saved yet)
        result.written, result.removed = len(changed) + len(index.changed), len(removed)
        result.unchanged = len(pages) + len(extra) - len(changed) + index.unchanged
        result.output = output
        result.plan = (config, pages)
        if changed or removed or index.changed or folders != state.get("folders"):
            files = (existing - set(removed)) | set(changed) | set(index.changed) | {MARKER}
            folders = snapshot(output, files)
        else:
            files = existing
        indexed_changed = search and any(pages[i].indexed and pages[i].output in changed for i in rendered)
        with timer.step("save"):
            cache.save(records, records_of,
                       {"signature": signature, "inputs": inputs, "files": files, "folders": folders,
                        "index_key": index_key if options.index_search else
                        (None if indexed_changed else state.get("index_key")),
                        "template_facts": template_facts, "topics": _canonical_topics(archive),
                        "counts": (result.articles, result.pages, result.drafts_left_out)},
                       archive_memo=memo if memo != memo_before else None)
    return result


def _fingerprint_base(config: SiteConfig, templates: str) -> str:
    """What every page's fingerprint covers besides the page: builder, configuration, templates."""
    return "|".join((__version__, config.fingerprint(), templates))


def _canonical_topics(archive: Archive) -> dict:
    """Topic key -> the Topic as the archive names it (for builder.patch)."""
    return {t.key: t for a in archive.articles for t in a.topics}


def _try_patch(options, config, output, cache, sources, signature, templates, folders, result) -> bool:
    """Rebuild only the pages an article edit reaches (builder.patch); False when the
    full pipeline must run instead."""
    state = cache.state
    facts = state.get("template_facts")
    search = options.search and config.search.enabled
    if facts is None or facts[0] != templates or "topics" not in state:
        result.full_because = "templates changed"
        return False
    if search and options.index_search:
        result.full_because = "the search index is rebuilt"
        return False  # a build that indexes pages for search goes the whole way

    def make_renderer():
        urls = Urls(config.base_path, config.origin)
        env = make_environment(config.template_dirs, cache.compiled)
        assets = static_files(config.template_dirs)
        return Renderer(env, site_globals(config, None, urls, assets), config.template_dirs)

    try:
        done = patch(sources, ParseSettings.from_config(config), cache, output, make_renderer,
                     _fingerprint_base(config, templates), facts, state["topics"], options.drafts)
    except PatchRefused as refused:
        result.full_because = str(refused)
        return False
    indexed_changed = search and done.indexed_changed
    new_state = dict(state, signature=signature, folders=touched(output, folders, done.changed))
    if indexed_changed:
        new_state["index_key"] = None  # the index no longer matches the pages
    cache.save(done.articles, done.pages, new_state, complete=False)
    result.articles, result.pages, result.drafts_left_out = state["counts"]
    result.rendered, result.written = done.rendered, len(done.changed)
    result.unchanged = len(state["files"]) - len(done.changed)
    result.output = output
    result.patched = True
    return True


def search_index_key(config: SiteConfig, pages: list[Page]) -> str:
    """What the search index depends on besides the bytes of the indexed pages."""
    indexed = [page.output for page in pages if page.indexed]
    return hashlib.sha256(repr((indexed, config.search, config.base_path, pagefind_version())).encode()).hexdigest()


def _index_is_current(key: str, state: dict, pages: list[Page], changed: list[str], existing: set[str]) -> bool:
    """True when the last index was made from exactly these indexed pages, none of which
    changed: re-running Pagefind (20 s at 10,000 articles) would write the same bytes."""
    if state.get("index_key") != key or not any(f.startswith(SEARCH_FOLDER) for f in existing):
        return False
    indexed = {page.output for page in pages if page.indexed}
    return not indexed.intersection(changed)


def refresh_search(result: "BuildResult", cache: Cache, guard=None) -> int:
    """Index a site built with ``index_search=False`` (serve, after the reload): stage the
    index beside the output and apply it; return how many index files changed.

    ``guard``: a context manager held only while the output changes (serve makes
    requests wait then), not while Pagefind runs.
    """
    config, pages = result.plan
    output = result.output
    existing, _ = scan(output)
    staging = start_staging(output)
    with transaction(staging) as apply:
        index = index_site(config, pages, staging, existing)
        with guard or contextlib.nullcontext():
            apply(sorted(index.changed), index.removed)
    state = dict(cache.state)
    if "files" in state:
        state["files"], state["folders"] = scan(output)
        state["index_key"] = search_index_key(config, pages)
        cache.save_state(state)
    return len(index.changed) + len(index.removed)


def _render(pages: list[Page], renderer: Renderer, staging, jobs: int, fingerprinter: Fingerprinter | None,
            known: dict[str, str], existing: set[str], advance=None) -> tuple[list[str], dict, list[int]]:
    """Fingerprint every page and render those whose fingerprint changed or whose file is
    missing, in worker processes when many (both steps are per page, so both spread).

    Returns the changed output files, each page's PageRecord (or only its fingerprint
    when the cache has it already) and the numbers of the rendered pages. Without a
    fingerprinter (``check``), every page is rendered and nothing is returned for the cache.
    """
    def render_chunk(chunk: list[int]):
        results = []
        for index in chunk:
            page = pages[index]
            record = fingerprinter.page(page) if fingerprinter else None
            if record is not None and known.get(page.output) == record.fingerprint and page.output in existing:
                results.append((index, record.fingerprint, False))
                continue
            data = renderer.render(page)
            written = data is not None and staging is not None and staging.write(page.output, data)
            results.append((index, record, written))
        return results + list(renderer.problems.values())

    outcome = workers.run(render_chunk, list(range(len(pages))), jobs, advance)
    # One broken template line is one problem, however many pages (and workers) hit it.
    problems = {(p.path, p.line, p.message.split(":", 1)[-1]): p for p in outcome if isinstance(p, Problem)}
    raise_if_any(list(problems.values()))
    changed, records, rendered = [], {}, []
    for index, record, written in (item for item in outcome if not isinstance(item, Problem)):
        if written:
            changed.append(pages[index].output)
        if not isinstance(record, str):
            rendered.append(index)
        if record is not None:
            records[pages[index].output] = record
    return changed, records, rendered


def _site_static(config: SiteConfig) -> dict[str, Path]:
    """A site's own static/ folder (images, favicons, CNAME…) is copied to the output root."""
    folder = config.root / "static"
    if not folder.is_dir():
        return {}
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
