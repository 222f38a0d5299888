"""Pages: plan every output file of the site from the Archive.

A Page names its URL, output file, template and context; nothing is
rendered here, so planning is cheap and the same plan serves build,
check and serve.
"""

from __future__ import annotations

import calendar
import dataclasses
from dataclasses import dataclass, field

from builder.archive import Archive
from builder.urls import Urls


@dataclass(frozen=True)
class Pagination:
    """One page of a paginated listing."""

    number: int  # 1-based
    total: int  # number of pages
    items: tuple  # the articles on this page
    first_url: str  # URL of the listing's first page (the others follow from it)
    item_count: int  # articles in the whole listing
    offset: int  # index of this page's first item in the whole listing

    def url_of(self, number: int) -> str:
        """URL of page ``number`` of this listing."""
        return Urls.paged(self.first_url, number)

    @property
    def urls(self) -> tuple[str, ...]:
        """URL of every page of the listing, first to last."""
        return tuple(self.url_of(n) for n in range(1, self.total + 1))

    @property
    def previous(self) -> str:
        return self.url_of(self.number - 1) if self.number > 1 else ""

    @property
    def next(self) -> str:
        return self.url_of(self.number + 1) if self.number < self.total else ""

    @property
    def url(self) -> str:
        return self.url_of(self.number)

    def window(self, size: int = 2) -> list[tuple[int, str]]:
        """Page numbers to link around this one (first and last always; 0 for a gap)."""
        wanted = {1, self.total, *range(self.number - size, self.number + size + 1)}
        shown: list[tuple[int, str]] = []
        for number in sorted(n for n in wanted if 1 <= n <= self.total):
            if shown and number - shown[-1][0] > 1:
                shown.append((0, ""))
            shown.append((number, self.url_of(number)))
        return shown


@dataclass(frozen=True)
class Page:
    """One file to render."""

    kind: str  # 'article', 'home', 'term', 'terms', 'archive', 'year', 'month', 'search', '404', …
    url: str
    output: str  # path relative to the output folder
    template: str
    title: str  # for <title> and headings
    context: dict = field(hash=False)  # extra template variables
    indexed: bool = False  # goes into the search index


def paginate(items: tuple, size: int, first_url: str) -> list[Pagination]:
    """Split ``items`` into pages of a listing whose first page is at ``first_url``.
    Always one page at least."""
    total = max(1, -(-len(items) // size))
    # Each page keeps only the first URL: with every URL, a 500-page listing stored
    # 250,000 of them in the cache (each page's plan) and hashed them all.
    return [Pagination(number=n, total=total, items=items[(n - 1) * size: n * size], first_url=first_url,
                       item_count=len(items), offset=(n - 1) * size)
            for n in range(1, total + 1)]


def month_name(month: int) -> str:
    return calendar.month_name[month]


def refresh(page: Page) -> Page:
    """A page read back from the cache with its fields that copy an article's brought
    up to date (builder.patch): an article page's title is its article's."""
    if page.kind == "article" and page.title != page.context["article"].title:
        return dataclasses.replace(page, title=page.context["article"].title)
    return page


def plan_pages(archive: Archive, urls: Urls, page_size: int, search: bool) -> list[Page]:
    """Every HTML page of the site, in a stable order."""
    pages: list[Page] = []

    def add(kind, url, template, title, indexed=False, **context):
        pages.append(Page(kind=kind, url=url, output=urls.output_path(url), template=template,
                          title=title, context=context, indexed=indexed))

    for pagination in paginate(archive.articles, page_size, urls.home()):
        add("home", pagination.url, "home.html", "Latest", pagination=pagination)
    for article in archive.articles:
        add("article", urls.article(article), "article.html", article.title, indexed=True,
            article=article, links=archive.links[article.slug])
    for kind, terms, heading in (("country", archive.countries, "Countries"),
                                 ("topic", archive.topics, "Topics")):
        index_url = urls.countries() if kind == "country" else urls.topics()
        add("terms", index_url, "terms.html", heading, terms=tuple(t.summary for t in terms), term_kind=kind)
        for term in terms:
            summary = term.summary
            for pagination in paginate(term.articles, page_size, urls.term(term)):
                add("term", pagination.url, "term.html", term.name, term=summary, pagination=pagination)
    add("archive", urls.archive(), "archive.html", "Archive", years=tuple(y.summary for y in archive.years),
        count=len(archive.articles))
    for year in archive.years:
        add("year", urls.year(year.year), "year.html", str(year.year), year=year.summary)
        for month in year.months:
            add("month", urls.month(month.year, month.month), "month.html",
                f"{month_name(month.month)} {month.year}", month=month)
    if search:
        add("search", urls.search(), "search.html", "Search")
    add("404", urls.not_found(), "404.html", "Page not found")
    return pages
