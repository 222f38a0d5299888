"""Build: the ``build`` and ``check`` commands over the one pipeline (builder.pipeline).

    build:  config → scan inputs → decide → nothing | patch | load_site → produce
    check:  config → load_site → render and index into a scratch folder (nothing is written)
"""

from __future__ import annotations

import dataclasses

from builder import workers
from builder.cache import Cache
from builder.hosting import Measure, hosting_notes, measure
from builder.incremental import NOTHING, PATCH, Work, decide, scan_inputs
from builder.output import check_output_folder, recover
from builder.options import BuildOptions, cache_key, site_config
from builder.result import BuildResult, Timer
from builder.workers import collector_paused

__all__ = ["BuildOptions", "BuildResult", "build", "check"]


def build(options: BuildOptions, progress=None, cache: Cache | None = None, guard=None) -> BuildResult:
    """Build the site; raise BuildFailed with every problem found.

    ``cache``: a Cache kept by the caller across builds (serve); by default the build
    opens the site's cache folder (or keeps none with --no-cache). ``guard``: a context
    manager held while files move in the output folder (serve's requests wait then).
    """
    timer = Timer(progress)
    with timer.step("config"):
        config = site_config(options)
        output = options.out.resolve() if options.out else config.output_dir
        check_output_folder(output, config.root)
        recovered = recover(output)  # a build stopped while it wrote the output is finished first
        jobs = options.jobs or workers.default_jobs()
        own_cache = cache is None
        if own_cache:
            cache = Cache.open(config.cache_dir, cache_key(config)) if options.cache else Cache.none(cache_key(config))
        else:
            cache.rekey(cache_key(config))
    try:
        with collector_paused():
            result = _build(options, config, output, cache, jobs, timer, guard)
    finally:
        if own_cache:
            cache.close()
    result.timings = timer.timings
    result.local = not config.origin
    result.notes += recovered + cache.notes
    cache.notes.clear()
    if own_cache:  # once per build command, not on each of serve's rebuilds
        result.notes += hosting_notes(config, _output_measure(cache, output))
    return result


def _output_measure(cache: Cache, output) -> Measure:
    """The output folder in the numbers hosts limit: measured once per output listing and
    kept in the state, so a build that changed nothing does not stat every file again."""
    state = cache.state
    if state is None:
        return measure(output)
    if state.output.measure is None:
        found = measure(output, state.output.files)
        cache.save_state(dataclasses.replace(state, output=dataclasses.replace(state.output, measure=found)))
    return cache.state.output.measure


def _build(options, config, output, cache: Cache, jobs: int, timer: Timer, guard) -> BuildResult:
    with timer.step("scan"):
        inputs = scan_inputs(config, options, output, cache.state)
        work = decide(cache.state, inputs, cache, config, options) if options.cache else Work("everything", "--no-cache")
    if work.kind == NOTHING:
        return _nothing(cache, inputs, output)
    # Imported only now: a build that has nothing to do never loads the parsing and
    # rendering stack (Jinja, markdown-it-py, the page planners: a third of a no-op's time).
    from builder.patch import PatchRefused, patch
    from builder.pipeline import load_site
    from builder.produce import produce
    if work.kind == PATCH:
        try:
            with timer.step("patch"):
                return patch(work, inputs, config, cache, output, options.drafts, timer, guard)
        except PatchRefused as refused:
            work = Work("everything", str(refused))
    site = load_site(config, options, cache, timer, list(inputs.sources), jobs)
    result = produce(site, inputs, cache, output, options, timer, jobs, guard)
    result.full_because = work.reason
    return result


def _nothing(cache: Cache, inputs, output) -> BuildResult:
    """Nothing to do; remember the output's folder times when only they moved."""
    state = cache.state
    if inputs.folders != state.output.folder_times:
        cache.save_state(dataclasses.replace(state, output=dataclasses.replace(
            state.output, folders=tuple(sorted(inputs.folders.items())), measure=None)))
    counts = state.counts
    return BuildResult(articles=counts.articles, pages=counts.pages, drafts_left_out=counts.drafts_left_out,
                       unchanged=len(state.output.files), output=output, scheduled=counts.scheduled,
                       next_due=state.next_due)


def check(options: BuildOptions, progress=None) -> BuildResult:
    """Every step and check of a build (templates, rendering, the search index), writing nothing."""
    timer = Timer(progress)
    with timer.step("config"):
        config = site_config(options)
        cache = Cache.none(cache_key(config))
        # A build stopped while it wrote the output is finished before anything else.
        recovered = recover(options.out.resolve() if options.out else config.output_dir)
    from builder.pipeline import load_site
    from builder.produce import check_site
    with collector_paused():
        site = load_site(config, options, cache, timer, jobs=options.jobs or workers.default_jobs())
        result = check_site(site, timer, options.jobs or workers.default_jobs())
    result.timings = timer.timings
    result.notes += recovered
    return result
