"""Templates: the Jinja environment (site templates over the default theme) and a site's templates loaded into it."""

from __future__ import annotations

import functools
import os
import types
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.runtime
from markupsafe import Markup

from builder import theme_code
from builder.config import DEFAULT_THEME
from builder.helpers import bdi, date_text, datetime_attr, dir_auto, sort_date
from builder.model import Article
from builder.problems import Problem
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


# Helpers a template calls that cannot ask for the context (no jinja_pass_arg on them).
_PLAIN_CALLABLES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools._lru_cache_wrapper)


class _Context(jinja2.runtime.Context):
    """Jinja's context, with a shorter way to call a plain helper.

    Every call in a template (``dateline(article)``, ``url.article(article)``) goes through
    ``Context.call``, which looks twice for Jinja's pass_context markers and copies the
    keyword arguments: 300,000 calls per build at 10,000 articles. A plain function, method
    or lru_cache wrapper without a marker is called directly; anything else as Jinja does.
    """

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        if type(__obj) not in _PLAIN_CALLABLES or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja does: a generator's end must not end the template's
            return __self.environment.undefined("value was undefined because a callable raised a "
                                                "StopIteration exception")


class _Environment(jinja2.Environment):
    """Jinja's environment with each template's globals in a plain dict.

    Jinja gives every template a ChainMap over the environment's globals, and every
    render (a page, a fragment, an imported macro module) copies the globals into a
    new context: copying a ChainMap goes key by key in Python, about a tenth of the
    rendering time. A plain dict is a snapshot, so the globals must all be set before
    templates are loaded for rendering: Renderer sets them, then empties the template cache.
    """

    context_class = _Context
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
    if facts is None:
        facts = theme_code.known_facts(fingerprint)
    problems: list[Problem] = []
    if facts is None:
        problems = check_templates(env, template_dirs)
        if problems:  # the build stops: nothing to analyse
            facts = TemplateFacts(fingerprint, frozenset(), frozenset())
        else:
            found = templates_reading(env, {"archive": True, "body_html": False})
            facts = _FACTS[fingerprint] = TemplateFacts(
                fingerprint, frozenset(found["archive"]), frozenset(found["body_html"]))
            theme_code.keep_facts(facts)
    return Templates(env, facts, static_files(template_dirs), template_dirs), problems


_THEME_FOLDER = str(DEFAULT_THEME) + os.sep  # how Jinja's loader names the theme's files


class _Compiled(jinja2.BytecodeCache):
    """Compiled templates kept for the process (serve, tests) and on disk: the default
    theme's beside the package's bytecode (builder.theme_code), a site's own in its cache
    when it has one. Jinja checks each against its source's checksum before using it."""

    memory: dict[str, bytes] = {}

    def __init__(self, folder: Path | None):
        self.disk = theme_code.Bytecode(folder) if folder else None
        self.theme = theme_code.ThemeBytecode()

    def get_bucket(self, environment, name, filename, source):
        bucket = jinja2.bccache.Bucket(environment, self.get_cache_key(name, filename),
                                       self.get_source_checksum(source))
        bucket.store = self.theme if filename and filename.startswith(_THEME_FOLDER) else self.disk
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket) -> None:
        code = self.memory.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)
        elif bucket.store is not None:
            bucket.store.load_bytecode(bucket)

    def dump_bytecode(self, bucket) -> None:
        self.memory[bucket.key] = bucket.bytecode_to_string()
        if bucket.store is not None:
            bucket.store.dump_bytecode(bucket)


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
