"""Pages: plan every output file of the site from the Archive.

A Page names its URL, output file, template and context; nothing is
rendered here, so planning is cheap and the same plan serves build,
check and serve.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from builder.archive import Archive, Links, Month, MonthSummary, StoryLine, StorySummary, TermSummary, YearSummary
from builder.model import Article, Correction
from builder.problems import Problem
from builder.state import Sections
from builder.text import month_name
from builder.urls import Urls


REACH = 4  # newer pages a Pagination counts: enough for window() to tell a gap from a neighbour


@dataclass(frozen=True)
class Pagination:
    """One page of a listing whose articles run newest first.

    Pages are numbered from the oldest, so that a page keeps its URL and its articles
    as new articles arrive: page 1 holds the oldest ``size`` articles, page 2 the next
    ``size``, and the listing's first URL holds the newest page, the newest full page
    together with the articles that do not fill a page yet (``size`` to 2 × ``size`` − 1
    of them). An addition then changes the newest page alone, and every ``size``
    additions adds one page. For the same reason a page stores nothing that every
    addition moves: how many pages are newer is counted up to REACH only, and the
    listing's article count is given on its newest page alone.
    """

    number: int  # 1 = the oldest page; the newest page has the highest number
    items: tuple  # the articles on this page, newest first
    first_url: str  # URL of the listing's newest page (the others follow from it)
    newer: int  # pages newer than this one, counted up to REACH (0: this is the newest page)
    item_count: int | None = None  # articles in the whole listing; on the newest page only

    @property
    def latest(self) -> bool:
        """This is the listing's newest page (at its first URL)."""
        return self.newer == 0

    @property
    def paged(self) -> bool:
        """The listing has more than one page."""
        return self.number > 1 or self.newer > 0

    def url_of(self, number: int) -> str:
        """URL of page ``number`` of this listing (the newest page is the listing's own URL)."""
        if number == self.number + self.newer and self.newer < REACH:
            return self.first_url
        return Urls.paged(self.first_url, number)

    @property
    def url(self) -> str:
        return self.url_of(self.number)

    @property
    def previous(self) -> str:
        """The next newer page ('' on the newest)."""
        return self.url_of(self.number + 1) if self.newer else ""

    @property
    def next(self) -> str:
        """The next older page ('' on the oldest)."""
        return self.url_of(self.number - 1) if self.number > 1 else ""

    def window(self) -> list[tuple[str, str]]:
        """Pages to link, newest first, as (label, URL): the newest page ("Latest"), two
        either side of this one, and the oldest (page 1); ('', '') marks a gap."""
        newest = self.number + self.newer if self.newer < REACH else None
        top = self.number + min(self.newer, 2)
        numbers = sorted({1, *range(max(1, self.number - 2), top + 1)} - {newest}, reverse=True)
        shown = [("Latest", self.first_url)]
        above = newest if newest is not None else top + 2  # anything above top + 1 leaves a gap
        for number in numbers:
            if above - number > 1:
                shown.append(("", ""))
            shown.append((str(number), self.url_of(number)))
            above = number
        return shown


class Context:
    """What a page's template sees besides the globals; one dataclass per page kind.

    Every field becomes a template variable; ``title`` (a field or a property) is the
    page's title for ``<title>`` and headings.
    """

    def variables(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "title"}


@dataclass(frozen=True)
class Plain(Context):
    """A page with nothing but its title (search, 404, robots.txt)."""

    title: str


@dataclass(frozen=True)
class Listing(Context):
    """A page of the newest articles (the home page and its older pages)."""

    title: str
    pagination: Pagination


@dataclass(frozen=True)
class ArticleContext(Context):
    """An article's own page."""

    article: Article
    links: Links

    @property
    def title(self) -> str:
        return self.article.title  # read, never copied: a patched title edit reaches it


@dataclass(frozen=True)
class TermIndex(Context):
    """Every country (or every topic) with its count."""

    title: str
    terms: tuple[TermSummary, ...]
    term_kind: str  # 'country' or 'topic'


@dataclass(frozen=True)
class TermListing(Context):
    """A page of one country's or topic's articles."""

    term: TermSummary
    pagination: Pagination

    @property
    def title(self) -> str:
        return self.term.name


@dataclass(frozen=True)
class AuthorListing(Context):
    """A page of one author's articles, with what the registry says of them."""

    term: TermSummary
    profile: object  # the [authors.<slug>] entry (name, url, bio, image), or None for a free-text name
    pagination: Pagination

    @property
    def title(self) -> str:
        return self.term.name


