"""Sitemap: plan ``sitemap.xml`` (every article and listing page with its
``lastmod``) and ``robots.txt`` from the planned pages.

Past 50,000 URLs (the sitemap protocol's limit per file) the URLs are split
over ``sitemap-1.xml``, ``sitemap-2.xml``, … and ``sitemap.xml`` becomes a
sitemap index, so robots.txt and search consoles always name one address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from builder.archive import Archive
from builder.pages import (ArchiveIndex, ArticleContext, AuthorListing, Context, Listing, MonthContext, Page, Plain,
                           StoryContext, StoryIndex, TermIndex, TermListing, YearContext)
from builder.urls import Urls

URLS_PER_SITEMAP = 50_000
# Pages that are not content: a search form, the not-found page, redirects from old addresses.
LEFT_OUT_KINDS = frozenset({"search", "404", "alias"})


@dataclass(frozen=True)
class SitemapEntry:
    """One <url> of a sitemap, or one <sitemap> of a sitemap index."""

    url: str  # root-relative; templates make it absolute
    lastmod: dt.datetime | None  # latest change of the articles the page shows (None: unknown)


def plan_sitemap(pages: list[Page], archive: Archive, urls: Urls, limit: int = 0) -> list[Page]:
    """sitemap.xml (an index past ``limit`` URLs, with its parts) and robots.txt."""
    limit = limit or URLS_PER_SITEMAP
    lastmod = _LastModified(archive)
    entries = [SitemapEntry(page.url, lastmod.of(page)) for page in pages
               if page.output.endswith(".html") and page.kind not in LEFT_OUT_KINDS]
    planned = []

    def add(kind, url, template, context):
        planned.append(Page(kind=kind, url=url, output=urls.output_path(url), template=template, context=context))

    if len(entries) <= limit:
        add("sitemap", urls.sitemap(), "sitemap.xml", SitemapContext("Sitemap", tuple(entries)))
    else:
        parts = [tuple(entries[start:start + limit]) for start in range(0, len(entries), limit)]
        for number, part in enumerate(parts, start=1):
            add("sitemap", urls.sitemap(number), "sitemap.xml", SitemapContext("Sitemap", part))
        index = tuple(SitemapEntry(urls.sitemap(number), _latest(e.lastmod for e in part))
                      for number, part in enumerate(parts, start=1))
        add("sitemap-index", urls.sitemap(), "sitemap_index.xml", SitemapIndexContext("Sitemap", index))
    add("robots", urls.robots(), "robots.txt", Plain("robots.txt"))
    return planned


@dataclass(frozen=True)
class SitemapContext(Context):
    title: str
    entries: tuple[SitemapEntry, ...]


@dataclass(frozen=True)
class SitemapIndexContext(Context):
    title: str
    sitemaps: tuple[SitemapEntry, ...]


class _LastModified:
    """When a page last changed: the latest change among the articles that shape it.

    A page of a listing keeps its articles as new ones arrive (pages count from the
    oldest, see pages.Pagination), so its time is the latest among its own articles.
    """

    def __init__(self, archive: Archive):
        self.archive = archive
        # Pages carry summaries of terms and years; their articles are in the archive.
        self.terms = {(t.kind, t.slug): t for t in archive.countries + archive.topics + archive.authors}
        self.years = {y.year: y for y in archive.years}
        self._latest_of: dict[tuple, dt.datetime | None] = {}  # see _whole
        # Each article's latest change, worked out once: the listing pages, the term indexes,
        # the years and the months ask for every article again (1.4 million asks at 100,000).
        self._times = {id(a): a.last_modified for a in archive.articles}

    def of(self, page: Page) -> dt.datetime | None:
        context = page.context
        if isinstance(context, ArticleContext):
            return context.article.last_modified
        if isinstance(context, (Listing, TermListing, AuthorListing)):
            # A page of a listing shows its own articles alone (see pages.Pagination).
            return self._changed(context.pagination.items)
        if isinstance(context, TermIndex):
            return _latest(self._changed(self.terms[(t.kind, t.slug)].articles) for t in context.terms)
        if isinstance(context, ArchiveIndex):
            return self._whole(("archive",), lambda: self._changed(self.archive.articles))
        if isinstance(context, YearContext):
            year = self.years[context.year.year]
            return self._whole(("year", year.year), lambda: _latest(self._changed(m.articles) for m in year.months))
        if isinstance(context, MonthContext):
            month = context.month
            return self._whole(("month", id(month)), lambda: self._changed(month.articles))
        if isinstance(context, StoryContext):
            story = context.story
            return self._whole(("story", id(story)), lambda: self._changed(story.articles))
        if isinstance(context, StoryIndex):
            return self._whole(("stories",), lambda: _latest(self._changed(s.articles) for s in self.archive.stories))
        return None  # a page kind this module does not know: no lastmod rather than a wrong one

    def _changed(self, articles) -> dt.datetime | None:
        """The latest change of ``articles`` (None for none)."""
        times = self._times
        return max([times.get(id(a)) or a.last_modified for a in articles], default=None)

    def _whole(self, key: tuple, latest) -> dt.datetime | None:
        """``latest()``, once per key: every page of a paginated year (or month, or story)
        shows the same latest change, and a year can have dozens of pages."""
        if key not in self._latest_of:
            self._latest_of[key] = latest()
        return self._latest_of[key]


def _latest(times) -> dt.datetime | None:
    return max((t for t in times if t), default=None)


NEWS_WINDOW = dt.timedelta(hours=48)  # Google News: articles published in the last two days


@dataclass(frozen=True)
class NewsSitemapContext(Context):
    """``news-sitemap.xml``: the articles of the last 48 hours with Google News' tags."""

    title: str
    articles: tuple  # newest first
    publication: str  # the publication's name (site.toml's publisher, else the title)
    language: str  # Google's form: ISO 639 ('en'), or 'zh-cn' / 'zh-tw'


def plan_news_sitemap(archive: Archive, urls: Urls, now: dt.datetime, publication: str,
                      language: str) -> tuple[Page, dt.datetime | None]:
    """The news sitemap as of ``now``, and when its contents change next (the first of its
    articles to leave the window; None when it is empty)."""
    start = now - NEWS_WINDOW
    recent = tuple(a for a in archive.articles if start <= a.date <= now)
    page = Page(kind="news-sitemap", url=urls.news_sitemap(), output=urls.output_path(urls.news_sitemap()),
                template="news-sitemap.xml",
                context=NewsSitemapContext("News sitemap", recent, publication, news_language(language)))
    return page, min((a.date + NEWS_WINDOW for a in recent), default=None)


def news_language(language: str) -> str:
    """A BCP 47 tag as Google News wants it: the ISO 639 code, except zh-cn and zh-tw."""
    parts = language.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return "zh-tw" if any(p in ("tw", "hk", "mo", "hant") for p in parts[1:]) else "zh-cn"
    return parts[0]
