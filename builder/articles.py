"""Articles: one source file parsed and validated into a frozen Article.

This stage sees one file at a time (so it can run in worker processes and
be cached per file); cross-article checks belong to ``builder.archive``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath


from builder.countries import Country, country_index
from builder.frontmatter import key_lines, split_front_matter
from builder.markdown import render_markdown, summary_from
from builder.authors import author_registry
from builder.model import Article, Author, Correction, Image, RelatedItem, SourceLink, Story
from builder.parse_settings import ParseSettings
from builder.problems import Problem, line_of_key
from builder.safetext import EXCERPT_LIMIT, excerpt, printable
from builder.text import is_slug, slugify
from builder.urls import local_image_file
from builder.topics import Topic, free_topic, vocabulary

# A slug names the article's output folder; most file systems refuse names over 255 bytes
# (slugs are ASCII: characters are bytes), and a margin leaves room for suffixes.
MAX_SLUG = 200
KNOWN_KEYS = ("title", "date", "updated", "slug", "summary", "countries", "topics", "related",
              "source", "author", "image", "draft", "aliases", "corrections", "story")


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


@dataclass(frozen=True)
class Parsed:
    """One source file parsed: the Article (None if unusable), its body and its problems."""

    article: Article | None
    body: str  # the rendered HTML ('' when the article is unusable)
    problems: tuple[Problem, ...] = ()


def parse_article(path: str, raw: bytes, settings: ParseSettings) -> Parsed:
    """Parse one file into an Article, its rendered body, and its problems."""
    split = split_front_matter(path, raw)
    if isinstance(split, Problem):
        return Parsed(None, "", (split,))
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
        elif len(slug) > MAX_SLUG:
            fields.problems.append(Problem(path, 1, f"the slug made from the file name is {len(slug)} "
                                                    f"characters long (at most {MAX_SLUG}): rename the "
                                                    "file or add a shorter 'slug:'"))
    elif not isinstance(slug, str) or not is_slug(slug):
        # The suggestion comes from the text (cut short), never from a list or mapping.
        example = slugify(slug[:EXCERPT_LIMIT] if isinstance(slug, str) else "") or "my-article"
        fields.problem("slug", f"invalid slug {excerpt(slug)}: use lowercase letters, digits and hyphens "
                               f"(such as '{example}')")
        slug = ""
    elif len(slug) > MAX_SLUG:
        fields.problem("slug", f"slug is {len(slug)} characters long (at most {MAX_SLUG}): it names "
                               "the article's folder, and file systems refuse longer names")

    body_html, first_paragraph, body_images = render_markdown(split.body, settings.allow_html, settings.base_path,
                                                              settings.origin, path, split.body_line)
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
    authors = _authors(meta.get("author"), settings, fields)
    story = _story(meta.get("story"), fields)
    image = _image(meta.get("image"), fields)
    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        fields.problem("draft", "'draft' must be true or false")
        draft = False
    aliases = _aliases(meta.get("aliases"), fields)
    corrections = _corrections(meta.get("corrections"), zone, date, fields)

    if fields.problems:
        return Parsed(None, "", tuple(fields.problems))
    extra = {k: v for k, v in meta.items() if k not in KNOWN_KEYS}
    settings_key = settings.fingerprint().encode()
    digest = hashlib.sha256(raw + settings_key).hexdigest()[:20]
    # Everything but the body comes from the path, the front matter and the summary
    # (which may come from the body): hashing those is cheaper than the parsed fields.
    card = hashlib.sha256(b"\0".join((settings_key, path.encode(), split.meta_text.encode(),
                                      summary.encode()))).hexdigest()[:20]
    article = Article(path=path, slug=slug, title=title, date=date, date_only=date_only,
                      updated=updated, summary=summary, countries=countries, topics=topics,
                      related=related, source=source, authors=authors, image=image, draft=draft,
                      extra=extra, body_digest=digest, card=card, aliases=aliases, corrections=corrections,
                      story=story, standfirst=meta.get("summary") is not None, body_images=body_images)
    return Parsed(article, body_html)


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


def countries_named(names, aliases) -> tuple[tuple[Country, ...], list[str]]:
    """The countries ``names`` name (in order, each once) and a message for each unknown name.

    Shared by front matter and the ``new``/``import`` commands, so both accept the same names."""
    index = country_index(aliases)
    found: list[Country] = []
    unknown: list[str] = []
    for name in names:
        country = index.resolve(name)
        if country is None:
            close = index.suggestions(name)
            hint = f" (closest: {', '.join(close)})" if close else ""
            unknown.append(f"unknown country {excerpt(name)}{hint}; add a spelling "
                           "under [countries.aliases] in site.toml if it is right")
        elif country not in found:
            found.append(country)
    return tuple(found), unknown


def topics_named(labels, topic_vocabulary) -> tuple[tuple[Topic, ...], list[str]]:
    """The topics ``labels`` name (vocabulary names when the site declares a vocabulary; in
    order, each once) and a message for each label outside the vocabulary."""
    closed = vocabulary(topic_vocabulary)
    found: list[Topic] = []
    unknown: list[str] = []
    for label in labels:
        topic = closed.resolve(label) if closed else free_topic(label)
        if topic is None:
            close = closed.suggestions(label)
            hint = f" (closest: {', '.join(close)})" if close else ""
            unknown.append(f"unknown topic {excerpt(label)}{hint}; the site's vocabulary is [topics.vocabulary] in site.toml")
        elif topic.key not in [t.key for t in found]:
            found.append(topic)
    return tuple(found), unknown


def _countries(value, settings: ParseSettings, fields: _Fields) -> tuple[Country, ...]:
    found, unknown = countries_named(_string_list(value, "countries", fields), settings.country_aliases)
    for message in unknown:
        fields.problem("countries", message)
    return found


def _topics(value, settings: ParseSettings, fields: _Fields) -> tuple[Topic, ...]:
    found, unknown = topics_named(_string_list(value, "topics", fields), settings.topic_vocabulary)
    for message in unknown:
        fields.problem("topics", message)
    return found


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


def _authors(value, settings: "ParseSettings", fields: _Fields) -> tuple[Author, ...]:
    """Registry entries named by slug or name when site.toml declares [authors]; free text else."""
    if value is None:
        return ()
    registry = author_registry(settings.authors)
    found: list[Author] = []
    for name in _string_list(value, "author", fields):
        name = " ".join(name.split())
        if registry is None:
            author = Author(name=name, slug=slugify(name))
        else:
            author = registry.resolve(name)
            if author is None:
                close = registry.suggestions(name)
                hint = f" (closest: {', '.join(close)})" if close else ""
                fields.problem("author", f"unknown author {excerpt(name)}{hint}; add them under "
                                         "[authors.<slug>] in site.toml")
                continue
        if author not in found:
            found.append(author)
    return tuple(found)


def _story(value, fields: _Fields) -> Story | None:
    """The running story: a name, merged case- and space-insensitively like topics."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        fields.problem("story", "'story' must be the story's name (text)")
        return None
    topic = free_topic(value)  # the same merge rules: one key per name, a slug from it
    return Story(name=topic.name, key=topic.key, slug=topic.slug or "story-" + hashlib.sha256(
        topic.key.encode()).hexdigest()[:8])