@dataclass(frozen=True)
class StoryIndex(Context):
    """Every running story with its span of dates and its count, latest activity first."""

    title: str
    stories: tuple[StorySummary, ...]


@dataclass(frozen=True)
class StoryContext(Context):
    """A running story's timeline, oldest first."""

    story: StoryLine

    @property
    def title(self) -> str:
        return self.story.name


@dataclass(frozen=True)
class ArchiveIndex(Context):
    """Every year with its months and counts."""

    title: str
    years: tuple[YearSummary, ...]
    count: int


@dataclass(frozen=True)
class YearContext(Context):
    """A page of one year's articles, newest first (the template groups them by month)."""

    year: YearSummary
    pagination: Pagination
    previous: int | None  # the year before that has articles
    next: int | None  # the year after that has articles

    @property
    def title(self) -> str:
        return str(self.year.year)


@dataclass(frozen=True)
class MonthContext(Context):
    """One month's articles."""

    month: Month
    previous: MonthSummary | None  # the month before that has articles
    next: MonthSummary | None  # the month after that has articles

    @property
    def title(self) -> str:
        return f"{month_name(self.month.month)} {self.month.year}"


@dataclass(frozen=True)
class AliasContext(Context):
    """A page at an article's old address that sends readers (and crawlers) to the new one."""

    article: Article
    alias: str  # the old address as the front matter gives it ('/2024/05/old-slug/')

    @property
    def title(self) -> str:
        return self.article.title


@dataclass(frozen=True)
class CorrectionsContext(Context):
    """Every correction of the archive, newest first."""

    title: str
    corrections: tuple[tuple[Article, Correction], ...]


@dataclass(frozen=True)
class Page:
    """One file to render."""

    kind: str  # 'article', 'home', 'term', 'terms', 'archive', 'year', 'month', 'search', '404', …
    url: str
    output: str  # path relative to the output folder
    template: str
    context: Context  # the template's variables
    indexed: bool = False  # goes into the search index

    @property
    def title(self) -> str:
        """For <title> and headings."""
        return self.context.title


def sections_of(archive: Archive) -> Sections:
    return Sections(authors=bool(archive.authors), stories=bool(archive.stories),
                    corrections=any(a.corrections for a in archive.articles))


