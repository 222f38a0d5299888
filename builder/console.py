"""Console: everything the commands print, at the verbosity and in the colours asked for.

Results (a summary, a path, a report) go to stdout; problems, notes and progress to
stderr. On a terminal a build longer than a second (``BUILDER_PROGRESS_AFTER`` seconds,
when set) shows a progress bar (rich), and
problems are coloured unless ``NO_COLOR`` is set; elsewhere (CI logs, pipes) each step
prints one plain line as it ends, so a long build is never silent until its end.
"""

from __future__ import annotations

import os
import sys
import time

QUIET, NORMAL, VERBOSE = -1, 0, 1


def _progress_after() -> float:
    """Seconds a build runs before its bar appears: 1, or ``BUILDER_PROGRESS_AFTER``."""
    try:
        return max(0.0, float(os.environ.get("BUILDER_PROGRESS_AFTER", "1")))
    except ValueError:
        return 1.0


PROGRESS_AFTER = _progress_after()  # shorter builds never show a bar


def plural(count: int, noun: str, plural_form: str = "") -> str:
    """'1 article', '2 articles', '10,000 articles'."""
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count:,} {word}"


class Console:
    """Where and how the commands speak to the user."""

    def __init__(self, verbosity: int = NORMAL, out=None, err=None):
        self.verbosity = verbosity
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.interactive = _isatty(self.err)
        self.colour = self.interactive and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    # -- what every command prints ---------------------------------------------
    def result(self, text: str) -> None:
        """The command's answer (stdout); -q leaves out summaries but never data."""
        print(text, file=self.out, flush=True)

    def summary(self, text: str) -> None:
        if self.verbosity > QUIET:
            self.result(text)

    def problem(self, text: str, level: str = "error") -> None:
        """One located problem (``path:line: message``), always shown."""
        print(self._paint(text, "31" if level == "error" else "33"), file=self.err, flush=True)

    def error(self, text: str) -> None:
        print(self._paint(f"error: {text}", "31;1"), file=self.err, flush=True)

    def warning(self, text: str) -> None:
        print(self._paint(f"warning: {text}", "33"), file=self.err, flush=True)

    def note(self, text: str) -> None:
        if self.verbosity > QUIET:
            print(self._paint(f"note: {text}", "36"), file=self.err, flush=True)

    def info(self, text: str) -> None:
        """A line of progress news (stderr); -q silences it."""
        if self.verbosity > QUIET:
            print(text, file=self.err, flush=True)

    def detail(self, text: str) -> None:
        """Only with -v."""
        if self.verbosity >= VERBOSE:
            print(self._paint(text, "2"), file=self.err, flush=True)

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    # -- build progress ---------------------------------------------------------
    def progress(self) -> "Progress":
        return Progress(self)


class Progress:
    """Told of each build step as it starts, advances and ends (see builder.build.Timer).

    Plain lines when stderr is not a terminal (or with -v); on a terminal, a transient
    bar that appears only once the build has run for a second.
    """

    def __init__(self, console: Console):
        self.console = console
        self.started = time.monotonic()
        self.bar = None  # rich's Progress, once shown
        self.task = None
        self.name = ""
        self.total = 0
        self.done = 0

    def start(self, name: str, total: int = 0) -> None:
        self.name, self.total, self.done = name, total, 0
        self._show()

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._show()

    def end(self, name: str, seconds: float, detail: str = "") -> None:
        console = self.console
        text = f"  {name}: {seconds:.2f}s" + (f" ({detail})" if detail else "")
        if self.bar is not None:
            if console.verbosity >= VERBOSE:
                self.bar.console.print(text, highlight=False, markup=False)
        elif not console.interactive or console.verbosity >= VERBOSE:
            console.info(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def _show(self) -> None:
        console = self.console
        if not console.interactive or console.verbosity <= QUIET:
            return
        if self.bar is None:
            if time.monotonic() - self.started < PROGRESS_AFTER:
                return
            from rich.console import Console as RichConsole
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn
            self.bar = Bar(TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=RichConsole(file=console.err), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.name, total=self.total or None)
        self.bar.update(self.task, description=self.name, completed=self.done, total=self.total or None)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
