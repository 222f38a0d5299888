"""The archive: every article with its taxonomies, cross-links and date archives.

Built from parsed articles in one pass of cheap, deterministic steps:
canonical topic names, sorted listings, resolved ``related`` lists,
"Referenced by" backlinks, "More on this story" and previous/next.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass

from builder.model import Article
from builder.more import more_on_this_story
from builder.problems import Problem
from builder.topics import Topic

@dataclass(frozen=True)
class Term:
    """A country or a topic with its articles (newest first)."""

    kind: str  # 'country' or 'topic'
    name: str
    slug: str
    code: str  # ISO alpha-2 for a country, '' for a topic
    articles: tuple[Article, ...]

    @property
    def count(self) -> int:
        return len(self.articles)

    @property
    def summary(self) -> "TermSummary":
        return TermSummary(self.kind, self.name, self.slug, self.code, len(self.articles))


@dataclass(frozen=True)
class TermSummary:
    """A term without its articles: what a term page, the term index and a feed show.

    Pages get summaries rather than whole Terms so that a page's fingerprint
    depends on the articles it lists, not on every article of the term.
    """

    kind: str
    name: str
    slug: str
    code: str
    count: int | None  # None on a term page other than the newest (see pages.Pagination)




@dataclass(frozen=True)
class RelatedLink:
    """One resolved entry of a ``related`` list."""

    headline: str  # the title given in the front matter ('' for an article of the archive)
    url: str  # '' for a headline without a link
    article: Article | None  # set when the entry is an article of this archive

    @property
    def title(self) -> str:
        # Read from the article, never copied: a title edit then reaches every page
        # that links to it through the article alone.
        return self.article.title if self.article is not None else self.headline


@dataclass(frozen=True)
class StorySummary:
    """A story without its articles: what an article of it and the stories index show."""

    name: str
    slug: str
    count: int
    first: dt.datetime  # the date of its first part
    last: dt.datetime  # the date of its latest part


@dataclass(frozen=True)
class StoryLine:
    """A running story: its articles oldest first (a timeline)."""

    name: str
    slug: str
    articles: tuple[Article, ...]  # oldest first

    @property
    def count(self) -> int:
        return len(self.articles)

    @property
    def summary(self) -> StorySummary:
        return StorySummary(self.name, self.slug, len(self.articles), self.articles[0].date, self.articles[-1].date)


@dataclass(frozen=True)
class StoryPart:
    """Where an article sits in its story: part ``number`` of ``total``."""

    story: StorySummary
    number: int  # 1-based, in date order
    total: int
    previous: Article | None  # the part before
    next: Article | None  # the part after


@dataclass(frozen=True)
class Links:
    """Everything an article page links to besides its own content."""

    related: tuple[RelatedLink, ...]
    referenced_by: tuple[Article, ...]  # articles whose related points here, newest first
    more: tuple[Article, ...]  # "More on this story"
    older: Article | None  # previous article in time
    newer: Article | None  # next article in time
    story: StoryPart | None = None  # its place in its running story


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    articles: tuple[Article, ...]  # newest first

    @property
    def count(self) -> int:
        return len(self.articles)


    @property
    def summary(self) -> "MonthSummary":
        return MonthSummary(self.year, self.month, len(self.articles))


@dataclass(frozen=True)
class Year:
    year: int
    months: tuple[Month, ...]  # newest first

    @property
    def count(self) -> int:
        return sum(m.count for m in self.months)

    @property
    def summary(self) -> "YearSummary":
        return YearSummary(self.year, self.count, tuple(m.summary for m in self.months))


@dataclass(frozen=True)
class MonthSummary:
    """A month without its articles (year pages and the archive page list counts)."""

    year: int
    month: int
    count: int


@dataclass(frozen=True)
class YearSummary:
    """A year without its articles."""

    year: int
    count: int
    months: tuple[MonthSummary, ...]  # newest first


@dataclass(frozen=True)
class Archive:
    """The site model every page is planned from."""

    articles: tuple[Article, ...]  # newest first
    countries: tuple[Term, ...]  # by name
    topics: tuple[Term, ...]  # by name
    years: tuple[Year, ...]  # newest first
    links: dict  # slug -> Links
    authors: tuple[Term, ...] = ()  # by name
    stories: tuple[StoryLine, ...] = ()  # latest activity first



def newest_first(article: Article):
    return (-article.date.timestamp(), article.slug)


def build_archive(articles: tuple[Article, ...], memo: dict | None = None,
                  unlisted_slugs: frozenset[str] = frozenset(), jobs: int = 1) -> tuple[Archive, list[Problem]]:
    """Make the Archive; problems are cross-article ones (unknown related slugs…).

    ``memo`` (kept in the cache between builds) lets "More on this story" be
    worked out again only for the articles whose choice can have moved (builder.more).
    ``unlisted_slugs``: articles not in this archive whose related links are left out
    without a problem: files that failed to parse (their own problem is reported) and
    scheduled articles (linked once they are published). ``jobs``: worker processes for
    "More on this story", the one step that is per article and costly.
    """
    problems: list[Problem] = []
    articles = _canonical_topics(articles, problems)
    articles = _canonical_stories(articles, problems)
    ordered = tuple(sorted(articles, key=newest_first))
    by_slug = {a.slug: a for a in ordered}

    countries: dict[str, list[Article]] = defaultdict(list)
    topics: dict[str, list[Article]] = defaultdict(list)
    country_of: dict[str, object] = {}
    topic_of: dict[str, Topic] = {}
    for article in ordered:
        for country in article.countries:
            countries[country.code].append(article)
            country_of[country.code] = country
        for topic in article.topics:
            topics[topic.key].append(article)
            topic_of[topic.key] = topic
    country_terms = tuple(sorted(
        (Term("country", c.name, c.slug, c.code, tuple(countries[code])) for code, c in country_of.items()),
        key=lambda t: (t.name.casefold(), t.slug)))
    topic_terms = tuple(sorted(
        (Term("topic", t.name, t.slug, "", tuple(topics[key])) for key, t in topic_of.items()),
        key=lambda t: (t.name.casefold(), t.slug)))
    author_terms = _author_terms(ordered)
    stories = _stories(ordered)
    parts = _story_parts(stories)

    related = _resolve_related(ordered, by_slug, problems, unlisted_slugs)
    referenced_by: dict[str, list[Article]] = defaultdict(list)
    for article in ordered:  # newest first, so each backlink list is too
        for target in {link.article.slug for link in related[article.slug] if link.article}:
            referenced_by[target].append(article)
    more = more_on_this_story(ordered, by_slug, related, referenced_by, {} if memo is None else memo, jobs)

    chronological = ordered[::-1]
    links = {}
    for index, article in enumerate(chronological):
        links[article.slug] = Links(
            related=related[article.slug],
            referenced_by=tuple(referenced_by.get(article.slug, ())),
            more=more[article.slug],
            older=chronological[index - 1] if index > 0 else None,
            newer=chronological[index + 1] if index + 1 < len(chronological) else None,
            story=parts.get(article.slug))

    return Archive(articles=ordered, countries=country_terms, topics=topic_terms,
                   years=_years(ordered), links=links, authors=author_terms, stories=stories), problems


def _author_terms(ordered) -> tuple[Term, ...]:
    """One term per author page (the registry's slug, or the free-text name's), by name; a
    page's name is the spelling most of its articles use."""
    articles_of: dict[str, list[Article]] = defaultdict(list)
    spellings: dict[str, Counter] = defaultdict(Counter)
    for article in ordered:
        for author in article.authors:
            if author.slug:  # a name with no letters or digits is a byline without a page
                articles_of[author.slug].append(article)
                spellings[author.slug][author.name] += 1
    terms = (Term("author", min(spellings[slug].items(), key=lambda item: (-item[1], item[0]))[0], slug, "",
                  tuple(items)) for slug, items in articles_of.items())
    return tuple(sorted(terms, key=lambda t: (t.name.casefold(), t.slug)))


