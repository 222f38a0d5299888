"""Parse settings: the part of the configuration that shapes a single article."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ParseSettings:
    """The part of the configuration that shapes a single article (picklable)."""

    timezone: str
    allow_html: bool
    base_path: str
    country_aliases: tuple[tuple[str, str], ...]
    topic_vocabulary: tuple[tuple[str, tuple[str, ...]], ...]
    authors: tuple[tuple[str, str], ...] = ()  # the [authors] registry: (slug, name); () when free text
    origin: str = ""  # the site's scheme and host: links elsewhere are external

    @classmethod
    def from_config(cls, config) -> "ParseSettings":
        return cls(timezone=config.timezone, allow_html=config.allow_html,
                   base_path=config.base_path,
                   country_aliases=tuple(sorted(config.country_aliases.items())),
                   topic_vocabulary=tuple(sorted((k, tuple(v)) for k, v in config.topic_vocabulary.items())),
                   authors=tuple((a.slug, a.name) for a in config.authors), origin=config.origin)

    def fingerprint(self) -> str:
        """These settings and the code that applies them (see builder.fingerprints.code_fingerprint)."""
        return _fingerprint(self)


@lru_cache(maxsize=8)  # asked once per article: the same few settings in a process
def _fingerprint(settings: ParseSettings) -> str:
    from builder.code import code_fingerprint
    return hashlib.sha256(repr((settings, code_fingerprint())).encode()).hexdigest()[:16]
