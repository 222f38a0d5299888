"""Articles: one source file parsed and validated into a frozen Article.

This stage sees one file at a time (so it can run in worker processes and
be cached per file); cross-article checks belong to ``builder.archive``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath


from builder import __version__
from builder.countries import Country, country_index
from builder.frontmatter import key_lines, split_front_matter
from builder.markdown import render_markdown, summary_from
from builder.problems import Problem, line_of_key
from builder.safetext import EXCERPT_LIMIT, excerpt, printable
from builder.text import is_slug, slugify
from builder.topics import Topic, free_topic, vocabulary

KNOWN_KEYS = ("title", "date", "updated", "slug", "summary", "countries", "topics", "related",
              "source", "author", "image", "draft")


@dataclass(frozen=True)
class RelatedItem:
    """One entry of an article's ``related`` list, before slugs are resolved."""

    slug: str = ""  # another article of the archive
    title: str = ""  # headline (external link or headline only)
    url: str = ""  # external link
    line: int = 0  # where the item is in the source file (for problems)


@dataclass(frozen=True)
class BodyRef:
    """A rendered body kept in the cache's body store instead of memory (large archives)."""

    store: str  # path of the store (see builder.cache.Store)
    digest: str

    def read(self) -> str:
        from builder.cache import Store
        return Store.at(self.store).read(self.digest)


@dataclass(frozen=True)
class SourceLink:
    """Where the story came from."""

    name: str
    url: str


@dataclass(frozen=True)
class Image:
    """The article's lead image."""

    src: str
    alt: str


@dataclass(frozen=True)
class Article:
    """One article, validated. Dates are aware datetimes in the site's time zone."""

    path: str  # source path relative to the site folder, e.g. 'content/2025/x.md'
    slug: str
    title: str
    date: dt.datetime
    date_only: bool  # the front matter gave a date without a time
    updated: dt.datetime | None
    summary: str
    body: "str | BodyRef"  # the HTML, or where the cache keeps it (see body_html)
    countries: tuple[Country, ...]
    topics: tuple[Topic, ...]
    related: tuple[RelatedItem, ...]
    source: SourceLink | None
    authors: tuple[str, ...]
    image: Image | None
    draft: bool
    extra: dict = field(hash=False)  # front-matter keys the schema does not know
    digest: str = ""  # hash of the source bytes and parse settings
    card: str = ""  # hash of everything but the body (what listings show); see parse_article

    def __reduce__(self):
        # Compact: the cache loads every article on a full rebuild, and nested
        # dataclasses pickled one by one made that a third of a second per 10,000.
        body = self.body if isinstance(self.body, str) else (self.body.store, self.body.digest)
        return _restore_article, (
            self.path, self.slug, self.title, self.date, self.date_only, self.updated, self.summary, body,
            tuple([(c.name, c.code, c.slug) for c in self.countries]),
            tuple([(t.name, t.key, t.slug) for t in self.topics]),
            tuple([(r.slug, r.title, r.url, r.line) for r in self.related]),
            (self.source.name, self.source.url) if self.source else None, self.authors,
            (self.image.src, self.image.alt) if self.image else None, self.draft, self.extra,
            self.digest, self.card)

    @property
    def body_html(self) -> str:
        """The body as HTML (read from the cache when the article came from there)."""
        return self.body if isinstance(self.body, str) else self.body.read()

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
        return self.updated or self.date


_SHARED: dict = {}  # equal countries and topics of unpickled articles are one object


def _restore_article(path, slug, title, date, date_only, updated, summary, body, countries, topics,
                     related, source, authors, image, draft, extra, digest, card) -> "Article":
    shared = _SHARED
    countries = tuple([shared.get(("c",) + c) or shared.setdefault(("c",) + c, Country(*c)) for c in countries])
    topics = tuple([shared.get(("t",) + t) or shared.setdefault(("t",) + t, Topic(*t)) for t in topics])
    # Frozen dataclasses set each field through object.__setattr__: filling the
    # instance dict directly is several times faster for the same object.
    return _make(Article, path=path, slug=slug, title=title, date=date, date_only=date_only,
                 updated=updated, summary=summary, body=body if isinstance(body, str) else _make(
                     BodyRef, store=body[0], digest=body[1]),
                 countries=countries, topics=topics,
                 related=tuple([_make(RelatedItem, slug=r[0], title=r[1], url=r[2], line=r[3]) for r in related]),
                 source=_make(SourceLink, name=source[0], url=source[1]) if source else None, authors=authors,
                 image=_make(Image, src=image[0], alt=image[1]) if image else None, draft=draft, extra=extra,
                 digest=digest, card=card)


