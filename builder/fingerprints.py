"""Fingerprints: a short hash of everything a page shows, to skip unchanged pages.

A page is rendered again only when its fingerprint differs from the last
build's. The fingerprint covers the page's template context (articles by
their digest, terms, pagination, cross-links…), the templates, the
configuration and the builder version; templates that use the whole
``archive`` make every page depend on every article.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

from builder.archive import Archive
from builder.articles import Article


class Fingerprinter:
    """Hashes page contexts; shared values (a term, a pagination) are hashed once."""

    def __init__(self, base: str, archive: Archive, archive_wide: bool):
        self.base = base  # templates + config + version
        self.memo: dict[int, str] = {}
        self.keep: list = []  # memo keys are ids: keep the objects alive
        self.archive = archive
        self.archive_wide = archive_wide

    def page(self, page) -> str:
        parts = [self.base, page.kind, page.url, page.template, page.title,
                 self.value(page.context)]
        if self.archive_wide:
            parts.append(self.value(self.archive))
        return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()

    def value(self, value) -> str:
        if isinstance(value, (str, int, float, bool, type(None), dt.datetime, Path)):
            return repr(value)
        key = id(value)
        known = self.memo.get(key)
        if known is not None:
            return known
        if isinstance(value, Article):
            # The digest covers the source; topic names can change through other articles.
            text = value.digest + "/".join(t.name for t in value.topics)
            self.memo[key] = text
            self.keep.append(value)
            return text
        if isinstance(value, dict):
            text = "{" + ",".join(f"{k!r}:{self.value(v)}" for k, v in value.items()) + "}"
        elif isinstance(value, (list, tuple)):
            text = "[" + ",".join(self.value(v) for v in value) + "]"
        elif dataclasses.is_dataclass(value):
            text = type(value).__name__ + self.value(
                {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        else:
            text = repr(value)
        if len(text) > 64:
            text = hashlib.sha1(text.encode()).hexdigest()
        self.memo[key] = text
        self.keep.append(value)
        return text
