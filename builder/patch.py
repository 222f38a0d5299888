"""Patch: re-render only the pages an edit reaches, without loading the whole archive.

builder.incremental decided that each edited article keeps its place in the site
(same planning view) and found the stored pages that show it. Here those pages'
plans are read back from the cache with their articles resolved (the edited ones
from the new parse, the others from the cache, topics under their canonical
names), planned again and fingerprinted; a page is rendered when its fingerprint
changed, and only changed bytes are written. If a re-planned page refers to other
articles than its stored keys say, or a template fails, the patch is refused and
the whole pipeline runs instead (it reports any problem with its full context).

The result is the site a full build makes (the tests compare them byte for byte).
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

from builder.archive import with_canonical_topics
from builder.bodies import LayeredBodies, MemoryBodies
from builder.cache import Cache
from builder.config import SiteConfig
from builder.fingerprints import Fingerprinter, read_plan
from builder.hosting import Measure, file_sizes, remeasured
from builder.images import index_of
from builder.incremental import Inputs, Work
from builder.interrupts import interrupts_held
from builder.output import start_staging, touched, transaction
from builder.produce import fingerprint_base, site_globals
from builder.render import Renderer
from builder.result import BuildResult, Timer
from builder.search import shards_behind
from builder.sources import site_static
from builder.state import OutputListing, SearchIndexState
from builder.templates import make_environment
from builder.theme_files import static_files
from builder.urls import Urls


class PatchRefused(Exception):
    """The edit reaches more than the stored plans can show: run the whole pipeline."""


def patch(work: Work, inputs: Inputs, config: SiteConfig, cache: Cache, output: Path, drafts: bool,
          timer: Timer, guard=None) -> BuildResult:
    """Apply a patch decided by builder.incremental; raise PatchRefused when it cannot."""
    state, store = cache.state, cache.store
    counts = state.counts
    result = BuildResult(articles=counts.articles, pages=counts.pages, drafts_left_out=counts.drafts_left_out,
                         output=output, patched=True, scheduled=counts.scheduled, next_due=state.next_due)
    records = {edit.source.path: edit.record for edit in work.edits}
    new_bodies = MemoryBodies({e.article.body_digest: e.body for e in work.edits if e.body})
    fresh = {e.article.slug: e.article for e in work.edits if drafts or not e.article.draft}
    needed = {slug for _, _, keys in work.reached for slug in keys}
    found = {slug: record.article for slug, record in
             store.articles_by_slug(sorted(needed - set(fresh)), drafts).items()}
    canonical = {topic.key: topic for topic in state.topics}
    articles = {slug: with_canonical_topics(article, canonical) for slug, article in {**found, **fresh}.items()}
    plans = store.plans([output_path for output_path, _, _ in work.reached])
    facts = state.templates
    images = index_of(articles.values(), cache.pictures(), config.images)
    fingerprinter = Fingerprinter(fingerprint_base(config, facts.fingerprint, state.sections), None,
                                  facts.archive_templates, facts.body_templates, images)
    pages, todo = {}, []
    for output_path, fingerprint, stored_keys in work.reached:
        page = read_plan(plans[output_path], articles)
        record = fingerprinter.page(page)
        if set(record.keys) != set(stored_keys):
            raise PatchRefused(f"{output_path} refers to other articles once planned again")
        pages[output_path] = record
        if record.fingerprint != fingerprint:
            todo.append(page)

    staging = start_staging(output)
    written: list[str] = []
    with contextlib.ExitStack() as stack, transaction(staging) as apply:
        with timer.step("render", len(todo)):
            if todo:
                renderer = _renderer(config, cache, LayeredBodies(new_bodies, store), state.sections, images)
                for page in todo:
                    data = renderer.render(page)
                    if data is None:
                        problem = next(iter(renderer.problems.values()), "")
                        raise PatchRefused(f"a template failed ({problem})")
                    if staging.write(page.output, data):
                        written.append(page.output)
            for name, path in site_static(config.root).items():  # a static file may be what changed
                if staging.write(name, path.read_bytes()):
                    written.append(name)
        held = stack.enter_context(interrupts_held())
        # Only a kept measure is brought up to date (serve's rebuilds keep none).
        sizes_before = file_sizes(output, written) if state.output.measure is not None else {}
        with timer.step("write"), guard or contextlib.nullcontext():
            apply(sorted(written), [])
        held.check()
        with timer.step("save"):
            if new_bodies.bodies:
                store.add(new_bodies.bodies.items())
            if work.touched:
                store.restat(list(work.touched))
            indexed = [page for page in todo if page.indexed and page.output in written]
            folders = touched(output, inputs.folders, written) if written else inputs.folders
            measure = _measure_after(state.output, output, written, sizes_before)
            new_state = _replace_state(state, inputs, written, folders, shards_behind(state.search_index, indexed),
                                       measure)
            cache.save(records, pages, new_state, complete=False)
    result.rendered, result.written = len(todo), len(written)
    result.unchanged = len(state.output.files) - len(written)
    return result


def _replace_state(state, inputs: Inputs, written: list[str], folders: dict[str, int],
                   search_index: SearchIndexState, measure: Measure | None):
    return dataclasses.replace(state, signature=inputs.signature, search_index=search_index,
                               output=OutputListing(state.output.files | set(written), tuple(sorted(folders.items())),
                                                    measure))


def _measure_after(listing: OutputListing, output: Path, written: list[str], before: dict[str, int]) -> Measure | None:
    """The output's measure after the patch, from the one before it and the sizes of the
    files it replaced (None, to be measured anew, when none was kept or it cannot tell)."""
    if listing.measure is None:
        return None
    return remeasured(listing.measure, before, file_sizes(output, written), listing.files | set(written))


def _renderer(config: SiteConfig, cache: Cache, bodies, sections, images) -> Renderer:
    urls = Urls(config.base_path, config.origin)
    env = make_environment(config.template_dirs, cache.compiled)
    assets = static_files(config.template_dirs)
    return Renderer(env, site_globals(config, None, urls, assets, sections, images), config.template_dirs, bodies)
