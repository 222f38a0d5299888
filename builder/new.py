"""New article: ``python -m builder new TITLE`` writes a front-matter scaffold.

Also home of what every command that adds articles shares (``import`` too):
the archive as it stands (slugs and titles already taken), countries and
topics resolved exactly as a build resolves them, front matter written as
YAML the parser reads back, and a write that never replaces a file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from builder.articles import ParseSettings, countries_named, parse_article, topics_named
from builder.model import Article
from builder.config import SiteConfig, load_config
from builder.content import parse_all
from builder.sources import find_sources
from builder.countries import Country
from builder.problems import BuildFailed, Problem, raise_if_any
from builder.text import slugify
from builder.topics import Topic

SLUG_LIMIT = 80  # characters: a slug from a long headline is cut at a hyphen


@dataclass(frozen=True)
class Existing:
    """The archive as it stands on disk, drafts and broken files included."""

    articles: tuple[Article, ...]  # every file that parses
    taken_slugs: frozenset[str]  # slugs of those, plus file stems of files that do not parse
    paths: frozenset[str]  # every article file, relative to the site folder
    bodies: dict[str, str] = field(default_factory=dict, compare=False)  # each article's body HTML, by path


def existing_articles(config: SiteConfig) -> Existing:
    """Parse every article file the way a build does (drafts kept)."""
    if not config.content_dir.is_dir():
        return Existing((), frozenset(), frozenset())
    sources = find_sources(config.root)
    results = parse_all(sources, ParseSettings.from_config(config))
    articles = tuple(parsed.article for parsed in results if parsed.article is not None)
    # A file that does not parse still claims the slug its name gives it, so a
    # new article cannot collide with it once the editor fixes that file.
    broken = {slugify(PurePosixPath(source.path).stem)
              for source, parsed in zip(sources, results) if parsed.article is None}
    return Existing(articles=articles, taken_slugs=frozenset({a.slug for a in articles} | broken),
                    paths=frozenset(source.path for source in sources),
                    bodies={p.article.path: p.body for p in results if p.article is not None})


def slug_for(title: str, limit: int = SLUG_LIMIT) -> str:
    """The slug of a title, cut at a hyphen so it stays under ``limit`` characters."""
    slug = slugify(title)
    if len(slug) > limit:
        slug = slug[:limit + 1].rsplit("-", 1)[0] if "-" in slug[:limit + 1] else slug[:limit]
    return slug


def resolve_countries(config: SiteConfig, names: Sequence[str],
                      where: str) -> tuple[tuple[Country, ...], list[Problem]]:
    """Countries for ``names`` as a build resolves them (the site's aliases included)."""
    found, unknown = countries_named(names, ParseSettings.from_config(config).country_aliases)
    return found, [Problem(where, 0, message) for message in unknown]


def resolve_topics(config: SiteConfig, labels: Sequence[str],
                   where: str) -> tuple[tuple[Topic, ...], list[Problem]]:
    """Topics for ``labels`` as a build resolves them: vocabulary names when the site declares one."""
    empty = [Problem(where, 0, "a topic is empty") for label in labels if not label.strip()]
    found, unknown = topics_named([label for label in labels if label.strip()],
                                  ParseSettings.from_config(config).topic_vocabulary)
    return found, empty + [Problem(where, 0, message) for message in unknown]


def resolve_authors(config: SiteConfig, names: Sequence[str], where: str) -> tuple[tuple[str, ...], list[Problem]]:
    """Authors as a build resolves them: registry names when site.toml declares [authors]."""
    from builder.authors import author_registry
    registry = author_registry(ParseSettings.from_config(config).authors)
    found: list[str] = []
    problems: list[Problem] = []
    for name in names:
        name = " ".join(name.split())
        if not name:
            problems.append(Problem(where, 0, "an author is empty"))
            continue
        author = registry.resolve(name) if registry else None
        if registry and author is None:
            close = registry.suggestions(name)
            hint = f" (closest: {', '.join(close)})" if close else ""
            problems.append(Problem(where, 0, f"unknown author '{name}'{hint}; add them under "
                                              "[authors.<slug>] in site.toml"))
        elif (author.name if author else name) not in found:
            found.append(author.name if author else name)
    return tuple(found), problems


def story_and_authors(authors: Sequence[str], story: str) -> list[tuple[str, object]]:
    """The ``author`` and ``story`` front-matter fields (none when not given)."""
    fields: list[tuple[str, object]] = []
    if authors:
        fields.append(("author", list(authors)))
    if story.strip():
        fields.append(("story", " ".join(story.split())))
    return fields


@dataclass(frozen=True)
class Raw:
    """A YAML scalar written as it is (a date, a datetime)."""

    text: str


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML); typography kept as is."""
    return json.dumps(text, ensure_ascii=False)


def front_matter(fields: list[tuple[str, object]], body: str = "") -> str:
    """An article's source text: ``fields`` in order, then the body.

    Values: str (quoted), a raw YAML scalar wrapped in ``Raw``, a list of
    names (a flow list), or a list of related items (slugs or titles).
    """
    lines = ["---"]
    for key, value in fields:
        if isinstance(value, Raw):
            lines.append(f"{key}: {value.text}")
        elif isinstance(value, str):
            lines.append(f"{key}: {quoted(value)}")
        elif isinstance(value, bool):
            lines.append(f"{key}: {'true' if value else 'false'}")
        elif key == "related":
            lines.append(f"{key}:")
            for item in value:
                lines.append(f"  - {item.slug}" if item.slug else f"  - title: {quoted(item.title)}")
        else:
            lines.append(f"{key}: [{', '.join(quoted(v) for v in value)}]")
    lines.append("---")
    return "\n".join(lines) + "\n\n" + (body.rstrip("\n") + "\n" if body else "")


def verify(config: SiteConfig, relative: str, text: str, where: str) -> Article:
    """Parse ``text`` as the build will; any problem stops the command before it writes."""
    parsed = parse_article(relative, text.encode("utf-8"), ParseSettings.from_config(config))
    if parsed.problems or parsed.article is None:
        raise BuildFailed([Problem(where, 0, f"the article would not build: {p}") for p in parsed.problems])
    return parsed.article


def create_file(path: Path, text: str) -> None:
    """Write a new file atomically; refuse (FileExistsError) if ``path`` exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        # link() fails when the target exists, so a file that appears between
        # our check and this write is never replaced (rename() would replace it).
        os.link(temporary, path)
    finally:
        os.unlink(temporary)


