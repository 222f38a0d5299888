"""Bodies: where the rendered Markdown of each article is kept, by its body digest.

Articles carry only a digest (builder.model); the renderer is handed a body store
to resolve it. Without a cache the bodies stay in memory; with one, parsing writes
them to the cache's database (builder.cache.Store) and rendering reads them back.
"""

from __future__ import annotations


class MissingBody(LookupError):
    """A digest the store does not hold (a pruned or damaged cache)."""


class MemoryBodies:
    """Bodies kept in a dict (``--no-cache`` builds, ``check``, the editorial tools)."""

    def __init__(self, bodies: dict[str, str] | None = None):
        self.bodies = bodies if bodies is not None else {}

    def add(self, pairs) -> None:
        self.bodies.update(pairs)

    def html(self, digest: str) -> str:
        try:
            return self.bodies[digest]
        except KeyError:
            raise MissingBody(f"body {digest} was never parsed in this build") from None

    def __contains__(self, digest: str) -> bool:
        return digest in self.bodies


class LayeredBodies:
    """New bodies first (an edit being patched in), then another store."""

    def __init__(self, new: MemoryBodies, rest):
        self.new = new
        self.rest = rest

    def html(self, digest: str) -> str:
        if digest in self.new:
            return self.new.html(digest)
        return self.rest.html(digest)