def _make(cls, **fields):
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


@dataclass(frozen=True)
class ParseSettings:
    """The part of the configuration that shapes a single article (picklable)."""

    timezone: str
    allow_html: bool
    base_path: str
    country_aliases: tuple[tuple[str, str], ...]
    topic_vocabulary: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def from_config(cls, config) -> "ParseSettings":
        return cls(timezone=config.timezone, allow_html=config.allow_html,
                   base_path=config.base_path,
                   country_aliases=tuple(sorted(config.country_aliases.items())),
                   topic_vocabulary=tuple(sorted((k, tuple(v)) for k, v in config.topic_vocabulary.items())))

    def fingerprint(self) -> str:
        return hashlib.sha256(repr((self, __version__)).encode()).hexdigest()[:16]


class _Fields:
    """Collects problems for one file, each pointed at its key's line."""

    def __init__(self, path: str, meta_text: str, root=None):
        self.path = path
        self.meta_text = meta_text
        self.root = root  # YAML's node tree
        self.problems: list[Problem] = []
        self._key_lines: dict[str, int] | None = None
        self._lines: list[str] | None = None

    def line(self, key: str) -> int:
        """The line of top-level ``key`` (0 if absent): YAML's own when it gave one (a
        lookup: a file may have thousands of keys), else the first line that starts with it."""
        if self._key_lines is None:  # made on the first problem: valid files never need it
            self._key_lines = key_lines(self.root)
        return self._key_lines.get(key) or line_of_key(self.meta_text, key, first_line=2)

    @property
    def lines(self) -> list[str]:
        """The front matter's lines, split once (items of a list look for theirs)."""
        if self._lines is None:
            self._lines = self.meta_text.splitlines()
        return self._lines

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, self.line(key) or 1, message))


def parse_article(path: str, raw: bytes, settings: ParseSettings) -> tuple[Article | None, list[Problem]]:
    """Parse one file; return the Article (None if unusable) and its problems."""
    split = split_front_matter(path, raw)
    if isinstance(split, Problem):
        return None, [split]
    meta = split.meta
    fields = _Fields(path, split.meta_text, split.root)
    fields.problems.extend(split.problems)  # keys given twice, text no page or feed can carry
    zone = _zone(settings.timezone)

    for key in meta:
        if key not in KNOWN_KEYS and isinstance(key, str):
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.8)
            if close:
                fields.problem(key, f"unknown key {excerpt(key)}: did you mean '{close[0]}'? "
                                    "(rename it, or pick a name further from the schema's keys)")

    title = meta.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        fields.problems.append(Problem(path, fields.line("title") or 1,
                                       "missing 'title'"))
        title = ""
    elif not isinstance(title, (str, int, float)):
        fields.problem("title", "'title' must be text")
        title = ""
    title = " ".join(str(title).split())

    date, date_only = _date(meta.get("date"), "date", zone, fields, required=True)
    updated, _ = _date(meta.get("updated"), "updated", zone, fields, required=False)

    slug = meta.get("slug")
    if slug is None:
        slug = slugify(PurePosixPath(path).stem)
        if not slug:
            fields.problems.append(Problem(path, 1, "cannot make a slug from the file name; add 'slug:'"))
    elif not isinstance(slug, str) or not is_slug(slug):
        # The suggestion comes from the text (cut short), never from a list or mapping.
        example = slugify(slug[:EXCERPT_LIMIT] if isinstance(slug, str) else "") or "my-article"
        fields.problem("slug", f"invalid slug {excerpt(slug)}: use lowercase letters, digits and hyphens "
                               f"(such as '{example}')")
        slug = ""

    body_html, first_paragraph = render_markdown(split.body, settings.allow_html, settings.base_path)
    summary = meta.get("summary")
    if summary is None:
        summary = summary_from(first_paragraph)
    elif not isinstance(summary, str):
        fields.problem("summary", "'summary' must be text")
        summary = ""
    summary = " ".join(summary.split())

    countries = _countries(meta.get("countries"), settings, fields)
    topics = _topics(meta.get("topics"), settings, fields)
    related = _related(meta.get("related"), fields)
    source = _source(meta.get("source"), fields)
    authors = _authors(meta.get("author"), fields)
    image = _image(meta.get("image"), fields)
    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        fields.problem("draft", "'draft' must be true or false")
        draft = False

    if fields.problems:
        return None, fields.problems
    extra = {k: v for k, v in meta.items() if k not in KNOWN_KEYS}
    settings_key = settings.fingerprint().encode()
    digest = hashlib.sha256(raw + settings_key).hexdigest()[:20]
    # Everything but the body comes from the path, the front matter and the summary
    # (which may come from the body): hashing those is cheaper than the parsed fields.
    card = hashlib.sha256(b"\0".join((settings_key, path.encode(), split.meta_text.encode(),
                                      summary.encode()))).hexdigest()[:20]
    return Article(path=path, slug=slug, title=title, date=date, date_only=date_only,
                   updated=updated, summary=summary, body=body_html, countries=countries,
                   topics=topics, related=related, source=source, authors=authors, image=image,
                   draft=draft, extra=extra, digest=digest, card=card), []


