"""The article model: frozen records that every stage after parsing reads.

An Article carries values and digests only, never storage: its rendered body is
kept by a body store (builder.bodies) under ``body_digest``, and whoever needs
the HTML (the renderer) is handed that store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from builder.countries import Country
from builder.records import Compact
from builder.topics import Topic


@dataclass(frozen=True)
class RelatedItem(Compact):
    """One entry of an article's ``related`` list, before slugs are resolved."""

    slug: str = ""  # another article of the archive
    title: str = ""  # headline (external link or headline only)
    url: str = ""  # external link
    line: int = field(default=0, compare=False)  # where the item is in the source (for problems only)


@dataclass(frozen=True)
class SourceLink(Compact):
    """Where the story came from."""

    name: str
    url: str


@dataclass(frozen=True)
class Image(Compact):
    """The article's lead image (``image:`` in front matter)."""

    src: str  # as the front matter gives it
    alt: str  # '' for a decorative picture (said explicitly: alt: "")
    caption: str = ""
    credit: str = ""
    file: str = ""  # the local file, relative to the site folder ('' for an http(s) URL)
    focus: tuple[float, float] = (0.5, 0.5)  # where the crops centre, as shares of width and height
    line: int = field(default=0, compare=False)  # the line of the image key (for problems only)


@dataclass(frozen=True)
class Author(Compact):
    """Who wrote an article: an entry of site.toml's [authors] registry, or a free-text name."""

    name: str  # as bylines show it
    slug: str  # the author page's URL segment ('' when the name gives none and there is no registry)

    def __str__(self) -> str:
        return self.name  # '{{ author }}' and '| join' in templates show the name


@dataclass(frozen=True)
class Story(Compact):
    """A running story an article is part of (``story:`` in front matter)."""

    name: str  # display name (the archive shows the most used spelling)
    key: str  # merge key: casefolded, single-spaced
    slug: str  # URL segment


@dataclass(frozen=True)
class Correction(Compact):
    """A dated correction notice on an article (``corrections:`` in front matter)."""

    date: dt.datetime  # when the correction was made, in the site's time zone
    date_only: bool  # the front matter gave a date without a time
    text: str  # what was corrected, as the reader sees it


@dataclass(frozen=True)
class Article(Compact):
    """One article, validated. Dates are aware datetimes in the site's time zone."""

    path: str  # source path relative to the site folder, e.g. 'content/2025/x.md'
    slug: str
    title: str
    date: dt.datetime
    date_only: bool  # the front matter gave a date without a time
    updated: dt.datetime | None
    summary: str
    countries: tuple[Country, ...]
    topics: tuple[Topic, ...]
    related: tuple[RelatedItem, ...]
    source: SourceLink | None
    authors: tuple[Author, ...]
    image: Image | None
    draft: bool
    extra: dict = field(hash=False)  # front-matter keys the schema does not know
    body_digest: str = ""  # hash of the source bytes and parse settings: the body store's key
    card: str = ""  # hash of everything but the body (what listings show); see parse_article
    aliases: tuple[str, ...] = ()  # old site paths ('/2024/05/old-slug/') that redirect here
    story: Story | None = None  # the running story it is part of
    standfirst: bool = False  # the front matter gave the summary: the article page shows it under the headline
    body_images: tuple[tuple[str, str, int], ...] = ()  # local pictures of the body: (file, alt, line), in order

    @property
    def images(self) -> tuple[str, ...]:
        """Every local picture of the article (the lead's file first)."""
        lead = (self.image.file,) if self.image and self.image.file else ()
        return lead + tuple(file for file, _, _ in self.body_images if file not in lead)
    corrections: tuple[Correction, ...] = ()  # oldest first

    @property
    def year(self) -> int:
        return self.date.year

    @property
    def month(self) -> int:
        return self.date.month

    @property
    def terms(self) -> tuple:
        return self.countries + self.topics

    @property
    def last_modified(self) -> dt.datetime:
        """The latest of its date, its ``updated`` time and its corrections."""
        latest = self.updated or self.date
        if self.corrections:
            latest = max(latest, self.corrections[-1].date)
        return latest


# Fields that change only how an article is shown, never where: which pages exist, which
# articles they list, in what order, and what they link to. An edit confined to these can
# be patched into the pages that show the article (builder.incremental); any other field,
# including every field added later, makes the build plan the whole site again.
SHOWN_ONLY = frozenset({"title", "summary", "standfirst", "source", "body_digest", "card"})


def planning_view(article: Article) -> Article:
    """The article with the fields that only shape how it is shown blanked out: two
    articles with equal views sit in the same places of the same pages."""
    return dataclasses.replace(article, **{name: None for name in SHOWN_ONLY})
