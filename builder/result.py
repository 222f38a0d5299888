"""What a build did: the figures of its summary line, and how long each step took."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path


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
    rendered: int = 0  # pages whose fingerprint changed (rendered and compared with the output)
    patched: bool = False  # only the pages an edit reaches were rebuilt (builder.patch)
    full_because: str = ""  # why a rebuild could not be patched (serve and -v say it)
    notes: list[str] = field(default_factory=list)
    local: bool = False  # base_url has no host: what must be absolute was left out
    scheduled: int = 0  # articles dated after now, held back
    next_due: str = ""  # when the first of them is due (ISO 8601, UTC)

    @property
    def seconds(self) -> float:
        return sum(t for _, t in self.timings)

    def summary(self) -> str:
        from builder.console import plural
        steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.timings)
        text = (f"built {plural(self.pages, 'page')} from {plural(self.articles, 'article')} in "
                f"{self.seconds:.2f}s ({self.rendered:,} rendered, {self.written:,} written, "
                f"{self.unchanged:,} unchanged, {self.removed:,} removed; {steps})")
        if self.scheduled:
            text += (f"; {plural(self.scheduled, 'scheduled article')} held back, the next due "
                     f"{self.next_due.replace('+00:00', 'Z')}")
        if self.local:
            text += "; base_url has no host, so canonical links and robots.txt's Sitemap lines were left out"
        return text


class Timer:
    """Times named steps and tells ``progress`` (a builder.console.Progress) of each."""

    def __init__(self, progress=None):
        self.progress = progress
        self.timings: list[tuple[str, float]] = []

    @contextlib.contextmanager
    def step(self, name: str, total: int = 0):
        start = time.perf_counter()
        if self.progress:
            self.progress.start(name, total)
        yield
        seconds = time.perf_counter() - start
        self.timings.append((name, seconds))
        if self.progress:
            self.progress.end(name, seconds)

    def advance(self, count: int) -> None:
        """``count`` more items of the current step are done (from the workers' results)."""
        if self.progress:
            self.progress.advance(count)
