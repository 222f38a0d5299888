"""Feeds: plan the Atom feeds (the whole archive, each country, each topic) and
the site's JSON Feed as Pages rendered by ``feed.xml`` and ``feed.json``.

A feed carries the newest articles (``[feeds] size``) by date; its
``updated`` time is the latest change among them, so output stays
deterministic (no build clock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from builder.archive import Archive, TermSummary
from builder.model import Article
from builder.pages import Context, Page
from builder.urls import Urls

# The feed of an empty archive still needs an <updated>: a fixed time, not the clock.
EMPTY_FEED_UPDATED = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Feed:
    """One feed: the listing it follows and its newest articles."""

    url: str  # the feed's own URL
    page_url: str  # the HTML page it follows (home or a term page); also the feed's id
    articles: tuple[Article, ...]  # newest first, at most [feeds] size
    term: TermSummary | None = None  # None for the whole archive

    @property
    def updated(self) -> dt.datetime:
        return max((a.last_modified for a in self.articles), default=EMPTY_FEED_UPDATED)


@dataclass(frozen=True)
class FeedContext(Context):
    """A feed page."""

    title: str
    feed: Feed


def plan_feeds(archive: Archive, urls: Urls, size: int) -> list[Page]:
    """The site's Atom and JSON feeds, then one Atom feed per country and topic."""
    newest = archive.articles[:size]
    feeds = [("feed.xml", "Latest", Feed(urls.feed("xml"), urls.home(), newest)),
             ("feed.json", "Latest", Feed(urls.feed("json"), urls.home(), newest))]
    feeds += [("feed.xml", term.name, Feed(urls.term_feed(term), urls.term(term), term.articles[:size], term.summary))
              for term in archive.countries + archive.topics + archive.authors]
    return [Page(kind="feed", url=feed.url, output=urls.output_path(feed.url), template=template,
                 context=FeedContext(title, feed))
            for template, title, feed in feeds]
