"""Topics: free labels merged case- and space-insensitively, or a closed vocabulary."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from builder.records import Compact
from builder.text import slugify


@dataclass(frozen=True, order=True)
class Topic(Compact):
    """A subject label as the archive shows it."""

    name: str  # display name, e.g. 'Trade'
    key: str  # merge key: casefolded, single-spaced, e.g. 'trade'
    slug: str  # URL segment, e.g. 'trade'

    @property
    def kind(self) -> str:
        return "topic"


def topic_key(label: str) -> str:
    """'  Oil  and GAS ' -> 'oil and gas': the key under which spellings merge."""
    return re.sub(r"\s+", " ", label).strip().casefold()


def free_topic(label: str) -> Topic:
    name = re.sub(r"\s+", " ", label).strip()
    return Topic(name=name, key=topic_key(name), slug=slugify(name))


class Vocabulary:
    """A closed list of topics, each with synonyms, from ``site.toml``."""

    def __init__(self, entries: tuple[tuple[str, tuple[str, ...]], ...]):
        self.topics: dict[str, Topic] = {}
        for name, synonyms in entries:
            topic = free_topic(name)
            for spelling in (name, *synonyms):
                self.topics.setdefault(topic_key(spelling), topic)

    def resolve(self, label: str) -> Topic | None:
        return self.topics.get(topic_key(label))

    def suggestions(self, label: str) -> list[str]:
        close = difflib.get_close_matches(topic_key(label), list(self.topics), n=6, cutoff=0.5)
        names: list[str] = []
        for key in close:
            if self.topics[key].name not in names:
                names.append(self.topics[key].name)
        return names[:3]


@lru_cache(maxsize=8)
def vocabulary(entries: tuple[tuple[str, tuple[str, ...]], ...]) -> Vocabulary | None:
    """The site's vocabulary (None when topics are free), built once per process."""
    return Vocabulary(entries) if entries else None
