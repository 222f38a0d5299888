"""What a build is asked to do: the command line's options, the configuration they give,
and the key a cache must have been made with."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from builder.code import code_fingerprint
from builder.config import SiteConfig, load_config
from builder.parse_settings import ParseSettings


@dataclass(frozen=True)
class BuildOptions:
    """What the command line asked for."""

    site: Path = Path(".")
    drafts: bool = False
    base_url: str | None = None
    out: Path | None = None
    search: bool = True  # False: --no-search
    cache: bool = True  # False: --no-cache
    index_search: bool = True  # False: leave the index behind the pages (serve indexes afterwards)
    jobs: int = 0  # worker processes; 0: one per core
    future: bool = False  # --future: publish articles dated after now too


def site_config(options: BuildOptions) -> SiteConfig:
    """The configuration, with search off when ``--no-search`` says so (pages then link no /search/)."""
    config = load_config(options.site, options.base_url)
    if not options.search:
        config = dataclasses.replace(config, search=dataclasses.replace(config.search, enabled=False))
    return config


def cache_key(config: SiteConfig) -> str:
    """What a cache must have been made with to be reused: the code and the parse settings."""
    return f"{code_fingerprint()}:{ParseSettings.from_config(config).fingerprint()}"
