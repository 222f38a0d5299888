"""More on this story: for each article, the articles nearest to it in its countries',
topics' and running story's timelines.

Bounded work: an inverted index gives each term's timeline, and only the MORE_WINDOW
nearest articles on each side in each shared timeline are candidates, so the cost is
O(articles × terms × window), never all pairs. A candidate earns a term's weight for each
timeline it is near in. Rarer terms weigh more (inverse document frequency); nearer dates
score higher; ties go to the nearer date, then the slug, so the result is deterministic.

A build keeps the choices in the archive memo (in the cache) and the next build works out
again only the articles whose choice can have moved: all of them after an article was
removed or its date or terms changed; after additions, the articles near a new one in one
of its timelines, those whose related or referenced-by lists changed, and those that carry
a term whose weight moved. Everything a choice depends on is in that list, so a build that
reuses choices ends where a cold build does (tests/test_content.py checks it over random
edits).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass

from builder import workers
from builder.model import Article

MORE_COUNT = 5  # "More on this story" entries per article
MORE_WINDOW = 8  # candidates taken on each side of an article in each term's timeline
MORE_DAYS = 90  # days over which the date preference halves a score
STORY_WEIGHT = 1_000_000  # more than any sum of shared terms' weights
MEMO_KEY = "more-on-this-story/2"  # the memo entry (a new layout takes a new name)


@dataclass(frozen=True)
class _Timelines:
    """The archive's term timelines and weights, articles numbered newest first."""

    timelines: dict[tuple, list[int]]  # term key -> article numbers, oldest first
    weights: dict[tuple, int]
    keys: list[tuple]  # each article's term keys, sorted


def term_keys(article: Article) -> tuple:
    """The keys of the timelines an article is in: its countries, topics and story."""
    keys = {("c", c.code) for c in article.countries} | {("t", t.key) for t in article.topics}
    if article.story:
        keys.add(("s", article.story.key))
    return tuple(sorted(keys))


def more_on_this_story(ordered: tuple[Article, ...], by_slug: dict[str, Article], related: dict, referenced_by: dict,
                       memo: dict, jobs: int = 1) -> dict[str, tuple[Article, ...]]:
    """Up to MORE_COUNT articles for each article of ``ordered`` (newest first; ``by_slug``: the
    same by slug), excluding the ones its page already links (``related``, ``referenced_by``);
    ``memo`` is read and updated. ``jobs``: worker processes (the same result with any number)."""
    slugs = [a.slug for a in ordered]
    stamps = [a.date.timestamp() for a in ordered]
    index = _timelines(ordered)
    own = [(tuple(link.article.slug for link in related[slug] if link.article),
            tuple(other.slug for other in referenced_by.get(slug, ()))) for slug in slugs]
    places = {slug: (stamp, keys) for slug, stamp, keys in zip(slugs, stamps, index.keys)}
    known = memo.get(MEMO_KEY)
    dirty = _dirty(known, slugs, places, own, index) if known else None
    numbers = range(len(ordered)) if dirty is None else sorted(dirty)
    chosen = dict(zip(numbers, _choose(list(numbers), slugs, stamps, own, index, jobs)))
    more = {}
    for i, slug in enumerate(slugs):
        if i in chosen:
            more[slug] = tuple(ordered[j] for j in chosen[i])
        else:
            more[slug] = tuple(by_slug[s] for s in known["more"][slug])
    memo[MEMO_KEY] = {"places": places, "own": dict(zip(slugs, own)), "weights": index.weights,
                      "more": {slug: tuple(a.slug for a in items) for slug, items in more.items()}}
    return more


def _timelines(ordered) -> _Timelines:
    total = len(ordered)
    keys = [term_keys(a) for a in ordered]
    timelines: dict[tuple, list[int]] = defaultdict(list)
    for i in range(total - 1, -1, -1):  # oldest first
        for key in keys[i]:
            timelines[key].append(i)
    weights = {}
    for key in sorted(timelines):
        # Integer weights, so that sums do not depend on set iteration order, in tenths of
        # the inverse document frequency, so that an addition seldom moves one (each one
        # that moves makes every article of its timeline be worked out again).
        weight = 100 * int(10 * (math.log((total + 1) / len(timelines[key])) + 0.1))
        if key[0] == "s":  # the same running story comes before anything that only shares terms
            weight += STORY_WEIGHT
        weights[key] = weight
    return _Timelines(dict(timelines), weights, keys)


def _dirty(known: dict, slugs: list[str], places: dict, own: list, index: _Timelines) -> set[int] | None:
    """The numbers of the articles whose choice can differ from the remembered one, or None
    when every choice must be made again."""
    before = known["places"]
    if len(before) > len(places) or any(slug not in places for slug in before):
        return None  # an article went away: its neighbours' windows moved
    if any(before.get(slug, place) != place for slug, place in places.items()):
        return None  # a date or the terms changed: the article left some timelines' windows
    dirty: set[int] = set()
    remembered_own = known["own"]
    for i, slug in enumerate(slugs):
        if slug not in before:  # new: it enters the windows of its neighbours in each timeline
            dirty.add(i)
            for key in index.keys[i]:
                items = index.timelines[key]
                here = _position(items, i)
                dirty.update(items[max(0, here - MORE_WINDOW): here + MORE_WINDOW + 1])
        elif remembered_own[slug] != own[i]:
            dirty.add(i)
    weights = known["weights"]
    for key, weight in index.weights.items():
        if weights.get(key) != weight:
            dirty.update(index.timelines[key])
    return dirty


def _position(items: list[int], i: int) -> int:
    """Where article ``i`` is in a timeline (numbers descending: oldest first)."""
    low, high = 0, len(items)
    while low < high:
        middle = (low + high) // 2
        if items[middle] > i:
            low = middle + 1
        else:
            high = middle
    return low


def _choose(numbers: list[int], slugs: list[str], stamps: list[float], own: list, index: _Timelines,
            jobs: int) -> list[tuple[int, ...]]:
    """The chosen article numbers of each article in ``numbers`` (spread over workers)."""
    number = {slug: i for i, slug in enumerate(slugs)}
    timelines, weights = index.timelines, index.weights
    positions: dict[tuple, dict[int, int]] = {}

    def places_of(i: int):
        for key in index.keys[i]:
            items = timelines[key]
            if len(numbers) * 4 > len(slugs):  # most articles: one table per timeline
                if key not in positions:
                    positions[key] = {n: p for p, n in enumerate(items)}
                here = positions[key][i]
            else:
                here = _position(items, i)
            yield items, here, weights[key]

    def score(chunk: list[int]) -> list[tuple[int, ...]]:
        found = []
        for i in chunk:
            related, referenced = own[i]
            # Articles already linked from this page (related, referenced by) are not repeated.
            excluded = {number[s] for s in related}
            excluded.update(number[s] for s in referenced)
            excluded.add(i)
            shared: dict[int, int] = {}
            get = shared.get
            for items, here, weight in places_of(i):
                for j in items[max(0, here - MORE_WINDOW): here + MORE_WINDOW + 1]:
                    shared[j] = get(j, 0) + weight
            here_stamp = stamps[i]
            scored = []
            for j, total in shared.items():
                if j not in excluded:
                    days = abs(stamps[j] - here_stamp) / 86400
                    scored.append((-total / (1 + days / MORE_DAYS), days, slugs[j]))
            found.append(tuple(number[s] for _, _, s in heapq.nsmallest(MORE_COUNT, scored)))
        return found

    return workers.run(score, numbers, jobs)
