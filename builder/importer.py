"""Import: plain-text articles (the form of the seed) turned into Markdown articles.

The plain-text form: optional ``Title:`` / ``Date:`` lines, then the body,
one paragraph a line, then, after a blank line, a block of one-line
headlines. Body lines become Markdown paragraphs, escaped so Markdown reads
them as the plain text they are; headlines become ``related`` (a slug when
an archive article has that title); countries named in the body are proposed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry

from builder.articles import ParseSettings, parse_article
from builder.model import RelatedItem
from builder.similar import similar_pairs
from builder.config import SiteConfig, load_config
from builder.countries import ALIASES, EXTRA_COUNTRIES, FAMILIAR_NAMES, Country, country_index
from builder.new import (Existing, Raw, bad_slug_argument, check_new_place, create_file, existing_articles,
                         resolve_authors, story_and_authors,
                         front_matter, resolve_countries, resolve_topics, slug_for, verify)
from builder.problems import BuildFailed, Problem, raise_if_any

HEADLINE_LIMIT = 200  # characters: a longer line is body text, not a headline
HEADER = re.compile(r"^(title|date)\s*:\s*(.*)$", re.IGNORECASE)


# ---------------------------------------------------------------- plain text


@dataclass(frozen=True)
class PlainText:
    """A plain-text article split into its parts."""

    title: str  # from a 'Title:' line ('' when none)
    date: str  # from a 'Date:' line ('' when none)
    paragraphs: tuple[str, ...]
    headlines: tuple[str, ...]


def split_plain_text(text: str) -> PlainText:
    """Header lines, body paragraphs (one a line) and the closing headline block."""
    lines = text.replace("\r\n", "\n").removeprefix("\ufeff").split("\n")
    header: dict[str, str] = {}
    while lines and (not lines[0].strip() or HEADER.match(lines[0].strip())):
        match = HEADER.match(lines.pop(0).strip())
        if match:
            header[match[1].lower()] = match[2].strip()
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(" ".join(line.split()))
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    headlines: list[str] = []
    # The last block is the headline list only when it looks like one: with a
    # body before it, and short lines that do not end like sentences.
    if len(blocks) > 1 and all(len(line) <= HEADLINE_LIMIT and not line.endswith(".")
                               for line in blocks[-1]):
        headlines = blocks.pop()
    return PlainText(title=header.get("title", ""), date=header.get("date", ""),
                     paragraphs=tuple(line for block in blocks for line in block),
                     headlines=tuple(headlines))


# --------------------------------------------------------- Markdown escaping

# A line that would start a block other than a paragraph: heading, quote,
# list item, thematic break, fenced code, table row, HTML block.
_BLOCK_START = re.compile(r"""^(
    \#{1,6}(?=\s|$) | > | [-+*](?=\s|$) | \d{1,9}(?=[.)](\s|$))
    | [-*_=](?:\s*[-*_=]){2,}\s*$ | `{3,} | ~{3,} | \|
)""", re.VERBOSE)
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_HTML_OR_AUTOLINK = re.compile(r"<(?=[A-Za-z/!?])")


def escape_markdown(line: str) -> str:
    """A plain-text line escaped so Markdown shows exactly its characters.

    Minimal: only what Markdown would read as markup is escaped, so the
    source stays readable; quotes, dashes and other typography are untouched.
    """
    text = " ".join(line.split())  # leading spaces would make a code block
    text = re.sub(r"\\(?=[!-/:-@\[-`{-~])", r"\\\\", text)  # a backslash that would escape
    text = re.sub(r"[*`\[\]]", lambda m: "\\" + m[0], text)  # emphasis, code, links
    # '_' marks emphasis only at a word's edge ('snake_case' is left alone).
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    text = re.sub(r"~~", r"\\~\\~", text)  # strikethrough
    text = _ENTITY.sub(r"\\&", text)  # '&amp;' would show as '&'
    text = _HTML_OR_AUTOLINK.sub(r"\\<", text)
    match = _BLOCK_START.match(text)
    if match:
        if match[0][0].isdigit():  # '1. ' -> '1\. '
            end = len(match[0])
            text = text[:end] + "\\" + text[end:]
        else:
            text = "\\" + text
    return text


