"""Fingerprints: a short hash of everything a page shows, to skip unchanged pages.

A page is rendered again only when its fingerprint differs from the last
build's. The fingerprint covers the planned Page (URL, template, title and
template context: links, pagination, summaries of terms and years…), the
articles it refers to, the templates, the configuration and the code
(builder.code).

The Page is serialised with pickle (its C code walks nested dataclasses,
tuples and dicts far faster than Python can), each Article replaced by a
reference to its slug. The same bytes serve twice:

- hashed together with a token for each referenced article (its card, the
  hash of everything but the body, plus the body's digest when the
  template shows bodies), they give the fingerprint;
- kept in the cache with the list of referenced slugs (the page's keys),
  they let a later build find the pages an edit reaches and rebuild those
  pages alone, articles resolved by slug (see builder.patch).

Pickle's memo is off, so the bytes depend only on the values, never on
which equal strings happen to be one object. Without a memo, pickle would
name the class of every object again in full ("builder.pages", "Page"),
looked up anew each time: the plans' classes and the article references
are named by copyreg extension codes instead, two bytes each (a third of the
bytes and of the pickling time of a plan). A template that reads the
global ``archive`` makes its pages depend on every article (key ``*``).
"""

from __future__ import annotations

import contextvars
import copyreg
import dataclasses
import hashlib
import io
import pickle

from builder import archive as archive_module, feeds, pages as pages_module, sitemap
from builder.archive import Archive
from builder.model import Article
from builder.cache import PageRecord

EVERYTHING = "*"  # the key of a page whose template reads the whole archive

_reading: contextvars.ContextVar = contextvars.ContextVar("articles of the plan being read")


def article_ref(slug: str):
    """Stands for an article in a stored plan: the article of ``read_plan``'s ``articles``."""
    try:
        articles = _reading.get()
    except LookupError:
        raise RuntimeError("a page plan must be read with read_plan") from None
    return articles[slug]


def archive_ref():
    raise LookupError("this page reads the whole archive")


# The extension codes: a block of two-byte codes (PEP 307 leaves codes above 255 unassigned),
# given in a fixed order, so that a plan stored by one process reads back in the next (a
# cache made by other code is never read: builder.code). Only what appears in plans alone is
# named so, never an article's classes: the cache's article rows read back without this module.
FIRST_CODE = 0xB100


def _plan_globals() -> list[tuple[str, str]]:
    named = [(__name__, "article_ref"), (__name__, "archive_ref")]
    for module in (pages_module, archive_module, sitemap, feeds):
        named += sorted((module.__name__, name) for name, value in vars(module).items()
                        if isinstance(value, type) and dataclasses.is_dataclass(value)
                        and value.__module__ == module.__name__)
    return named


for _code, (_module, _name) in enumerate(_plan_globals(), start=FIRST_CODE):
    copyreg.add_extension(_module, _name, _code)


def article_token(article: Article, full: bool, images=None) -> str:
    """What an article contributes to the fingerprint of a page that refers to it."""
    # The card covers the front matter; topic names can change through other articles, and
    # its pictures' files through their bytes (``images``: the build's ImageIndex).
    names = "/".join([t.name for t in article.topics])
    pictures = images.key_of(article) if images is not None and article.images else ""
    return f"{article.slug}:{article.card}:{article.body_digest if full else ''}:{names}:{pictures}"


class Fingerprinter:
    """Serialises and fingerprints pages; article tokens are computed once per build."""

    def __init__(self, base: str, archive: Archive | None, archive_templates: set[str],
                 body_templates: set[str], images=None):
        self.base = base.encode()  # code + config + templates
        self.archive = archive
        self.images = images  # the ImageIndex: what each article's pictures became
        self.archive_templates = archive_templates  # templates that read the whole archive
        self.body_templates = body_templates  # templates that show article bodies
        self.tokens: dict[bool, dict[int, str]] = {True: {}, False: {}}  # id(article) -> token
        self._everything: dict[bool, str] = {}
        self.seen: list[Article] = []
        self.data = io.BytesIO()
        self.pickler = pickle.Pickler(self.data, protocol=pickle.HIGHEST_PROTOCOL)
        self.pickler.fast = True  # no memo: equal values give equal bytes, shared or not
        seen = self.seen

        def article(value):
            seen.append(value)
            return article_ref, (value.slug,)

        def archive_(value):
            return archive_ref, ()

        # A dispatch table is a C lookup: everything else is pickled without calling Python.
        self.pickler.dispatch_table = {Article: article, Archive: archive_}

    def page(self, page) -> PageRecord:
        """The page's fingerprint, keys and stored plan."""
        # A listing shows titles and summaries, not bodies: a body edit must not
        # re-render the listing pages an article appears on.
        full = page.template in self.body_templates
        everything = page.template in self.archive_templates
        seen, data = self.seen, self.data
        seen.clear()
        data.seek(0)
        data.truncate()
        self.pickler.dump(page)
        plan = data.getvalue()
        tokens = self.tokens[full]
        parts = []
        for article in seen:
            token = tokens.get(id(article))
            if token is None:
                # Articles live as long as the build's archive, so their ids are stable.
                token = tokens[id(article)] = article_token(article, full, self.images)
            parts.append(token)
        if everything:
            parts.append(self.everything(full))
        digest = hashlib.sha1(self.base)
        digest.update(plan)
        digest.update("\x1f".join(parts).encode())
        keys = tuple(dict.fromkeys([a.slug for a in seen]))
        return PageRecord(digest.hexdigest(), full, keys + ((EVERYTHING,) if everything else ()), plan)

    def everything(self, full: bool) -> str:
        """A hash of every article of the archive (for templates that read it all)."""
        if full not in self._everything:
            tokens = [article_token(a, full, self.images) for a in self.archive.articles]
            self._everything[full] = hashlib.sha1("\x1f".join(tokens).encode()).hexdigest()
        return self._everything[full]


def read_plan(data: bytes, articles):
    """A stored page plan, read back with its article references resolved by ``articles[slug]``."""
    token = _reading.set(articles)
    try:
        return pickle.loads(data)
    finally:
        _reading.reset(token)
