"""Similar: articles that look like the same story filed twice.

Two kinds, each a warning naming both files (``check`` and ``import`` give them):
the same title (ignoring case and punctuation) and the same day, or bodies that
are nearly the same text. Bodies are compared by a bottom-k sketch of their word
5-grams (the K smallest CRC-32s of the 5-grams: a MinHash estimate of how much
two texts share), so the cost grows with the archive, not with its square.
"""

from __future__ import annotations

import heapq
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass

from builder.model import Article

SKETCH = 48  # hashes kept per body
SHINGLE = 5  # words per 5-gram
SIMILAR = 0.8  # share of 5-grams two bodies have in common, from which they count as one story
MIN_WORDS = 30  # shorter bodies say too little to compare
BANDS = 6  # smallest hashes that index candidates: two similar bodies share at least one


@dataclass(frozen=True)
class Pair:
    first: Article
    second: Article
    reason: str  # 'title' or 'body'

    def message(self) -> str:
        what = ("have the same title and date" if self.reason == "title"
                else "have nearly the same text")
        return f"{self.first.path} and {self.second.path} {what}: one may be a duplicate of the other"


def similar_pairs(items: list[tuple[Article, str]], only: set[str] | None = None) -> list[Pair]:
    """Pairs of (article, body HTML) that look like one story; with ``only``, just the pairs
    in which one article's path is in ``only`` (the articles being imported)."""
    pairs: dict[tuple[str, str], Pair] = {}

    def add(first: Article, second: Article, reason: str) -> None:
        if first.path > second.path:
            first, second = second, first
        if only is not None and first.path not in only and second.path not in only:
            return
        pairs.setdefault((first.path, second.path), Pair(first, second, reason))

    by_title: dict[tuple, list[Article]] = defaultdict(list)
    for article, _ in items:
        by_title[(_words_key(article.title), article.date.date())].append(article)
    for group in by_title.values():
        for other in group[1:]:
            add(group[0], other, "title")

    sketches = [(article, _sketch(body)) for article, body in items]
    buckets: dict[int, list[int]] = defaultdict(list)
    for number, (_, sketch) in enumerate(sketches):
        for value in sketch[:BANDS]:
            buckets[value].append(number)
    seen: set[tuple[int, int]] = set()
    for members in buckets.values():
        for i, one in enumerate(members):
            for two in members[i + 1:]:
                if (one, two) in seen:
                    continue
                seen.add((one, two))
                if _resemblance(sketches[one][1], sketches[two][1]) >= SIMILAR:
                    add(sketches[one][0], sketches[two][0], "body")
    return sorted(pairs.values(), key=lambda p: (p.first.path, p.second.path))


def _words_key(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.casefold()))


def _sketch(html: str) -> list[int]:
    """The SKETCH smallest hashes of the body's word 5-grams ([] for a short body)."""
    words = re.findall(r"\w+", re.sub(r"<[^>]+>", " ", html).casefold())
    if len(words) < MIN_WORDS:
        return []
    shingles = {zlib.crc32(" ".join(words[i:i + SHINGLE]).encode()) for i in range(len(words) - SHINGLE + 1)}
    return heapq.nsmallest(SKETCH, shingles)


def _resemblance(one: list[int], two: list[int]) -> float:
    """The share of 5-grams two bodies have in common, estimated from their sketches."""
    if not one or not two:
        return 0.0
    union = heapq.nsmallest(SKETCH, set(one) | set(two))
    both = set(one) & set(two)
    return sum(1 for value in union if value in both) / len(union)