def _canonical_stories(articles: tuple[Article, ...], problems: list[Problem]) -> tuple[Article, ...]:
    """One display name per story key (the most used spelling), as for topics."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    for article in articles:
        if article.story:
            spellings[article.story.key][article.story.name] += 1
    if not spellings:
        return articles
    canonical = {}
    for key, counts in spellings.items():
        name = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        first = next(a.story for a in articles if a.story and a.story.key == key)
        canonical[key] = dataclasses.replace(first, name=name)
    return tuple(article if not article.story or article.story == canonical[article.story.key]
                 else dataclasses.replace(article, story=canonical[article.story.key]) for article in articles)


def _stories(ordered) -> tuple[StoryLine, ...]:
    """Every running story, its articles oldest first; the story with the latest part first."""
    parts: dict[str, list[Article]] = defaultdict(list)
    for article in reversed(ordered):  # oldest first
        if article.story:
            parts[article.story.key].append(article)
    lines = [StoryLine(items[0].story.name, items[0].story.slug, tuple(items)) for items in parts.values()]
    return tuple(sorted(lines, key=lambda line: (-line.articles[-1].date.timestamp(), line.slug)))


def _story_parts(stories: tuple[StoryLine, ...]) -> dict[str, StoryPart]:
    parts = {}
    for line in stories:
        summary = line.summary
        items = line.articles
        for index, article in enumerate(items):
            parts[article.slug] = StoryPart(summary, index + 1, len(items),
                                            items[index - 1] if index else None,
                                            items[index + 1] if index + 1 < len(items) else None)
    return parts


def _canonical_topics(articles: tuple[Article, ...], problems: list[Problem]) -> tuple[Article, ...]:
    """One display name per topic key (the most used spelling) and unique topic slugs."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    for article in articles:
        for topic in article.topics:
            spellings[topic.key][topic.name] += 1
    canonical: dict[str, Topic] = {}
    by_slug: dict[str, str] = {}
    for key in sorted(spellings):
        name = min(spellings[key].items(), key=lambda item: (-item[1], item[0]))[0]
        topic = Topic(name=name, key=key, slug=_topic_slug(name, key))
        if topic.slug in by_slug:
            other = by_slug[topic.slug]
            where = next(a.path for a in articles if any(t.key == key for t in a.topics))
            problems.append(Problem(where, 0, f"topics '{name}' and '{canonical[other].name}' would "
                                              f"share the URL slug '{topic.slug}'; rename one"))
        by_slug[topic.slug] = key
        canonical[key] = topic
    return tuple(with_canonical_topics(article, canonical) for article in articles)