def paginate(items: tuple, size: int, first_url: str) -> list[Pagination]:
    """Split ``items`` (newest first) into the pages of a listing whose newest page is at
    ``first_url``, newest page first; numbered from the oldest (see Pagination). Always one
    page at least."""
    total = max(1, len(items) // size)
    newest_end = len(items) - (total - 1) * size
    pages = [Pagination(number=total, items=items[:newest_end], first_url=first_url, newer=0,
                        item_count=len(items))]
    for number in range(total - 1, 0, -1):
        end = len(items) - (number - 1) * size
        pages.append(Pagination(number=number, items=items[end - size:end], first_url=first_url,
                                newer=min(total - number, REACH)))
    return pages


def _counted(summary: TermSummary, pagination: Pagination) -> TermSummary:
    """The term as one page of its listing shows it: the count on the newest page only, so
    that the older pages stay unchanged as articles arrive (see Pagination)."""
    return summary if pagination.latest else replace(summary, count=None)


def plan_pages(archive: Archive, urls: Urls, page_size: int, search: bool, profiles: dict | None = None) -> list[Page]:
    """Every HTML page of the site, in a stable order."""
    pages: list[Page] = []

    def add(kind: str, url: str, template: str, context: Context, indexed: bool = False) -> None:
        pages.append(Page(kind=kind, url=url, output=urls.output_path(url), template=template,
                          context=context, indexed=indexed))

    for pagination in paginate(archive.articles, page_size, urls.home()):
        add("home", pagination.url, "home.html", Listing("Latest", pagination))
    for article in archive.articles:
        add("article", urls.article(article), "article.html",
            ArticleContext(article, archive.links[article.slug]), indexed=True)
    for kind, terms, heading in (("country", archive.countries, "Countries"),
                                 ("topic", archive.topics, "Topics")):
        index_url = urls.countries() if kind == "country" else urls.topics()
        add("terms", index_url, "terms.html", TermIndex(heading, tuple(t.summary for t in terms), kind))
        for term in terms:
            summary = term.summary
            for pagination in paginate(term.articles, page_size, urls.term(term)):
                add("term", pagination.url, "term.html", TermListing(_counted(summary, pagination), pagination))
    if archive.authors:
        add("terms", urls.authors(), "terms.html", TermIndex("Authors", tuple(t.summary for t in archive.authors),
                                                             "author"))
        for term in archive.authors:
            summary, profile = term.summary, (profiles or {}).get(term.slug)
            for pagination in paginate(term.articles, page_size, urls.term(term)):
                add("author", pagination.url, "author.html",
                    AuthorListing(_counted(summary, pagination), profile, pagination))
    if archive.stories:
        add("stories", urls.stories(), "stories.html", StoryIndex("Stories", tuple(s.summary for s in archive.stories)))
        for story in archive.stories:
            add("story", urls.story(story), "story.html", StoryContext(story))
    add("archive", urls.archive(), "archive.html",
        ArchiveIndex("Archive", tuple(y.summary for y in archive.years), len(archive.articles)))
    years = archive.years  # newest first
    months = [month for year in years for month in year.months]  # newest first
    month_index = {(m.year, m.month): i for i, m in enumerate(months)}
    for number, year in enumerate(years):
        older = years[number + 1].year if number + 1 < len(years) else None
        newer = years[number - 1].year if number else None
        articles = tuple(a for month in year.months for a in month.articles)
        for pagination in paginate(articles, page_size, urls.year(year.year)):
            add("year", pagination.url, "year.html", YearContext(year.summary, pagination, older, newer))
        for month in year.months:
            at = month_index[(month.year, month.month)]
            add("month", urls.month(month.year, month.month), "month.html", MonthContext(
                month, months[at + 1].summary if at + 1 < len(months) else None,
                months[at - 1].summary if at else None))
    if search:
        add("search", urls.search(), "search.html", Plain("Search"))
        add("opensearch", urls.opensearch(), "opensearch.xml", Plain("OpenSearch"))
    add("404", urls.not_found(), "404.html", Plain("Page not found"))
    for article in archive.articles:
        for alias in article.aliases:
            add("alias", urls.link(alias), "alias.html", AliasContext(article, alias))
    return pages


@dataclass(frozen=True)
class RedirectsContext(Context):
    """``_redirects``: each alias's address and the address it moved to."""

    title: str
    redirects: tuple[tuple[str, str], ...]  # (old URL, new URL), root-relative


def plan_redirects(archive: Archive, urls: Urls) -> list[Page]:
    """``_redirects`` for hosts that read one (Netlify, Cloudflare Pages): a 301 per alias."""
    redirects = tuple((urls.link(alias), urls.article(article)) for article in archive.articles
                      for alias in article.aliases)
    return [Page(kind="redirects", url=urls.base_path + "_redirects", output="_redirects",
                 template="redirects.txt", context=RedirectsContext("Redirects", redirects))]


def plan_corrections(archive: Archive, urls: Urls) -> list[Page]:
    """The corrections page and its feed, when any article has a correction."""
    corrections = sorted(((a, c) for a in archive.articles for c in a.corrections),
                         key=lambda pair: (-pair[1].date.timestamp(), pair[0].slug))
    if not corrections:
        return []
    context = CorrectionsContext("Corrections", tuple(corrections))
    return [Page(kind="corrections", url=urls.corrections(), output=urls.output_path(urls.corrections()),
                 template="corrections.html", context=context),
            Page(kind="corrections-feed", url=urls.corrections_feed(),
                 output=urls.output_path(urls.corrections_feed()), template="corrections.xml", context=context)]


def clashes(pages: list[Page]) -> list[Problem]:
    """Two pages planned at the same address (an alias over a page or over another alias)."""
    owners: dict[str, Page] = {}
    problems = []
    for page in pages:
        other = owners.setdefault(page.output, page)
        if other is not page:
            for one, two in ((page, other), (other, page)):
                if one.kind == "alias":
                    problems.append(Problem(one.context.article.path, 0,
                                            f"alias '{one.context.alias}' is the address of {_owner(two)}: "
                                            "remove it from aliases"))
    return problems


def _owner(page: Page) -> str:
    if page.kind == "alias":
        return f"an alias of {page.context.article.path}"
    if page.kind == "article":
        return f"the article {page.context.article.path}"
    return f"the site's {page.kind} page {page.url}"