def _image(value, fields: _Fields) -> Image | None:
    """``image: {src, alt, caption, credit, focus}``: a file beside the article, a site path
    under static/, or an http(s) URL (left as it is)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"src": value}
    if not isinstance(value, dict) or not isinstance(value.get("src"), str) or not value["src"].strip():
        fields.problem("image", "'image' must be {src, alt} (and optionally caption, credit, focus)")
        return None
    unknown = sorted(set(value) - {"src", "alt", "caption", "credit", "focus"})
    if unknown:
        fields.problem("image", f"'image' has unknown keys {excerpt(unknown)} (use src, alt, caption, credit, focus)")
        return None
    src = value["src"].strip()
    alt = value.get("alt")
    if not isinstance(alt, str):
        fields.problem("image", "'image' needs 'alt' text describing the picture (alt: \"\" for a decorative one)")
        return None
    texts = {key: value.get(key, "") for key in ("caption", "credit")}
    for key, text in texts.items():
        if not isinstance(text, str):
            fields.problem("image", f"'image.{key}' must be text")
            return None
    focus = _focus(value.get("focus"), fields)
    if focus is None:
        return None
    file = local_image_file(fields.path, src)
    if file is None and not src.startswith(("http://", "https://", "/")):
        fields.problem("image", f"image src {excerpt(src)} must be a picture beside the article (photo.jpg), "
                                "a site path under static/ (/images/photo.jpg) or an http(s) URL")
        return None
    return Image(src=src, alt=" ".join(alt.split()), caption=" ".join(texts["caption"].split()),
                 credit=" ".join(texts["credit"].split()), file=file or "", focus=focus,
                 line=fields.line("image") or 1)


def _focus(value, fields: _Fields) -> tuple[float, float] | None:
    if value is None:
        return (0.5, 0.5)
    if isinstance(value, dict) and set(value) == {"x", "y"} and all(
            isinstance(value[k], (int, float)) and not isinstance(value[k], bool) and 0 <= value[k] <= 1
            for k in ("x", "y")):
        return (float(value["x"]), float(value["y"]))
    fields.problem("image", "'image.focus' must be {x, y}, each from 0 to 1 (0.5 is the centre)")
    return None


ALIAS = re.compile(r"^/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+/)*(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+(?:\.html?)?)?$")


def _aliases(value, fields: _Fields) -> tuple[str, ...]:
    """Old addresses of the article: site paths such as '/2024/05/old-slug/' (a folder, or a
    file ending in .html), each becoming a page that redirects here."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        fields.problem("aliases", "'aliases' must be a list of site paths such as '/2024/05/old-slug/'")
        return ()
    found: list[str] = []
    for item in value:
        if not isinstance(item, str) or not ALIAS.match(item.strip()) or "/../" in item + "/" or "/./" in item + "/":
            fields.problem("aliases", f"alias {excerpt(item)} is not a site path: write it as the old "
                                      "address without the host, such as '/2024/05/old-slug/'")
            continue
        alias = item.strip()
        if not alias.endswith((".html", ".htm", "/")):
            alias += "/"  # a folder: '/2024/05/old' is served as '/2024/05/old/'
        if alias not in found:
            found.append(alias)
    return tuple(found)