def _zone(name: str):
    import zoneinfo
    return zoneinfo.ZoneInfo(name)


# Dates must fit every output: RFC 3339 and HTML's <time> want four-digit years and
# offsets in whole minutes, and Python's datetime stops at year 9999. Printed news
# begins in the early 1600s (Relation, Strasbourg, 1605); anything past 9000 is a typo,
# and that margin keeps every conversion (to UTC, to the site's zone) far from 9999.
MIN_YEAR, MAX_YEAR = 1600, 9000


def _date(value, key: str, zone, fields: _Fields, required: bool):
    """The front matter's ``key`` as an aware datetime in the site's ``zone`` and whether
    it was a date without a time; (None, False) with a problem when it is no usable date.

    This is the one place article dates are made: every page, feed, sitemap, JSON-LD
    block and URL formats what it returns, so they all agree.
    """
    if value is None:
        if required:
            fields.problems.append(Problem(fields.path, fields.line(key) or 1,
                                           f"missing '{key}' (such as {key}: 2025-06-13)"))
        return None, False
    if isinstance(value, str):
        try:
            text = value.strip()
            # A quoted date ("2025-06-13") is still a date without a time.
            value = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            fields.problem(key, f"invalid {key} {excerpt(value)}: use YYYY-MM-DD or "
                                "YYYY-MM-DDTHH:MM:SS with an optional offset")
            return None, False
    if not isinstance(value, dt.date):  # datetime is a date too
        fields.problem(key, f"invalid {key} {excerpt(value)}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")
        return None, False
    if not MIN_YEAR <= value.year <= MAX_YEAR:  # checked before any conversion can overflow
        fields.problem(key, f"{key} {excerpt(value)} is out of range: use a year from {MIN_YEAR} to {MAX_YEAR}")
        return None, False
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # a wall-clock time in the site's zone
            return _whole_minutes(value.replace(tzinfo=zone), keep_instant=False), False
        return _whole_minutes(value.astimezone(zone), keep_instant=True), False
    return _whole_minutes(dt.datetime(value.year, value.month, value.day, tzinfo=zone), keep_instant=False), True


