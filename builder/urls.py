"""URLs: the one module that knows where every page lives.

Templates and code ask ``Urls`` for a page's URL; nothing else builds a
path string, so a base path such as '/archive/' is right everywhere.

URL scheme (pretty URLs: each page is a folder holding index.html):

    /                       home, newest first; /page/N/ for older pages, 1 = the oldest
    /YYYY/MM/slug/          an article (year and month of its date, site time zone)
    /YYYY/  /YYYY/MM/       date archives;  /archive/  index of all years
    /countries/  /countries/<slug>/  (/page/N/)   countries and their articles
    /topics/     /topics/<slug>/     (/page/N/)   topics and their articles
    /authors/    /authors/<slug>/    (/page/N/)   authors and their articles
    /stories/    /stories/<slug>/    running stories and each one's timeline
    /search/                search page; /pagefind/ its index and Pagefind's UI files
    /feed.xml /feed.json    site feeds; /countries/<slug>/feed.xml, /topics/…, /authors/…
    /news-sitemap.xml       Google News sitemap (the last 48 hours);  /opensearch.xml
    /sitemap.xml (/sitemap-N.xml past 50,000 URLs) /robots.txt /404.html
    /corrections/  /corrections/feed.xml   every correction, newest first (when there is one)
    an article's aliases    its old addresses, each a page that redirects to it
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

SEARCH_BUNDLE = "pagefind"  # the output folder of the search index and Pagefind's UI files
TERM_FOLDERS = {"country": "countries", "topic": "topics", "author": "authors"}


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")  # pictures the build resizes


def local_image_file(article_path: str, src: str) -> str | None:
    """The file a picture's src names, relative to the site folder: 'content/2025/photo.jpg' for
    'photo.jpg' beside content/2025/x.md, 'static/images/p.jpg' for '/images/p.jpg'; None for a
    URL or a path that leaves the site."""
    if src.startswith(("http://", "https://", "//", "data:")) or "?" in src or "#" in src:
        return None
    if not src.lower().endswith(IMAGE_SUFFIXES):
        return None
    if src.startswith("/"):
        file = posixpath.normpath("static" + src)
        return file if file.startswith("static/") else None
    file = posixpath.normpath(posixpath.join(posixpath.dirname(article_path), src))
    return file if file.startswith("content/") else None


def under_base(url: str, base_path: str) -> str:
    """``url`` moved under ``base_path`` when it is root-relative ('/2025/06/x/' becomes
    '/archive/2025/06/x/'); absolute, protocol-relative and already moved URLs stay."""
    if url.startswith("/") and not url.startswith("//") and not (url + "/").startswith(base_path):
        return base_path.rstrip("/") + url
    return url


@dataclass(frozen=True)
class Urls:
    """Root-relative URLs under a base path, and absolute ones under an origin."""

    base_path: str  # '/' or '/archive/'
    origin: str = ""  # 'https://user.github.io' ('' when base_url is only a path)

    def _path(self, relative: str) -> str:
        return self.base_path + relative

    def home(self, page: int | None = None) -> str:
        """The home page, or page ``page`` (1 = the oldest) of its listing."""
        return self._path(self._page_suffix("", page))

    def article(self, article) -> str:
        return self._path(f"{article.year:04d}/{article.month:02d}/{article.slug}/")

    def term(self, term, page: int | None = None) -> str:
        """A country's, topic's or author's page (``term.kind`` and ``term.slug``), or page
        ``page`` (1 = the oldest) of its listing."""
        return self._path(self._page_suffix(f"{TERM_FOLDERS[term.kind]}/{term.slug}/", page))

    def term_feed(self, term) -> str:
        return self.term(term) + "feed.xml"

    def authors(self) -> str:
        return self._path("authors/")

    def author(self, author) -> str:
        """An author's page (an Author of an article, or an author term)."""
        return self._path(f"authors/{author.slug}/")

    def stories(self) -> str:
        return self._path("stories/")

    def story(self, story) -> str:
        return self._path(f"stories/{story.slug}/")

    def news_sitemap(self) -> str:
        return self._path("news-sitemap.xml")

    def opensearch(self) -> str:
        return self._path("opensearch.xml")

    def countries(self) -> str:
        return self._path("countries/")

    def topics(self) -> str:
        return self._path("topics/")

    def archive(self) -> str:
        return self._path("archive/")

    def year(self, year: int) -> str:
        return self._path(f"{year:04d}/")

    def month(self, year: int, month: int) -> str:
        return self._path(f"{year:04d}/{month:02d}/")

    def corrections(self) -> str:
        return self._path("corrections/")

    def corrections_feed(self) -> str:
        return self._path("corrections/feed.xml")

    def search(self) -> str:
        return self._path("search/")

    def search_bundle(self, name: str = "") -> str:
        """Pagefind's index and UI files (written by builder/search.py)."""
        return self._path(f"{SEARCH_BUNDLE}/{name}")

    def feed(self, kind: str = "xml") -> str:
        return self._path(f"feed.{kind}")

    def sitemap(self, part: int = 0) -> str:
        """The sitemap (part 0), or part N of a sitemap split past 50,000 URLs."""
        return self._path(f"sitemap-{part}.xml" if part else "sitemap.xml")

    def robots(self) -> str:
        return self._path("robots.txt")

    def asset(self, name: str, version: str = "") -> str:
        return self._path(f"static/{name}") + (f"?v={version}" if version else "")

    def image(self, output: str) -> str:
        """A resized picture's file (builder.images: 'images/<key>/<name>')."""
        return self._path(output)

    def icon(self, name: str) -> str:
        """An icon or the web app manifest, at the site's root (builder.favicon)."""
        return self._path(name)

    def flag(self, code: str) -> str:
        """The SVG flag of an ISO alpha-2 code (published only for the archive's countries)."""
        return self._path(f"static/flags/{code.lower()}.svg")

    def not_found(self) -> str:
        return self._path("404.html")

    def link(self, url: str) -> str:
        """A URL from front matter or a body: root-relative ones move under the base path."""
        return under_base(url, self.base_path)

    def absolute(self, url: str) -> str:
        """An absolute URL for feeds, sitemaps and metadata (root-relative without an origin)."""
        return self.origin + url if url.startswith("/") else url

    @staticmethod
    def _page_suffix(folder: str, page: int | None) -> str:
        return folder if page is None else f"{folder}page/{page}/"

    @staticmethod
    def paged(first: str, page: int) -> str:
        """Page ``page`` (1 = the oldest) of a listing whose newest page is ``first``."""
        return Urls._page_suffix(first, page)

    def output_path(self, url: str) -> str:
        """The file (relative to the output folder) that serves ``url``."""
        relative = url[len(self.base_path):] if url.startswith(self.base_path) else url.lstrip("/")
        relative = relative.split("?", 1)[0]
        return relative + "index.html" if relative.endswith("/") or not relative else relative
