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
which equal strings happen to be one object. A template that reads the
global ``archive`` makes its pages depend on every article (key ``*``).
"""

from __future__ import annotations

import hashlib
import io
import pickle

from builder.archive import Archive
from builder.model import Article
from builder.cache import PageRecord

EVERYTHING = "*"  # the key of a page whose template reads the whole archive


def article_ref(slug: str):
    """Stands for an article in a stored plan; resolved by PlanReader."""
    raise RuntimeError("a page plan must be read with PlanReader")


def archive_ref():
    raise RuntimeError("a page plan must be read with PlanReader")


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


class PlanReader(pickle.Unpickler):
    """Reads a stored page plan back, article references resolved by ``articles[slug]``."""

    def __init__(self, data: bytes, articles):
        super().__init__(io.BytesIO(data))
        self.articles = articles

    def find_class(self, module, name):
        if module == __name__ and name == "article_ref":
            return self.articles.__getitem__
        if module == __name__ and name == "archive_ref":
            raise LookupError("this page reads the whole archive")
        return super().find_class(module, name)


def read_plan(data: bytes, articles):
    return PlanReader(data, articles).load()