def check_new_place(existing: Existing, slug: str, relative: str, where: str) -> list[Problem]:
    """Problems if the slug or the file is already taken."""
    if not slug:
        return [Problem(where, 0, "the title gives no slug (no Latin letters or digits); "
                                  "give one with --slug")]
    if relative in existing.paths:
        return [Problem(where, 0, f"{relative} already exists; it is not overwritten")]
    if slug in existing.taken_slugs:
        owner = next((a.path for a in existing.articles if a.slug == slug), "a file that does not parse")
        return [Problem(where, 0, f"slug '{slug}' is already used by {owner}; give another with --slug")]
    return []


def new_article(site: Path, title: str, countries: list[str], topics: list[str], slug: str = "",
                draft: bool = False, now: dt.datetime | None = None, authors: Sequence[str] = (),
                story: str = "") -> Path:
    """Write ``content/YYYY/<slug>.md`` for a new article; return its path."""
    config = load_config(site)
    title = " ".join(title.split())
    where = "new"
    problems: list[Problem] = []
    if not title:
        problems.append(Problem(where, 0, "the title is empty"))
    resolved_countries, found = resolve_countries(config, countries, where)
    problems += found
    resolved_topics, found = resolve_topics(config, topics, where)
    problems += found
    resolved_authors, found = resolve_authors(config, authors, where)
    problems += found
    raise_if_any(problems)

    moment = (now or dt.datetime.now(config.zone)).astimezone(config.zone).replace(microsecond=0)
    slug = slug or slug_for(title)
    relative = f"content/{moment.year:04d}/{slug}.md"
    existing = existing_articles(config)
    raise_if_any(check_new_place(existing, slug, relative, where))

    fields: list[tuple[str, object]] = [("title", title), ("date", Raw(moment.isoformat()))]
    if slug != PurePosixPath(relative).stem:
        fields.append(("slug", slug))
    fields += [("countries", [c.name for c in resolved_countries]),
               ("topics", [t.name for t in resolved_topics])]
    fields += story_and_authors(resolved_authors, story)
    if draft:
        fields.append(("draft", True))
    text = front_matter(fields)
    verify(config, relative, text, where)
    path = config.root / relative
    try:
        create_file(path, text)
    except FileExistsError:
        raise BuildFailed([Problem(where, 0, f"{relative} already exists; it is not overwritten")])
    return path


def bad_slug_argument(slug: str) -> str:
    """The usage error for a --slug that is not a slug ('' when it is fine or not given)."""
    if slug and slugify(slug) != slug:
        return f"--slug {slug!r} is not a slug (such as '{slugify(slug) or 'my-article'}')"
    return ""


def run(args) -> int:
    if bad_slug_argument(args.slug):
        args.console.error(bad_slug_argument(args.slug))
        return 2
    path = new_article(args.site, args.title, args.country, args.topic, slug=args.slug, draft=args.draft,
                       authors=args.author, story=args.story)
    args.console.result(str(path))
    return 0
