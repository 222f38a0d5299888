"""Problems: located messages about bad input, collected and reported together."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, with where it is."""

    path: str  # file path as the user would type it (relative to the site folder)
    line: int  # 1-based line number; 0 when no line applies
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class BuildFailed(Exception):
    """Raised when a stage found problems; carries every one of them."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(Exception):
    """The command was asked for something it cannot do as given (a --site that is a file…):
    one line saying what and how to fix it, exit code 2."""


class ToolFailed(Exception):
    """Raised when a tool the build needs (such as Pagefind) is missing or fails."""


def raise_if_any(problems: list[Problem]) -> None:
    """Stop the pipeline when a stage found problems (sorted for stable output)."""
    if problems:
        raise BuildFailed(sorted(set(problems)))


def line_of_key(text: str, key: str, first_line: int = 1) -> int:
    """The line where a top-level ``key:`` or ``key =`` starts in ``text`` (0 if absent).

    Used only on error paths, to point at a key without paying for a YAML
    node tree on every successful parse.
    """
    for number, line in enumerate(text.splitlines(), start=first_line):
        stripped = line.lstrip()
        if stripped.startswith(key) and stripped[len(key):].lstrip()[:1] in (":", "="):
            return number
    return 0