def markdown_body(paragraphs: tuple[str, ...]) -> str:
    return "\n\n".join(escape_markdown(paragraph) for paragraph in paragraphs)


# -------------------------------------------------------- country detection

# Spellings scanned for but never proposed: places named like a country.
NOT_COUNTRIES = ("Mexico City", "Guatemala City", "Panama City", "Kuwait City", "New Mexico",
                 "New Jersey", "Jersey City", "Latin America", "South America", "North America",
                 "Central America", "Americas", "New South Wales")
# Country names that are as often something else; reported, not proposed.
AMBIGUOUS = {"Georgia": "also a U.S. state", "Jordan": "also a personal name",
             "Chad": "also a personal name"}
# Spellings only prose uses (the front-matter resolver needs none of them).
PROSE_ALIASES = {"US": "US", "Northern Ireland": "GB", "England": "GB", "Scotland": "GB", "Wales": "GB"}


@dataclass(frozen=True)
class Detection:
    """Countries a text names, most mentioned first."""

    countries: tuple[tuple[Country, int], ...]  # with the number of mentions
    ambiguous: tuple[tuple[str, int], ...]  # names left out, with mentions


@lru_cache(maxsize=8)
def _scanner(extra_aliases: tuple[tuple[str, str], ...]) -> tuple[re.Pattern, dict[str, str]]:
    """One regular expression for every spelling, longest first, and spelling -> code."""
    index = country_index(extra_aliases)
    spellings: dict[str, str] = {}
    for record in pycountry.countries:
        for name in (record.name, getattr(record, "common_name", ""), getattr(record, "official_name", "")):
            if name and "," not in name and "(" not in name:
                spellings.setdefault(name, record.alpha_2)
    for source in (FAMILIAR_NAMES, {name: code for code, name in EXTRA_COUNTRIES.items()}):
        for code, name in source.items():
            spellings.setdefault(name, code)
    for spelling, target in [*ALIASES.items(), *PROSE_ALIASES.items(), *extra_aliases]:
        country = index.resolve(target)
        if country:
            spellings[spelling] = country.code
    for place in NOT_COUNTRIES:
        spellings[place] = ""
    # Letters and digits on either side mean the spelling is part of another word.
    alternatives = "|".join(re.escape(s) for s in sorted(spellings, key=lambda s: (-len(s), s)))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?![\w])"), spellings


def detect_countries(paragraphs: tuple[str, ...], extra_aliases: tuple[tuple[str, str], ...] = ()) -> Detection:
    """Count the countries named in ``paragraphs`` by name, short form or alias.

    Case matters ('US' is the country, 'us' is not); cities and regions that
    contain a country's name ('Mexico City', 'Latin America') are not counted.
    """
    pattern, spellings = _scanner(extra_aliases)
    index = country_index(extra_aliases)
    counts: Counter = Counter()
    ambiguous: Counter = Counter()
    first_seen: dict[str, int] = {}
    position = 0
    for paragraph in paragraphs:
        text = unicodedata.normalize("NFC", paragraph).replace("’", "'")
        for match in pattern.finditer(text):
            spelling = match[0]
            code = spellings[spelling]
            if not code:
                continue
            if spelling in AMBIGUOUS:
                ambiguous[spelling] += 1
                continue
            counts[code] += 1
            first_seen.setdefault(code, position + match.start())
        position += len(text) + 1
    ordered = sorted(counts, key=lambda code: (-counts[code], first_seen[code]))
    return Detection(countries=tuple((index.by_code[code], counts[code]) for code in ordered),
                     ambiguous=tuple(sorted(ambiguous.items())))


