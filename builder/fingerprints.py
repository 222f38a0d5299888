"""Fingerprints: a short hash of everything a page shows, to skip unchanged pages.

A page is rendered again only when its fingerprint differs from the last
build's. The fingerprint covers the page's template context (articles by
their digest, terms, pagination, cross-links…), the templates, the
configuration and the builder version; templates that use the whole
``archive`` make every page depend on every article.
"""

from __future__ import annotations

import dataclasses
import hashlib

from builder.archive import Archive
from builder.articles import Article

SIMPLE = (int, float, bool, type(None))


class Fingerprinter:
    """Hashes page contexts; shared values (an article, a term, a pagination) are hashed once."""

    def __init__(self, base: str, archive: Archive, archive_templates: set[str], body_templates: set[str]):
        self.base = base  # templates + config + version
        self.archive_templates = archive_templates  # templates that read the whole archive
        self.body_templates = body_templates  # templates that show article bodies
        self.memos: dict[bool, dict[int, str]] = {True: {}, False: {}}
        self.memo = self.memos[True]
        self.full = True  # whether articles count with their body (see value)
        self.keep: list = []  # memo keys are ids: keep the objects alive
        self.fields: dict[type, tuple[str, ...]] = {}
        self.archive_text = self.value(archive) if archive_templates else ""

    def page(self, page) -> str:
        # A listing shows titles and summaries, not bodies: a body edit must not
        # re-render the hundreds of listing pages an article appears on.
        self.full = page.template in self.body_templates
        self.memo = self.memos[self.full]
        # A template that reads the global ``archive`` depends on every article.
        everything = self.archive_text if page.template in self.archive_templates else ""
        text = "\x1f".join((self.base, page.kind, page.url, page.template, page.title,
                            self.value(page.context), everything))
        return hashlib.sha1(text.encode()).hexdigest()

    def value(self, value) -> str:
        kind = type(value)
        if kind is str:
            return f"{len(value)}:{value}"
        if kind in SIMPLE:
            return str(value)
        key = id(value)
        known = self.memo.get(key)
        if known is not None:
            return known
        if kind is Article:
            # The digest covers the source; topic names can change through other articles.
            text = (value.digest if self.full else _card(value)) + "/".join(t.name for t in value.topics)
        elif kind is tuple or kind is list:
            text = "[" + ",".join([self.value(v) for v in value]) + "]"
        elif kind is dict:
            text = "{" + ",".join([f"{k}={self.value(v)}" for k, v in value.items()]) + "}"
        elif dataclasses.is_dataclass(value):
            names = self.fields.get(kind)
            if names is None:
                names = self.fields[kind] = tuple(f.name for f in dataclasses.fields(value))
            text = kind.__name__ + "(" + ",".join([self.value(getattr(value, n)) for n in names]) + ")"
        else:
            text = repr(value)  # dates, paths
        if len(text) > 80:
            text = hashlib.sha1(text.encode()).hexdigest()
        self.memo[key] = text
        self.keep.append(value)
        return text


def _card(article: Article) -> str:
    """A hash of everything about an article but its body (what listings can show)."""
    fields = [getattr(article, f.name) for f in dataclasses.fields(article) if f.name not in ("body", "digest")]
    return hashlib.sha1(repr(fields).encode()).hexdigest()
