"""Helpers: the filters and functions templates call (dates, right-to-left text, term links, bylines, pictures)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from markupsafe import Markup, escape

from builder.markdown import EXTERNAL_HINT, is_external
from builder.pictures import make_pictures
from builder.safetext import has_right_to_left
from builder.text import month_name


@lru_cache(maxsize=65536)  # the same dates appear on many pages
def datetime_attr(value: dt.datetime) -> str:
    """Machine-readable value for <time datetime>: ISO 8601 with the offset."""
    return value.isoformat(timespec="seconds")


def sort_date(value: dt.datetime) -> str:
    """The instant in UTC, '2025-06-13T00:00:00Z': sorts as text in time order."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=65536)
def date_text(value: dt.datetime, date_only: bool = False) -> str:
    """Human-readable date ('13 June 2025') with the time when one was given."""
    text = f"{value.day} {month_name(value.month)} {value.year}"
    return text if date_only else f"{text}, {value:%H:%M} {value.tzname()}"


def dir_auto(text: str) -> Markup:
    """' dir="auto"' for the tag that holds ``text`` when it has right-to-left letters:
    ``<h1{{ article.title | dir_auto }}>``. The element is then isolated and takes the
    text's own direction; text without them needs neither (nothing in it can reorder)."""
    return Markup(' dir="auto"') if has_right_to_left(str(text)) else Markup("")


def bdi(text: str) -> Markup:
    """``text`` escaped, inside <bdi> when it has right-to-left letters: for a name
    that shares an element with other text (a byline, a link with its label)."""
    return Markup("<bdi>{}</bdi>").format(text) if has_right_to_left(str(text)) else escape(text)


@lru_cache(maxsize=65536)
def _dateline(date: dt.datetime, date_only: bool) -> Markup:
    # Markup.format goes through string.Formatter: slow on 170,000 calls per build.
    return Markup(f'<time datetime="{escape(datetime_attr(date))}">{escape(date_text(date, date_only))}</time>')


def make_helpers(urls, profiles: dict | None = None, images=None) -> dict:
    """Small HTML helpers every template can call (memoized: the same terms and
    dates recur on thousands of pages). Arguments are escaped by Markup.format."""

    @lru_cache(maxsize=None)
    def flag_of(term) -> Markup:
        """A country's SVG flag beside its name ('' for other terms). Decorative: the name next
        to it is the accessible text, so the image has an empty alt and a screen reader says
        the name once."""
        code = getattr(term, "code", "")
        if not code or getattr(term, "kind", "") != "country":
            return Markup("")
        # Some flags are detailed drawings (Serbia's is 180 KB of SVG): fetched and drawn only
        # when in view, so a page of every country does not parse them all before it responds.
        return Markup('<img class="flag" src="{}" alt="" width="20" height="15" loading="lazy" decoding="async">').format(
            urls.flag(code))

    @lru_cache(maxsize=None)
    def term_link(term, flag: bool = False) -> Markup:
        prefix = flag_of(term) if flag else Markup("")
        link = prefix + Markup('<a href="{}">{}</a>').format(urls.term(term), term.name)
        # A topic is free text, maybe right-to-left: isolated, it cannot reorder the
        # commas and the other terms of the list it is in.
        return Markup("<bdi>{}</bdi>").format(link) if has_right_to_left(term.name) else link

    @lru_cache(maxsize=None)
    def known_term_links(terms: tuple, flag: bool) -> Markup:
        return Markup(", ").join(term_link(term, flag) for term in terms)

    def term_links(terms, flag: bool = False) -> Markup:
        if isinstance(terms, tuple):  # an article's countries or topics: the same on many pages
            return known_term_links(terms, flag)
        return Markup(", ").join(term_link(term, flag) for term in terms)

    def dateline(article, date_only: bool | None = None) -> Markup:
        return _dateline(article.date, article.date_only if date_only is None else date_only)

    registry = profiles or {}

    def author_url(author) -> str:
        """Where an author is described: the registry's url, else the author page (absolute)."""
        profile = registry.get(author.slug)
        return urls.absolute(urls.link(profile.url)) if profile is not None and profile.url else \
            urls.absolute(urls.author(author))

    @lru_cache(maxsize=None)
    def bylines(authors: tuple) -> Markup:
        """'A, B and C', each linked to their author page."""
        names = [Markup('<a href="{}" rel="author">{}</a>').format(urls.author(a), bdi(a.name)) if a.slug
                 else bdi(a.name) for a in authors]
        if len(names) == 1:
            return names[0]
        return Markup(", ").join(names[:-1]) + Markup(" and ") + names[-1]

    def link_to(href: str, text: str) -> Markup:
        """A link from front matter: under the base path when it is a site path; marked as
        external (rel, class and a hint for screen readers) when it leads to another site."""
        target = urls.link(href)
        direction = dir_auto(text)
        # f-strings rather than Markup.format (string.Formatter): a source link on every article page.
        if is_external(target, urls.origin):
            return Markup(f'<a href="{escape(target)}" rel="external noopener" class="external"{direction}>'
                          f'{escape(text)}{EXTERNAL_HINT}</a>')
        return Markup(f'<a href="{escape(target)}"{direction}>{escape(text)}</a>')

    pictures = make_pictures(urls, images)
    return {"term_link": term_link, "term_links": term_links, "dateline": dateline, "bylines": bylines,
            "author_url": author_url, "flag": flag_of, "link_to": link_to, **pictures}
