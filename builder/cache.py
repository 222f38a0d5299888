"""Cache: what earlier builds learned, so a rebuild redoes only what changed.

Two things are kept under the cache folder (``.cache/`` by default):

- ``records.pickle``: every parsed article keyed by source path with the
  file's (size, mtime_ns, sha256), and every page's fingerprint from the
  last successful build; ``state.pickle``: the last build's input
  signature and output file list (all a no-op rebuild reads).
- ``bodies.sqlite``: each article's rendered Markdown, keyed by the
  article's digest (a hash of its source bytes and the parse settings),
  read only when a page that shows the body is rendered.

The state file carries a key made of the builder version and everything
that shapes parsing; a missing, corrupted or foreign state file is
discarded with a note and the build goes on cold. Deleting the cache never
changes the output: page fingerprints only let unchanged pages be skipped
when the file from the last build is still in the output folder.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from builder.articles import Article

MAGIC = "builder-cache"
FORMAT = 4
STATE_FILE = "state.pickle"  # small: input signature, output file list, counts
RECORDS_FILE = "records.pickle"  # large: parsed articles and page fingerprints


@dataclass(frozen=True)
class ArticleRecord:
    """A parsed article and the file state it was parsed from."""

    stat: tuple[int, int]  # (size, mtime_ns)
    sha: str  # sha256 of the source bytes
    article: Article


@dataclass
class Cache:
    folder: Path
    key: str  # builder version + parse settings
    articles: dict[str, ArticleRecord] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # output path -> fingerprint
    state: dict = field(default_factory=dict)  # last build's input signature, file list, counts…
    notes: list[str] = field(default_factory=list)
    temporary: bool = False  # --no-cache: a throwaway folder
    in_memory: bool = False  # serve: keep state in memory, write it once at the end (flush)
    _records_loaded: bool = True

    @classmethod
    def open(cls, folder: Path, key: str) -> "Cache":
        """The cache in ``folder``: only the small state file is read now (a no-op
        rebuild needs nothing more); articles and pages load on first use."""
        cache = cls(folder=folder, key=key)
        loaded = cache._read(STATE_FILE)
        if loaded is not None:
            cache.state = loaded[0]
        cache._records_loaded = loaded is None
        return cache

    def _read(self, name: str):
        path = self.folder / name
        if not path.exists():
            return None
        try:
            with open(path, "rb") as handle:
                header = pickle.load(handle)
                if not (isinstance(header, tuple) and len(header) == 3 and header[0] == MAGIC):
                    raise ValueError("not a builder cache file")
                if header[1:] != (FORMAT, self.key):
                    self.notes.append("cache made by another version or other settings: rebuilding it")
                    return None
                parts = pickle.load(handle)
            if not (isinstance(parts, tuple) and all(isinstance(part, dict) for part in parts)):
                raise ValueError("unexpected contents")
            return parts
        except Exception as error:  # any damage means: start cold, never fail the build
            self.notes.append(f"cache file {path} is unreadable ({type(error).__name__}): discarded")
            return None

    def load_records(self) -> None:
        """Read the parsed articles and page fingerprints (once)."""
        if not self._records_loaded:
            self._records_loaded = True
            loaded = self._read(RECORDS_FILE)
            if loaded is None:
                self.state = {}
            else:
                self.articles, self.pages = loaded

    @classmethod
    def throwaway(cls, key: str) -> "Cache":
        """A cache that lives for one build (``--no-cache``)."""
        return cls(folder=Path(tempfile.mkdtemp(prefix="builder-cache-")), key=key, temporary=True)

    @property
    def bodies(self) -> str:
        """Path of the body store (see BodyStore)."""
        return str(self.folder / "bodies.sqlite")

    def save(self, articles: dict[str, ArticleRecord], pages: dict[str, str], state: dict) -> None:
        """Write the state atomically and drop bodies no article refers to."""
        if self.temporary:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.in_memory:
            # What is on disk no longer matches the output folder: drop it until flush().
            (self.folder / STATE_FILE).unlink(missing_ok=True)
        else:
            self._write(RECORDS_FILE, (articles, pages))
            self._write(STATE_FILE, (state,))  # last: it vouches for the records file
        if articles.keys() != self.articles.keys() or any(
                articles[p].article.digest != self.articles[p].article.digest for p in articles):
            self._prune_bodies({r.article.digest for r in articles.values()})
        self.articles, self.pages, self.state = articles, pages, state

    def rekey(self, key: str) -> None:
        """Forget everything when what shapes parsing changed (serve, after a site.toml edit)."""
        if key != self.key:
            self.key, self.articles, self.pages, self.state = key, {}, {}, {}

    def flush(self) -> None:
        """Write what an in-memory cache holds (serve calls this when it stops)."""
        if self.in_memory and not self.temporary and self.state:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write(RECORDS_FILE, (self.articles, self.pages))
            self._write(STATE_FILE, (self.state,))

    def _write(self, name: str, parts: tuple) -> None:
        handle = tempfile.NamedTemporaryFile("wb", dir=self.folder, delete=False, suffix=".tmp")
        with handle:
            pickle.dump((MAGIC, FORMAT, self.key), handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(parts, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, self.folder / name)

    def _prune_bodies(self, keep: set[str]) -> None:
        if os.path.exists(self.bodies):
            BodyStore.at(self.bodies).keep_only(keep)

    def close(self) -> None:
        BodyStore.close_all(self.bodies)
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)


class BodyStore:
    """Rendered bodies by article digest, in one SQLite file.

    One file instead of one file per article: a cold build of 10,000
    articles would otherwise create 10,000 files. Each process opens its
    own connection (worker processes are forked), and writes go in one
    transaction per batch.
    """

    _open: dict[tuple[int, str], "BodyStore"] = {}

    def __init__(self, path: str):
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Builds run one at a time (serve rebuilds on its own thread): sharing is safe.
        self.connection = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        # No journal and no fsync: this is a disposable cache (a damaged store is noticed
        # when it is opened and thrown away), and with a journal a cold build of a large
        # archive spent a fifth of its parsing time writing every body twice.
        self.connection.execute("PRAGMA journal_mode=OFF")
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("CREATE TABLE IF NOT EXISTS bodies (digest TEXT PRIMARY KEY, html TEXT NOT NULL)")

    @classmethod
    def at(cls, path: str) -> "BodyStore":
        """This process's connection to the store at ``path``."""
        key = (os.getpid(), path)
        store = cls._open.get(key)
        if store is None:
            store = cls._open[key] = cls(path)
        return store

    @classmethod
    def close_all(cls, path: str) -> None:
        """Close this process's connections to ``path`` (before the file goes away)."""
        for key in [k for k in cls._open if k[1] == path]:
            cls._open.pop(key).connection.close()

    def read(self, digest: str) -> str:
        row = self.connection.execute("SELECT html FROM bodies WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise LookupError(f"body {digest} is missing from the cache {self.path}")
        return row[0]

    def add(self, bodies: list[tuple[str, str]]) -> None:
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("INSERT OR IGNORE INTO bodies VALUES (?, ?)", bodies)

    def digests(self) -> set[str]:
        return {row[0] for row in self.connection.execute("SELECT digest FROM bodies")}

    @classmethod
    def checked(cls, path: str, notes: list[str]) -> set[str]:
        """The digests the store at ``path`` holds; a damaged store is deleted (with a note)."""
        try:
            return cls.at(path).digests()
        except sqlite3.DatabaseError as error:
            notes.append(f"cache file {path} is unreadable ({error}): discarded")
            cls.close_all(path)
            os.unlink(path)
            return set()

    def keep_only(self, keep: set[str]) -> None:
        stale = self.digests() - keep
        if stale:
            with self.connection:
                self.connection.execute("BEGIN")
                self.connection.executemany("DELETE FROM bodies WHERE digest = ?", [(d,) for d in stale])


def clean(folder: Path) -> bool:
    """Remove the cache folder; True if there was one."""
    if folder.is_dir():
        shutil.rmtree(folder)
        return True
    return False