def with_canonical_topics(article: Article, canonical: dict[str, Topic]) -> Article:
    """The article with its topics under their canonical names (topic key -> Topic)."""
    topics = tuple(canonical.get(t.key, t) for t in article.topics)
    return article if topics == article.topics else dataclasses.replace(article, topics=topics)


def _topic_slug(name: str, key: str) -> str:
    from builder.text import slugify
    # A topic in a non-Latin script slugifies to nothing: give it a stable code.
    return slugify(name) or "topic-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def _resolve_related(ordered, by_slug, problems, unlisted_slugs=frozenset()) -> dict[str, tuple[RelatedLink, ...]]:
    resolved = {}
    for article in ordered:
        links = []
        for item in article.related:
            if item.slug:
                target = by_slug.get(item.slug)
                if target is None and item.slug in unlisted_slugs:
                    continue  # that file's own problem is reported already, or it is scheduled
                if target is None:
                    problems.append(Problem(article.path, item.line, f"related slug '{item.slug}' "
                                            "matches no article in the archive"))
                elif target is article:
                    problems.append(Problem(article.path, item.line, "an article cannot be related to itself"))
                else:
                    links.append(RelatedLink("", "", target))
            else:
                links.append(RelatedLink(item.title, item.url, None))
        resolved[article.slug] = tuple(links)
    return resolved


def _years(ordered) -> tuple[Year, ...]:
    months: dict[tuple[int, int], list[Article]] = defaultdict(list)
    for article in ordered:
        months[(article.year, article.month)].append(article)
    years: dict[int, list[Month]] = defaultdict(list)
    for (year, month), items in sorted(months.items(), reverse=True):
        years[year].append(Month(year, month, tuple(items)))
    return tuple(Year(year, tuple(items)) for year, items in sorted(years.items(), reverse=True))
