"""Interrupts: Ctrl-C held back while a build commits its output and cache.

A build can stop anywhere before it starts moving files into ``output/``: the
transaction rolls back and the cache is untouched. While the new files are moved
in and the cache is saved, an interrupt would leave one updated without the other,
so it is held until the step ends; the build then rolls back what it can or,
once everything is saved, says it finished first.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class FinishedFirst(KeyboardInterrupt):
    """Ctrl-C arrived while the build was saving; the new site and cache are complete."""


class Deferred:
    """Whether an interrupt arrived while held back."""

    def __init__(self):
        self.received = False

    def check(self) -> None:
        """Raise KeyboardInterrupt now if one arrived (the caller can still roll back)."""
        if self.received:
            self.received = False
            raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_held():
    """Hold SIGINT back for the block (main thread only: serve's builder thread gets none)."""
    deferred = Deferred()
    if threading.current_thread() is not threading.main_thread():
        yield deferred
        return

    def hold(signum, frame) -> None:
        deferred.received = True

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield deferred
    finally:
        signal.signal(signal.SIGINT, previous)
    if deferred.received:
        raise FinishedFirst("interrupted after the new site was written: the output folder and the cache "
                            "hold the new build")
