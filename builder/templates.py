"""Templates: the Jinja environment (site templates over the default theme),
its filters, and template problems turned into ``path:line: message``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from builder.markdown import EXTERNAL_HINT, is_external
from builder.model import Article
from builder.pictures import make_pictures
from builder.problems import Problem
from builder.safetext import has_right_to_left
from builder.state import TemplateFacts
from builder.template_analysis import templates_reading
from builder.template_problems import check_templates
from builder.text import month_name
from builder.theme_files import static_files, templates_fingerprint


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined whose messages name the model's types as a template author knows
    them ('Article has no attribute ...'), not by their Python module."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        obj, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint or obj is jinja2.utils.missing or type(obj).__module__ == "builtins":
            return super()._undefined_message
        what = "attribute" if isinstance(name, str) else "element"
        return f"{type(obj).__name__} has no {what} {name!r}"


class _Environment(jinja2.Environment):
    """Jinja's environment with each template's globals in a plain dict.

    Jinja gives every template a ChainMap over the environment's globals, and every
    render (a page, a fragment, an imported macro module) copies the globals into a
    new context: copying a ChainMap goes key by key in Python, about a tenth of the
    rendering time. A plain dict is a snapshot, so the globals must all be set before
    templates are loaded for rendering: Renderer sets them, then empties the template cache.
    """

    bodies = None  # the body store the Renderer hands in: resolves ``article.body_html``
    body_pictures = None  # fills a body's picture placeholders with their variants (make_helpers)
    parts: dict = {}  # the HTML the ``part`` global made, by template and values (_parts)

    def make_globals(self, d):
        return {**self.globals, **(d or {})}

    def getattr(self, obj, attribute: str):
        # ``article.body_html`` in a template: the model carries only the body's digest,
        # and the store that keeps the bodies belongs to this build's renderer.
        if attribute == "body_html" and type(obj) is Article:
            html = self.bodies.html(obj.body_digest)
            return self.body_pictures(html, obj) if obj.body_images else html
        try:  # the rest as in jinja2.Environment.getattr (inlined: it runs for every attribute)
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


@dataclass(frozen=True)
class Templates:
    """The templates of a site (its own over the default theme), checked and analysed."""

    env: jinja2.Environment
    facts: TemplateFacts
    assets: dict[str, Path]  # theme static files by name (a site's shadow the theme's)
    template_dirs: tuple[Path, ...]


_FACTS: dict[str, TemplateFacts] = {}  # by templates fingerprint: the analysis, once per process


def load_templates(template_dirs: tuple[Path, ...], compiled: Path | None,
                   known: TemplateFacts | None) -> tuple[Templates, list[Problem]]:
    """The environment and what the templates read; problems for every broken template.

    Compiling and analysing every template costs a third of a second: when they are the
    ones the last successful build used (``known``), what it learned still holds.
    """
    fingerprint = templates_fingerprint(template_dirs)
    env = make_environment(template_dirs, compiled)
    facts = known if known is not None and known.fingerprint == fingerprint else _FACTS.get(fingerprint)
    problems: list[Problem] = []
    if facts is None:
        problems = check_templates(env, template_dirs)
        if problems:  # the build stops: nothing to analyse
            facts = TemplateFacts(fingerprint, frozenset(), frozenset())
        else:
            found = templates_reading(env, {"archive": True, "body_html": False})
            facts = _FACTS[fingerprint] = TemplateFacts(
                fingerprint, frozenset(found["archive"]), frozenset(found["body_html"]))
    return Templates(env, facts, static_files(template_dirs), template_dirs), problems


class _Compiled(jinja2.BytecodeCache):
    """Compiled templates kept for the process (serve, tests) and, with a cache, on disk.
    Jinja checks each against its source's checksum before using it."""

    memory: dict[str, bytes] = {}

    def __init__(self, folder: Path | None):
        self.disk = jinja2.FileSystemBytecodeCache(str(folder)) if folder else None

    def load_bytecode(self, bucket) -> None:
        code = self.memory.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)
        elif self.disk is not None:
            self.disk.load_bytecode(bucket)

    def dump_bytecode(self, bucket) -> None:
        self.memory[bucket.key] = bucket.bytecode_to_string()
        if self.disk is not None:
            self.disk.dump_bytecode(bucket)


def make_environment(template_dirs: tuple[Path, ...], compiled: Path | None = None) -> jinja2.Environment:
    """Autoescaping Jinja environment; a site's own templates shadow the theme's.

    ``compiled``: a folder where compiled templates are kept between builds, so a
    rebuild does not compile them again.
    """
    env = _Environment(
        bytecode_cache=_Compiled(compiled),
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=True,  # every template, HTML and XML alike
        undefined=_Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one environment per build: no need to stat templates on every use
    )
    env.filters["datetime_attr"] = datetime_attr
    env.filters["date_text"] = date_text
    env.filters["month_name"] = month_name
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["sort_date"] = sort_date
    env.filters["dir_auto"] = dir_auto
    env.filters["bdi"] = bdi
    env.filters["fragment"] = _fragments(env)
    env.globals["part"] = _parts(env)
    return env


def _fragments(env: jinja2.Environment):
    """The ``fragment`` filter: ``{{ article | fragment("_story.html", 2) }}`` renders the
    template with ``article`` (and ``args``, a tuple) and reuses the HTML each time the
    same article comes back with the same arguments, in this build and process.

    An article shows up on some fifteen pages (listings, Related, More on this story,
    older/newer); its story card was rendered again for each. The fragment sees the
    globals and its arguments, never the page, so what it makes cannot differ from page to page.
    """
    made: dict[tuple, tuple] = {}

    def fragment(article, name: str, *args) -> Markup:
        key = (name, id(article), args)
        found = made.get(key)
        if found is None:
            html = Markup(env.get_template(name).render(article=article, args=args))
            found = made[key] = (article, html)  # the article kept alive: its id stays its own
        return found[1]

    return fragment


def _parts(env: jinja2.Environment):
    """The ``part`` global: ``{{ part("_header.html", kind=page.kind) }}`` renders the template
    with the globals and the values named, nothing else, and reuses the HTML each time the
    same values come back in this build (values must be hashable).

    The header, the footer and the head's links were rendered again for every page, though
    they differ only by page kind (and on a few pages by URL): 13,000 renders of each at
    10,000 articles for a few dozen different results. A part never sees the page, so what
    it makes can only depend on what it is given; a template that reads anything else fails
    with its file and line (StrictUndefined) instead of showing one page's value on every page.
    """
    made = env.parts = {}  # emptied by the Renderer when it sets the globals a part depends on

    def part(name: str, **values) -> Markup:
        key = (name, *sorted(values.items()))
        html = made.get(key)
        if html is None:
            html = made[key] = Markup(env.get_template(name).render(values))
        return html

    return part


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