# ----------------------------------------------------------- related links


def headline_key(title: str) -> str:
    """Case- and punctuation-insensitive form of a headline."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = "".join(ch if ch.isalnum() else " " for ch in text.casefold())
    return " ".join(text.split())


def related_items(headlines: tuple[str, ...], existing: Existing) -> tuple[tuple[RelatedItem, ...], list[str]]:
    """Headlines as related items (a slug when one archive article has that title), and notes."""
    by_key: dict[str, list] = {}
    for article in existing.articles:
        by_key.setdefault(headline_key(article.title), []).append(article)
    items: list[RelatedItem] = []
    notes: list[str] = []
    for headline in headlines:
        matches = by_key.get(headline_key(headline), [])
        if len(matches) == 1:
            items.append(RelatedItem(slug=matches[0].slug))
            notes.append(f"related: '{headline}' -> {matches[0].slug} ({matches[0].path})")
        else:
            if matches:
                notes.append(f"related: '{headline}' matches {len(matches)} articles "
                             f"({', '.join(sorted(a.path for a in matches))}); kept as a headline")
            items.append(RelatedItem(title=headline))
    return tuple(items), notes


# ------------------------------------------------------------------ command


@dataclass(frozen=True)
class Imported:
    """One plain-text file made into an article."""

    source: str  # the plain-text file as given
    relative: str  # where the article goes, relative to the site folder
    text: str  # the article's source (front matter and Markdown)
    notes: tuple[str, ...]  # what was detected, for the editor to check


def _date_value(date: str, where: str) -> tuple[Raw | None, list[Problem]]:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            dt.date.fromisoformat(date)
        else:
            dt.datetime.fromisoformat(date)
    except ValueError:
        return None, [Problem(where, 0, f"date {date!r} is not a date: use YYYY-MM-DD or "
                                        "YYYY-MM-DDTHH:MM[:SS][+HH:MM]")]
    return Raw(date), []


def import_text(config: SiteConfig, existing: Existing, source: str, text: str, title: str = "",
                date: str = "", countries: Sequence[str] = (), topics: Sequence[str] = (),
                taken: Collection[str] = (), slug: str = "", authors: Sequence[str] = (),
                story: str = "") -> Imported:
    """Make one article from plain text; BuildFailed (naming ``source``) when it cannot."""
    plain = split_plain_text(text)
    title = " ".join((title or plain.title).split())
    date = (date or plain.date).strip()
    problems: list[Problem] = []
    if not title:
        problems.append(Problem(source, 0, "no title: give one with --title \"…\" "
                                           "(or a 'Title: …' first line in the file)"))
    if not date:
        problems.append(Problem(source, 0, "no date: give one with --date YYYY-MM-DD "
                                           "(or a 'Date: …' line at the top of the file)"))
    if not plain.paragraphs:
        problems.append(Problem(source, 0, "no body text"))
    raw_date, found = _date_value(date, source) if date else (None, [])
    problems += found
    chosen_topics, found = resolve_topics(config, topics, source)
    problems += found
    chosen_authors, found = resolve_authors(config, authors, source)
    problems += found
    detection = detect_countries(plain.paragraphs, tuple(sorted(config.country_aliases.items())))
    if countries:
        chosen_countries, found = resolve_countries(config, countries, source)
        problems += found
    else:
        chosen_countries = tuple(country for country, _ in detection.countries)
    slug = slug or slug_for(title)
    if title and not slug:
        problems += check_new_place(existing, slug, "", source)  # says to give --slug
    raise_if_any(problems)

    related, related_notes = related_items(plain.headlines, existing)
    fields: list[tuple[str, object]] = [("title", title), ("date", raw_date),
                                        ("countries", [c.name for c in chosen_countries]),
                                        ("topics", [t.name for t in chosen_topics])]
    fields += story_and_authors(chosen_authors, story)
    if related:
        fields.append(("related", related))
    text = front_matter(fields, markdown_body(plain.paragraphs))
    # The year folder follows the date in the site's time zone, as the URL does.
    article = verify(config, f"content/{slug}.md", text, source)
    relative = f"content/{article.year:04d}/{slug}.md"
    problems = check_new_place(existing, slug, relative, source)
    if slug in taken:
        problems.append(Problem(source, 0, f"slug '{slug}' is also made by another file of this import"))
    raise_if_any(problems)

    mentions = ", ".join(f"{country.name} ({count})" for country, count in detection.countries) or "none"
    notes = [f"countries detected: {mentions}"]
    notes += [f"countries left out: {name} ({count}, {AMBIGUOUS[name]}); add it with --country if meant"
              for name, count in detection.ambiguous]
    if countries:
        notes.append(f"countries from --country: {', '.join(c.name for c in chosen_countries)}")
    linked = sum(1 for item in related if item.slug)
    notes.append(f"related: {len(related)} headlines ({linked} linked to archive articles)")
    notes += related_notes
    return Imported(source=source, relative=relative, text=text, notes=tuple(notes))


def _with_duplicate_warnings(config: SiteConfig, existing: Existing, results: list[Imported]) -> list[Imported]:
    """Each import with a note for every archive article (or other import) it may duplicate."""
    settings = ParseSettings.from_config(config)
    items = [(a, existing.bodies.get(a.path, "")) for a in existing.articles if not a.draft]
    for imported in results:
        parsed = parse_article(imported.relative, imported.text.encode("utf-8"), settings)
        items.append((parsed.article, parsed.body))
    pairs = similar_pairs(items, only={imported.relative for imported in results})
    return [dataclasses.replace(imported, notes=imported.notes + tuple(
                f"warning: {pair.message()}" for pair in pairs
                if imported.relative in (pair.first.path, pair.second.path)))
            for imported in results]


def import_files(site: Path, files: Sequence[Path], title: str = "", date: str = "",
                 countries: Sequence[str] = (), topics: Sequence[str] = (),
                 dry_run: bool = False, slug: str = "", authors: Sequence[str] = (),
                 story: str = "") -> list[Imported]:
    """Import every file; nothing is written unless all of them import cleanly."""
    config = load_config(site)
    existing = existing_articles(config)
    results: list[Imported] = []
    problems: list[Problem] = []
    taken: set[str] = set()
    for file in files:
        source = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not valid UTF-8"
            problems.append(Problem(source, 0, f"cannot read: {reason}"))
            continue
        try:
            imported = import_text(config, existing, source, text, title, date, countries, topics, taken, slug,
                                   authors, story)
        except BuildFailed as failed:
            problems += failed.problems
            continue
        taken.add(imported.relative.rsplit("/", 1)[1].removesuffix(".md"))
        results.append(imported)
    raise_if_any(problems)
    results = _with_duplicate_warnings(config, existing, results)
    if not dry_run:
        for imported in results:
            try:
                create_file(config.root / imported.relative, imported.text)
            except FileExistsError:
                raise BuildFailed([Problem(imported.source, 0,
                                           f"{imported.relative} already exists; it is not overwritten")])
    return results


def run(args) -> int:
    console = args.console
    if (args.title or args.slug) and len(args.files) > 1:
        console.error("--title and --slug name one article; import several files one at a time "
                      "or give each a 'Title:' line")
        return 2
    if bad_slug_argument(args.slug):
        console.error(bad_slug_argument(args.slug))
        return 2
    results = import_files(args.site, args.files, args.title, args.date, args.country,
                           args.topic, args.dry_run, args.slug, args.author, args.story)
    for imported in results:
        console.info(f"{imported.source}: {'would write' if args.dry_run else 'wrote'} {imported.relative}")
        for note in imported.notes:
            console.info(f"  {note}")
        if args.dry_run:
            console.result(f"# {imported.relative}")
            console.result(imported.text)
        else:
            console.result(imported.relative)
    return 0
