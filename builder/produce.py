"""Produce: turn a loaded Site into files — render, index for search, write, save.

Pages whose fingerprint matches the last build's (and whose file is still in the
output) are not rendered again; of those rendered, only the ones whose bytes
changed are staged. The search index is made from the new version of every
article page. Nothing in ``output/`` changes until all of it succeeded; then one
transaction moves the staged files in (builder.output) and the cache saves what
this build learned. ``check`` produces into a scratch folder and applies nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from builder import __version__, workers
from builder.cache import Cache, PageRecord
from builder.code import code_fingerprint
from builder.config import SiteConfig
from builder.sources import site_static
from builder.fingerprints import Fingerprinter
from builder.hosting import file_sizes, remeasured
from builder.incremental import Inputs
from builder.interrupts import interrupts_held
from builder.pages import sections_of
from builder.output import MARKER, Staging, snapshot, start_staging, transaction
from builder.pipeline import Site
from builder.problems import Problem, raise_if_any
from builder.render import Renderer
from builder.result import BuildResult, Timer
from builder.similar import similar_pairs
from builder.search import BUNDLE_FOLDER, IndexPlan, drop_index, index_site, keep_index, plan_index
from builder.state import BuildState, Counts, OutputListing, SearchIndexState, Sections
from builder.favicon import icon_files
from builder.helpers import datetime_attr, make_helpers
from builder.images import produce_images
from builder.metadata import make_metadata
from builder.theme_files import flag_file
from builder.urls import Urls


def fingerprint_base(config: SiteConfig, templates_fingerprint: str, sections: Sections) -> str:
    """What every page's fingerprint covers besides the page: code, configuration, templates,
    and the sections every page links to."""
    return "|".join((code_fingerprint(), config.fingerprint(), templates_fingerprint, repr(sections)))


def site_globals(config: SiteConfig, archive, urls: Urls, assets: dict[str, Path], sections: Sections,
                 images=None) -> dict:
    """Variables every template sees (documented in docs/templates.md)."""
    versions = {name: hashlib.sha256(path.read_bytes()).hexdigest()[:10] for name, path in assets.items()}

    def asset(name: str) -> str:
        return urls.asset(name, versions.get(name, ""))

    helpers = make_helpers(urls, {entry.slug: entry for entry in config.authors}, images)
    metadata = make_metadata(urls, config.language, config.publisher_name, helpers["author_url"],
                             helpers["image_meta"], datetime_attr)
    return {"site": config, "archive": archive, "url": urls, "asset": asset, "sections": sections,
            "builder_version": __version__, **helpers, **metadata}


def make_renderer(site: Site) -> Renderer:
    templates = site.templates
    return Renderer(templates.env, site_globals(site.config, site.archive, site.urls, templates.assets,
                                                sections_of(site.archive), site.images),
                    templates.template_dirs, site.bodies)


def static_outputs(site: Site, icons: dict | None = None) -> dict[str, "Path | bytes"]:
    """Files written as they are: the theme's static files under /static/, the flags of the
    archive's countries, the icons and manifest, and the site's own static/ at the root (which
    wins: a site's favicon.ico replaces the generated one). ``icons``: the icons memo
    (builder.favicon.icon_files)."""
    config = site.config
    extra: dict[str, Path | bytes] = {f"static/{name}": path for name, path in site.templates.assets.items()}
    for country in site.archive.countries:
        flag = flag_file(site.templates.template_dirs, country.code)
        if flag is not None:
            extra[f"static/flags/{country.code.lower()}.svg"] = flag
    extra.update(icon_files(config, config.root / config.favicon.image if config.favicon.image else None, icons))
    extra.update(site_static(config.root))
    return extra


def file_bytes(value: "Path | bytes") -> bytes:
    return value if isinstance(value, bytes) else value.read_bytes()


def check_site(site: Site, timer: Timer, jobs: int) -> BuildResult:
    """Render every page and make the search index in a scratch folder; apply nothing.

    Every problem a build would report is reported: templates, rendering and the index check.
    """
    result = BuildResult(articles=len(site.content.articles), pages=len(site.pages),
                         drafts_left_out=site.content.drafts_left_out,
                         scheduled=len(site.content.scheduled), next_due=_iso(site.content.next_due))
    scratch = Path(tempfile.mkdtemp(prefix="builder-check-"))
    try:
        staging = Staging(output=scratch / "none", folder=scratch / "pages")
        staging.folder.mkdir()
        with timer.step("render", len(site.pages)):
            rendered = render_pages(site.pages, make_renderer(site), staging, jobs, None, {}, set(), timer.advance)
            result.rendered = len(rendered.rendered)
        if site.searchable:
            with timer.step("search"):
                plan = plan_index(site.config, site.pages, None, {}, None, set())
                index_site(site.config, plan, staging, set(), jobs)
        with timer.step("duplicates"):
            published = site.content.articles + site.content.scheduled
            result.notes += [pair.message() for pair in similar_pairs(
                [(article, site.bodies.html(article.body_digest)) for article in published])]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.notes += site.notes
    return result


def produce(site: Site, inputs: Inputs, cache: Cache, output: Path, options, timer: Timer, jobs: int,
            guard=None) -> BuildResult:
    """Render what changed, index, write and save; return what was done.

    ``guard``: a context manager held while files move in the output (serve makes
    requests wait then).
    """
    config, pages = site.config, site.pages
    state = cache.state
    existing, folders = inputs.existing, inputs.folders
    result = BuildResult(articles=len(site.content.articles), pages=len(pages),
                         drafts_left_out=site.content.drafts_left_out, output=output,
                         scheduled=len(site.content.scheduled), next_due=_iso(site.content.next_due))
    facts = site.templates.facts
    # Fingerprints (a pickle and a hash of every page) only serve a cache that will keep them.
    fingerprinter = Fingerprinter(fingerprint_base(config, facts.fingerprint, sections_of(site.archive)), site.archive,
                                  facts.archive_templates, facts.body_templates, site.images) if cache.keeps else None
    staging = start_staging(output)
    with contextlib.ExitStack() as stack, transaction(staging) as apply:
        with timer.step("render", len(pages)):
            rendered = render_pages(pages, make_renderer(site), staging, jobs, fingerprinter, cache.pages,
                                    existing, timer.advance)
            result.rendered = len(rendered.rendered)
            icons = cache.icons()
            icons_before = dict(icons)
            extra = static_outputs(site, icons)
            changed = rendered.changed + [name for name, value in extra.items()
                                          if staging.write(name, file_bytes(value))]
        if site.images.sets:
            with timer.step("images"):
                made, pictures = produce_images(site.images, config.root, staging, existing,
                                                cache.folder / "images" if cache.folder else None,
                                                config.images.quality, jobs, timer.advance)
                changed += made
        else:
            pictures = set()
        index, plan = drop_index(existing), None
        if site.searchable:
            with timer.step("search") if options.index_search else contextlib.nullcontext():
                # Shards with a page whose indexed part changed (render found the changed pages),
                # or whose key changed; only they are indexed again.
                plan = plan_index(config, pages, set(rendered.changed), state.search_index.keys() if state else {},
                                  output, existing, staging.folder)
                index = index_site(config, plan, staging, existing, jobs) if options.index_search and plan.work \
                    else keep_index(existing)
        held = stack.enter_context(interrupts_held())
        with timer.step("write"), guard or contextlib.nullcontext():
            wanted = {page.output for page in pages} | set(extra) | pictures | {MARKER}
            removed = sorted(f for f in existing - wanted if not f.startswith(BUNDLE_FOLDER + "/")) + index.removed
            known = state.output.measure if state else None
            sizes_before = file_sizes(output, changed + index.changed + removed) if known else {}
            apply(sorted(changed + index.changed), removed)
        held.check()  # Ctrl-C while files moved: roll them back (the cache is not saved yet)
        result.written, result.removed = len(changed) + len(index.changed), len(removed)
        result.unchanged = len(pages) + len(extra) + len(pictures) - len(changed) + index.unchanged
        if changed or removed or index.changed or folders != (state.output.folder_times if state else None):
            files = (existing - set(removed)) | set(changed) | set(index.changed) | {MARKER}
            folders = snapshot(output, files, folders, changed + index.changed + removed)
            # The measure the hosting notes need, from the last one and the files this build
            # changed (None: measured again from every file, by builder.build).
            known = known and remeasured(known, sizes_before, file_sizes(output, changed + index.changed), files)
        else:
            files = existing
        with timer.step("save"):
            cache.save(site.learned.records, rendered.records,
                       _state(site, inputs, OutputListing(frozenset(files), tuple(sorted(folders.items())), known),
                              _index_state(options, state, plan), result),
                       archive_memo=site.learned.archive_memo if site.learned.archive_memo_changed else None,
                       icons=icons if icons != icons_before else None,
                       published=site.learned.published, pictures=site.learned.pictures, rows=site.learned.rows)
    result.notes += site.notes
    return result


def _index_state(options, state: BuildState | None, plan: IndexPlan | None) -> SearchIndexState:
    """Each shard's key to remember: this build's, or '' for a shard the index is behind
    (a build that did not index: serve's, before it indexes in the background)."""
    if plan is None:
        return SearchIndexState()
    if options.index_search:
        return SearchIndexState(tuple(sorted(plan.keys.items())))
    known = state.search_index.keys() if state else {}
    shards = {name: "" if name in plan.stale else key for name, key in plan.keys.items()}
    shards.update((name, "") for name in known if name not in shards)  # still in the output: to remove
    return SearchIndexState(tuple(sorted(shards.items())))


def _state(site: Site, inputs: Inputs, output: OutputListing, search_index: SearchIndexState,
           result: BuildResult) -> BuildState:
    return BuildState(inputs=inputs.inputs, signature=inputs.signature, output=output,
                      templates=site.templates.facts, topics=canonical_topics(site.archive),
                      counts=Counts(result.articles, result.pages, result.drafts_left_out, result.scheduled),
                      search_index=search_index, next_due=result.next_due, changes_at=_iso(site.changes_at),
                      sections=sections_of(site.archive))


def _iso(moment) -> str:
    """An aware time as ISO 8601 in UTC ('' for None): the form the state compares as text."""
    import datetime as dt
    return moment.astimezone(dt.timezone.utc).isoformat() if moment else ""


def canonical_topics(archive) -> tuple:
    """Every topic under its canonical name (for builder.patch), sorted by key."""
    return tuple(sorted({t.key: t for a in archive.articles for t in a.topics}.values(), key=lambda t: t.key))


WHOLE_SITE_KINDS = frozenset({"sitemap", "sitemap-index", "news-sitemap"})


def render_order(pages) -> list[int]:
    """The page numbers in the order workers take them: pages that list the whole site
    first, then every page by the date of the newest article it shows, newest first, and
    the pages that show none last.

    A page's story cards and headlines are fragments, each rendered once per worker
    (builder.templates): in date order, the article page and the listing pages that show
    an article mostly fall in one chunk, so one worker renders its card, not both.
    """
    def key(index: int):
        page = pages[index]
        if page.kind in WHOLE_SITE_KINDS:
            return (0, 0.0, index)
        context = page.context
        article = getattr(context, "article", None)
        if article is None:
            pagination = getattr(context, "pagination", None)
            article = pagination.items[0] if pagination is not None and pagination.items else None
        return (1, -article.date.timestamp(), index) if article is not None else (2, 0.0, index)

    return sorted(range(len(pages)), key=key)


@dataclass(frozen=True)
class Rendered:
    """What rendering did."""

    changed: list[str]  # output files staged with new bytes
    records: dict[str, "PageRecord | str"]  # each page's record (or only its fingerprint, when unchanged)
    rendered: list[int]  # numbers of the pages rendered


class _Fingerprints(threading.Thread):
    """Every page's record, made in this process while the workers render (a first build: with
    no fingerprint known every page is rendered anyway, so the fingerprints need not come first).
    Started once the workers exist (``workers.run``'s ``started``): a thread running at the
    fork could hold a lock the children copy."""

    def __init__(self, fingerprinter: Fingerprinter, pages):
        super().__init__(name="fingerprints")
        self.fingerprinter, self.pages = fingerprinter, pages
        self.stopping = threading.Event()
        self._records: list[PageRecord] = []
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            for page in self.pages:
                if self.stopping.is_set():
                    return
                self._records.append(self.fingerprinter.page(page))
        except BaseException as error:  # noqa: BLE001 - raised again by records(), in the caller's thread
            self._error = error

    def records(self) -> list[PageRecord]:
        """The records, by page number (after join); what went wrong in the thread is raised here."""
        if self._error is not None:
            raise self._error
        return self._records


def render_pages(pages, renderer: Renderer, staging: Staging, jobs: int, fingerprinter: Fingerprinter | None,
                 known: dict[str, str], existing: set[str], advance=None) -> Rendered:
    """Fingerprint every page and render those whose fingerprint changed or whose file is
    missing, in worker processes when many (both steps are per page, so both spread).

    Without a fingerprinter (``check``, ``--no-cache``), every page is rendered and nothing is
    kept for the cache.
    """
    alongside = _Fingerprints(fingerprinter, pages) if fingerprinter is not None and not known and jobs > 1 else None

    def render_chunk(chunk: list[int]):
        results = []
        for index in chunk:
            page = pages[index]
            record = fingerprinter.page(page) if fingerprinter and alongside is None else None
            if record is not None and known.get(page.output) == record.fingerprint and page.output in existing:
                results.append((index, record.fingerprint, False))
                continue
            data = renderer.render(page)
            written = data is not None and staging.write(page.output, data)
            results.append((index, record, written))
        return results + list(renderer.problems.values())

    # Pages that list the whole site (a sitemap takes as long as a few thousand article
    # pages) go first: last, they would keep one worker busy while the others wait.
    order = render_order(pages)
    try:
        outcome = workers.run(render_chunk, order, jobs, advance,
                              started=alongside.start if alongside else None)
    except BaseException:
        if alongside:
            alongside.stopping.set()  # the render failed or was interrupted: nothing to keep
        raise
    finally:
        if alongside and alongside.is_alive():
            alongside.join()
    if alongside:
        made = alongside.records()
        outcome = [item if isinstance(item, Problem) else (item[0], made[item[0]], item[2]) for item in outcome]
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
    return Rendered(changed, records, rendered)