def _whole_minutes(moment: dt.datetime, keep_instant: bool) -> dt.datetime:
    """``moment`` with a UTC offset in whole minutes, rounded to the nearest minute.

    Before standard time the zone database gives local mean time, such as +09:18:59
    in Tokyo until 1888, which neither RFC 3339 nor HTML can write. A time given
    with an offset keeps its instant (the clock moves by those seconds); a time or
    date given in the site's zone keeps its clock (midnight stays midnight).
    """
    offset = moment.utcoffset()
    seconds = offset.days * 86400 + offset.seconds
    if not seconds % 60:
        return moment
    rounded = dt.timezone(dt.timedelta(minutes=(seconds + 30) // 60), moment.tzname())
    return moment.astimezone(rounded) if keep_instant else moment.replace(tzinfo=rounded)


# More than there are countries (249): a longer list is a mistake, and each item costs
# a lookup (an unknown country, a dictionary search for the closest names), so that a
# front matter of tens of thousands of items would take minutes to read.
MAX_ITEMS = 300


def _too_many(value: list, key: str, fields: _Fields) -> bool:
    """Whether the list under ``key`` is longer than MAX_ITEMS (a problem if so)."""
    if len(value) <= MAX_ITEMS:
        return False
    fields.problem(key, f"'{key}' has {len(value):,} items; at most {MAX_ITEMS} are allowed")
    return True


def _string_list(value, key: str, fields: _Fields) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and _too_many(value, key, fields):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        fields.problem(key, f"'{key}' must be a list of names")
        return []
    return value


def _countries(value, settings: ParseSettings, fields: _Fields) -> tuple[Country, ...]:
    index = country_index(settings.country_aliases)
    found: list[Country] = []
    for name in _string_list(value, "countries", fields):
        country = index.resolve(name)
        if country is None:
            close = index.suggestions(name)
            hint = f" (closest: {', '.join(close)})" if close else ""
            fields.problem("countries", f"unknown country {excerpt(name)}{hint}; add a spelling "
                                        "under [countries.aliases] in site.toml if it is right")
        elif country not in found:
            found.append(country)
    return tuple(found)


def _topics(value, settings: ParseSettings, fields: _Fields) -> tuple[Topic, ...]:
    closed = vocabulary(settings.topic_vocabulary)
    found: list[Topic] = []
    for label in _string_list(value, "topics", fields):
        topic = closed.resolve(label) if closed else free_topic(label)
        if topic is None:
            close = closed.suggestions(label)
            hint = f" (closest: {', '.join(close)})" if close else ""
            fields.problem("topics", f"unknown topic {excerpt(label)}{hint}; the site's vocabulary "
                                     "is [topics.vocabulary] in site.toml")
        elif topic.key not in [t.key for t in found]:
            found.append(topic)
    return tuple(found)


def _related(value, fields: _Fields) -> tuple[RelatedItem, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        fields.problem("related", "'related' must be a list")
        return ()
    if _too_many(value, "related", fields):
        return ()
    items: list[RelatedItem] = []
    for item in value:
        if isinstance(item, str):
            if is_slug(item.strip()):
                items.append(RelatedItem(slug=item.strip(), line=_line_of_item(fields, item.strip())))
            else:
                fields.problem("related", f"related item {excerpt(item)} is not a slug; write a headline "
                                          "without a link as '- title: …'")
        elif isinstance(item, dict) and isinstance(item.get("title"), str) and item["title"].strip():
            url = item.get("url", "")
            unknown = set(item) - {"title", "url"}
            if unknown:
                # Keys of any type (1, 'x', null): sorted as they are shown.
                shown = ", ".join(sorted(excerpt(key) for key in unknown))
                fields.problem("related", f"related item has unknown keys [{printable(shown)}] "
                                          "(use title and url)")
            elif not isinstance(url, str) or (url and not _is_link(url)):
                fields.problem("related", f"related url {excerpt(url)} must start with http://, https:// or /")
            else:
                items.append(RelatedItem(title=" ".join(item["title"].split()), url=url.strip()))
        else:
            fields.problem("related", "related items are a slug, {title, url} or {title}")
    return tuple(items)


def _line_of_item(fields: _Fields, text: str) -> int:
    start = fields.line("related")
    for number, line in enumerate(fields.lines[max(start - 2, 0):], start=max(start, 2)):
        if text in line:
            return number
    return start


def _is_link(url: str) -> bool:
    return url.startswith(("http://", "https://", "/"))


def _source(value, fields: _Fields) -> SourceLink | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or set(value) - {"name", "url"}:
        fields.problem("source", "'source' must be {name, url}")
        return None
    name, url = value.get("name", ""), value.get("url", "")
    if not isinstance(name, str) or not isinstance(url, str) or not (name or url):
        fields.problem("source", "'source' needs a name and/or url (text)")
        return None
    if url and not _is_link(url):
        fields.problem("source", f"source url {excerpt(url)} must start with http://, https:// or /")
        return None
    return SourceLink(name=name.strip() or url, url=url.strip())


def _authors(value, fields: _Fields) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(" ".join(a.split()) for a in _string_list(value, "author", fields))


def _image(value, fields: _Fields) -> Image | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"src": value}
    if not isinstance(value, dict) or not isinstance(value.get("src"), str):
        fields.problem("image", "'image' must be {src, alt}")
        return None
    if not _is_link(value["src"].strip()):
        # A relative src would resolve against each page's own URL and break.
        fields.problem("image", f"image src {excerpt(value['src'])} must start with http://, https:// or /")
        return None
    alt = value.get("alt")
    if not isinstance(alt, str) or not alt.strip():
        fields.problem("image", "'image' needs 'alt' text describing the picture")
        return None
    return Image(src=value["src"].strip(), alt=alt.strip())
