"""Workers: spread a list of independent jobs over processes.

Processes are forked, so they start with everything the parent built
(configuration, archive, compiled templates) without pickling it; only
the small per-job inputs and results cross process boundaries. Results
come back in input order, so output never depends on the number of jobs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal

MIN_JOBS_PER_WORKER = 200  # below this, forking costs more than it saves
CHUNK = 400  # items per chunk at most (each chunk is one round trip to a worker)
MIN_CHUNK = 10

_shared: dict = {}  # set by run() before forking; read by the workers


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _chunks(items: list, jobs: int) -> list[list]:
    """Contiguous chunks of at most CHUNK items, smaller and smaller towards the end.

    Many small chunks keep every worker busy to the end: with a few large ones, the
    last chunk ran alone for seconds at 100,000 articles (chunks differ in cost: the
    listing pages come after the article pages). The shrinking sizes at the end (a
    share of what is left, never under MIN_CHUNK) leave the last worker alone for
    the time of a few items (one sitemap can take 50 ms) instead of a whole chunk.
    """
    chunks, start = [], 0
    while start < len(items):
        size = min(CHUNK, max(MIN_CHUNK, (len(items) - start) // (jobs * 4)))
        chunks.append(items[start:start + size])
        start += size
    return chunks


def _call(chunk):
    return _shared["function"](chunk)


def _ignore_interrupts() -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent alone handles it
    # (it stops the pool and rolls back), so workers print no KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run(function, items: list, jobs: int, advance=None, per_worker: int = MIN_JOBS_PER_WORKER,
        started=None) -> list:
    """``function(chunk) -> list`` over ``items`` split in contiguous chunks; results concatenated.

    ``advance(count)``: told how many items are done each time a chunk comes back (progress).
    ``per_worker``: how many items make a worker worth forking (pictures: one is enough).
    ``started()``: called once the workers exist (or before the work, with none), for work this
    process does meanwhile: a thread started before the fork could hold a lock the children copy.
    """
    jobs = max(1, min(jobs, len(items) // per_worker))
    if jobs == 1:
        if started:
            started()
        results = function(items)
        if advance:
            advance(len(items))
        return results
    chunks = _chunks(items, jobs) if per_worker >= MIN_JOBS_PER_WORKER else [[item] for item in items]
    _shared["function"] = function
    # Frozen objects are never scanned by the collector: the workers then leave the
    # parent's archive alone (scanning it would also copy its pages into each worker).
    gc.freeze()
    results = []
    try:
        import multiprocessing  # here: most builds that have little to do never start a worker
        with multiprocessing.get_context("fork").Pool(jobs, initializer=_ignore_interrupts) as pool:
            if started:
                started()
            for chunk, result in zip(chunks, pool.imap(_call, chunks, chunksize=1)):
                results.append(result)
                if advance:
                    advance(len(chunk))
    finally:
        _shared.clear()
        gc.unfreeze()
    return [item for chunk in results for item in chunk]


@contextlib.contextmanager
def collector_paused():
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
        # Everything the build made is still young: re-enabled as it is, the collector's
        # next young-generation pass would scan all of it (0.6 s at 10,000 articles with
        # one process). Freezing and unfreezing moves it to the old generation untouched,
        # where a full collection, when one comes, still finds any cycle.
        gc.freeze()
        gc.unfreeze()
        gc.enable()
