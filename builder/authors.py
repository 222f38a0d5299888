"""Authors: the names an article's ``author`` may give, when site.toml declares a registry.

With ``[authors.<slug>]`` tables in site.toml, every author must be one of them, named
by slug or by name (case and spacing ignored); an unknown one is an error with the
closest matches, as for countries. Without a registry, authors are free text and each
distinct name gets its own page.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from builder.model import Author


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class AuthorRegistry:
    """Every registered author by slug and by name."""

    def __init__(self, entries: tuple[tuple[str, str], ...]):
        self.by_key: dict[str, Author] = {}
        for slug, name in entries:
            author = Author(name=name, slug=slug)
            self.by_key.setdefault(_key(slug), author)
            self.by_key.setdefault(_key(name), author)

    def resolve(self, spelling: str) -> Author | None:
        return self.by_key.get(_key(spelling))

    def suggestions(self, spelling: str) -> list[str]:
        names: list[str] = []
        for key in difflib.get_close_matches(_key(spelling), list(self.by_key), n=6, cutoff=0.7):
            if self.by_key[key].name not in names:
                names.append(self.by_key[key].name)
        return names[:3]


@lru_cache(maxsize=8)
def author_registry(entries: tuple[tuple[str, str], ...]) -> AuthorRegistry | None:
    """The site's registry (None when authors are free text), built once per process."""
    return AuthorRegistry(entries) if entries else None