def _corrections(value, zone, published: dt.datetime | None, fields: _Fields) -> tuple[Correction, ...]:
    """``corrections: [{date, text}]``: dated notices, oldest first, none before the article."""
    if value is None:
        return ()
    if not isinstance(value, list):
        fields.problem("corrections", "'corrections' must be a list of {date, text}")
        return ()
    found: list[Correction] = []
    line = fields.line("corrections") or 1
    for number, item in enumerate(value, start=1):
        where = f"correction {number}"
        if not isinstance(item, dict) or set(item) - {"date", "text"}:
            fields.problems.append(Problem(fields.path, line, f"{where} must be {{date, text}}"))
            continue
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            fields.problems.append(Problem(fields.path, line, f"{where} has no text: say what was corrected"))
            continue
        if item.get("date") is None:
            fields.problems.append(Problem(fields.path, line, f"{where} has no date (such as date: 2025-06-14)"))
            continue
        inner = _Fields(fields.path, fields.meta_text)
        date, date_only = _date(item["date"], "corrections", zone, inner, required=True)
        if inner.problems or date is None:
            fields.problems.append(Problem(fields.path, line, f"{where} has an invalid date "
                                                              f"{excerpt(item['date'])}: use YYYY-MM-DD"))
            continue
        too_early = published is not None and (date.date() < published.date() if date_only else date < published)
        if too_early:
            fields.problems.append(Problem(fields.path, line, f"{where} is dated {date.date().isoformat()}, "
                                                              "before the article itself"))
            continue
        found.append(Correction(date=date, date_only=date_only, text=" ".join(text.split())))
    return tuple(sorted(found, key=lambda c: c.date))
