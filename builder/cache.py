"""Cache: what earlier builds learned, so a rebuild redoes only what changed.

Under the cache folder (``.cache/`` by default), besides the site's own compiled
templates (``templates/``, kept by Jinja; the default theme's are kept with the package,
builder.theme_code), two files:

- ``state.pickle`` (small): the last successful build's BuildState
  (builder.state) — all a no-op rebuild reads.
- ``cache.sqlite``: five tables, each written row by row so that a rebuild
  after one edit writes a few rows, not the whole cache: ``bodies`` (each
  article's rendered Markdown by body digest, read only when a page shows
  it), ``articles`` (every parsed article by source path, with the file's
  size, mtime and sha256), ``pages`` (every page's fingerprint, the slugs it
  refers to and its plan; see builder.fingerprints), ``page_refs`` (the same
  slugs as short tokens, for finding the pages an edit reaches, and the
  fingerprint again, read by every whole-site build without the plans) and ``memos``
  (what the archive step can reuse).

The state file carries the cache key (the code fingerprint and everything that
shapes parsing) and FORMAT. It is removed before the database changes and
written again after, so a build that stops half-way leaves no state, and a
database without a matching state is thrown away. A missing, corrupted or
foreign file is discarded with a note. Nothing in the cache holds an absolute
path: a site folder moved with its cache (or restored by CI elsewhere) keeps it.
Deleting the cache never changes the output.

The cache imports the model; the model knows nothing of the cache.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from builder.bodies import MissingBody
from builder.model import Article
from builder.state import FORMAT, BuildState

MAGIC = "builder-cache"
STATE_FILE = "state.pickle"
DATABASE_FILE = "cache.sqlite"
SCHEDULE_FILE = "schedule.json"


@dataclass(frozen=True)
class ArticleRecord:
    """A parsed article and the file state it was parsed from."""

    stat: tuple[int, int]  # (size, mtime_ns)
    sha: str  # sha256 of the source bytes
    article: Article


@dataclass(frozen=True)
class PageRecord:
    """What the cache keeps of a page between builds."""

    fingerprint: str
    full: bool  # its template shows article bodies
    keys: tuple[str, ...]  # the slugs of the articles it refers to (see builder.fingerprints)
    plan: bytes  # the Page, pickled with those articles as references


class Store:
    """The cache's SQLite file: bodies, articles, pages and memos.

    One file instead of one file per article: a cold build of 10,000 articles would
    otherwise create 10,000 files. Each process opens its own connection on first use
    (worker processes are forked from the builder and must not share the parent's),
    and writes go in one transaction per batch.
    """

    def __init__(self, path: Path):
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            self._connection = self._connect()
            self._pid = os.getpid()
        return self._connection

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Builds run one at a time (serve rebuilds on its own thread): sharing is safe.
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        # No journal and no fsync: this is a disposable cache (the state file is removed
        # while it changes, and a database no state vouches for is thrown away), and
        # with a journal a cold build spent a fifth of its parsing time writing bodies twice.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        # 64 MB of page cache (the default is 2 MB): inserts by random digest into a table
        # of hundreds of megabytes otherwise read their B-tree pages back again and again.
        connection.execute("PRAGMA cache_size=-65536")
        connection.executescript(
            "CREATE TABLE IF NOT EXISTS bodies (digest TEXT PRIMARY KEY, html TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS articles (path TEXT PRIMARY KEY, slug TEXT NOT NULL,"
            " size INTEGER NOT NULL, mtime INTEGER NOT NULL, sha TEXT NOT NULL, record BLOB NOT NULL);"
            "CREATE INDEX IF NOT EXISTS articles_slug ON articles (slug);"
            "CREATE TABLE IF NOT EXISTS pages (output TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
            " full INTEGER NOT NULL, keys TEXT NOT NULL, plan BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS page_refs (output TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
            " refs TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS memos (name TEXT PRIMARY KEY, value BLOB NOT NULL);")
        return connection

    def close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None

    def check(self) -> None:
        """Raise sqlite3.DatabaseError if the file is damaged (cheaply: reads the schema)."""
        self.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()

    # Bodies ---------------------------------------------------------------

    def html(self, digest: str) -> str:
        row = self.connection.execute("SELECT html FROM bodies WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise MissingBody(f"body {digest} is missing from the cache")
        return row[0]

    def add(self, bodies) -> None:
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("INSERT OR IGNORE INTO bodies VALUES (?, ?)", bodies)

    def digests(self) -> set[str]:
        return {row[0] for row in self.connection.execute("SELECT digest FROM bodies")}

    def keep_bodies(self, keep: set[str]) -> None:
        stale = self.digests() - keep
        if stale:
            with self.connection:
                self.connection.execute("BEGIN")
                self.connection.executemany("DELETE FROM bodies WHERE digest = ?", [(d,) for d in stale])

    # Articles and pages ---------------------------------------------------

    # A row's record holds the article and its sha; the file's size and mtime are columns of
    # their own, so that a checkout with new file times is taken in by updating them alone.

    def all_articles(self) -> dict[str, ArticleRecord]:
        loads = pickle.loads
        return {path: ArticleRecord((size, mtime), sha, loads(record)) for path, size, mtime, sha, record in
                self.connection.execute("SELECT path, size, mtime, sha, record FROM articles")}

    def articles_by_slug(self, slugs: list[str], drafts: bool) -> dict[str, ArticleRecord]:
        """The articles with these slugs (drafts only when ``drafts``: a draft left out
        of the site may share its slug with a published article)."""
        found = {}
        for slug, size, mtime, sha, record in self._rows_where_in("slug, size, mtime, sha, record", "articles",
                                                                  "slug", slugs):
            record = ArticleRecord((size, mtime), sha, pickle.loads(record))
            if drafts or not record.article.draft:
                found[slug] = record
        return found

    def sources(self) -> dict[str, tuple[tuple[int, int], str]]:
        """((size, mtime_ns), sha256) of every cached article's file, by path."""
        return {path: ((size, mtime), sha) for path, size, mtime, sha in
                self.connection.execute("SELECT path, size, mtime, sha FROM articles")}

    def articles_at(self, paths: list[str]) -> dict[str, ArticleRecord]:
        return {path: ArticleRecord((size, mtime), sha, pickle.loads(record)) for path, size, mtime, sha, record
                in self._rows_where_in("path, size, mtime, sha, record", "articles", "path", paths)}

    def restat(self, stats: list[tuple[str, tuple[int, int]]]) -> None:
        """New size and mtime for files whose bytes are those the cache parsed (a fresh checkout)."""
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("UPDATE articles SET size = ?, mtime = ? WHERE path = ?",
                                        [(stat[0], stat[1], path) for path, stat in stats])

    def pages_with(self, slugs: list[str]) -> list[tuple[str, bool, tuple[str, ...], str]]:
        """(output, full, keys, fingerprint) of every page whose keys hold one of ``slugs``."""
        if not slugs:
            return []
        # A scan in SQLite's C code over short tokens of the slugs (page_refs, a seventh the
        # size of the slugs, and no plans to step over): quicker than an index of (slug, page)
        # rows, which a cold build would have to write by the hundred thousand. A token two
        # slugs share only lets a page through that the check of its real keys below drops.
        condition = " OR ".join(["instr(refs, ?) > 0"] * len(slugs))
        outputs = [output for output, in self.connection.execute(
            f"SELECT output FROM page_refs WHERE {condition}", [f"\n{_token(slug)}\n" for slug in slugs])]
        wanted = set(slugs)
        found = []
        for output, full, keys, fingerprint in self._rows_where_in("output, full, keys, fingerprint", "pages",
                                                                 "output", outputs):
            keys = tuple(keys.strip("\n").split("\n"))
            if wanted.intersection(keys):
                found.append((output, bool(full), keys, fingerprint))
        return sorted(found)

    def fingerprints(self) -> dict[str, str]:
        # From the narrow table: the pages table's plans (21 MB at 10,000 articles) would be
        # read through to reach them.
        return dict(self.connection.execute("SELECT output, fingerprint FROM page_refs"))

    def plans(self, outputs: list[str]) -> dict[str, bytes]:
        return dict(self._rows_where_in("output, plan", "pages", "output", outputs))

    def _rows_where_in(self, columns: str, table: str, column: str, values: list[str]):
        """Rows whose ``column`` is one of ``values``, asked for 500 at a time (SQLite
        limits the number of parameters of a statement)."""
        for start in range(0, len(values), 500):
            part = values[start:start + 500]
            marks = ",".join("?" * len(part))
            yield from self.connection.execute(
                f"SELECT {columns} FROM {table} WHERE {column} IN ({marks})", part)

    def write(self, articles: list[tuple[str, ArticleRecord]], gone: list[str],
              pages: dict[str, PageRecord], gone_pages: list[str], rows: dict[str, bytes] | None = None) -> None:
        """Replace and delete article and page rows in one transaction; ``rows``: articles
        already pickled (row_of) by path."""
        rows = rows or {}
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("DELETE FROM articles WHERE path = ?", [(p,) for p in gone])
            self.connection.executemany(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                [(path, record.article.slug, record.stat[0], record.stat[1], record.sha,
                  rows.get(path) or row_of(record.article))
                 for path, record in articles])
            self.connection.executemany("DELETE FROM pages WHERE output = ?", [(o,) for o in gone_pages])
            self.connection.executemany("DELETE FROM page_refs WHERE output = ?", [(o,) for o in gone_pages])
            self.connection.executemany(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?)",
                [(output, r.fingerprint, int(r.full), "\n" + "\n".join(r.keys) + "\n", r.plan)
                 for output, r in pages.items()])
            tokens: dict[str, str] = {}  # each slug tokenized once: most are on several pages
            self.connection.executemany(
                "INSERT OR REPLACE INTO page_refs VALUES (?, ?, ?)",
                [(output, r.fingerprint, _refs(r.keys, tokens)) for output, r in pages.items()])

    def memo(self, name: str) -> dict:
        row = self.connection.execute("SELECT value FROM memos WHERE name = ?", (name,)).fetchone()
        return pickle.loads(row[0]) if row else {}

    def set_memo(self, name: str, value: dict) -> None:
        self.connection.execute("INSERT OR REPLACE INTO memos VALUES (?, ?)",
                                (name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))


@dataclass
class Cache:
    """The site's cache folder; ``Cache.none()`` for a build that keeps nothing (--no-cache)."""

    folder: Path | None
    key: str  # the code fingerprint + everything that shapes parsing
    state: BuildState | None = None
    notes: list[str] = field(default_factory=list)
    articles: dict[str, ArticleRecord] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # output path -> fingerprint
    _records_loaded: bool = True
    _store: Store | None = None

    @classmethod
    def open(cls, folder: Path, key: str) -> "Cache":
        """The cache in ``folder``: only the small state file is read now (a no-op
        rebuild needs nothing more); articles and pages load on first use."""
        cache = cls(folder=folder, key=key)
        cache.state = cache._read_state()
        if cache.state is None:
            cache._drop_database()  # no state vouches for it
        else:
            cache._records_loaded = False
        return cache

    @classmethod
    def none(cls, key: str) -> "Cache":
        """A build that neither reads nor keeps a cache: bodies stay in memory."""
        return cls(folder=None, key=key)

    @property
    def keeps(self) -> bool:
        """Whether this cache stores anything (False for --no-cache)."""
        return self.folder is not None

    @property
    def store(self) -> Store | None:
        if self.folder is None:
            return None
        if self._store is None:
            self._store = Store(self.folder / DATABASE_FILE)
        return self._store

    @property
    def compiled(self) -> Path | None:
        """Folder for compiled templates (none without a cache)."""
        if self.folder is None:
            return None
        folder = self.folder / "templates"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _read_state(self) -> BuildState | None:
        path = self.folder / STATE_FILE
        if not path.exists():
            return None
        try:
            with open(path, "rb") as handle:
                header = pickle.load(handle)
                if not (isinstance(header, tuple) and len(header) == 3 and header[0] == MAGIC):
                    raise ValueError("not a builder cache file")
                if header[1:] != (FORMAT, self.key):
                    self.notes.append("cache made by other code or other settings: rebuilding it")
                    return None
                state = pickle.load(handle)
            if not isinstance(state, BuildState):
                raise ValueError("unexpected contents")
            return state
        except Exception as error:  # any damage means: start cold, never fail the build
            self.notes.append(f"cache file {path} is unreadable ({type(error).__name__}): discarded")
            return None

    def _drop_database(self) -> None:
        if self.folder is None:
            return
        if self._store is not None:
            self._store.close()
            self._store = None
        database = str(self.folder / DATABASE_FILE)
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(database + suffix)
            except FileNotFoundError:
                pass

    def checked_store(self) -> Store | None:
        """The database, or None (without a cache, or after discarding a damaged one with a note)."""
        store = self.store
        if store is None:
            return None
        try:
            store.check()
            return store
        except sqlite3.DatabaseError as error:
            self._discard(error)
            return None

    def body_digests(self) -> set[str]:
        """The digests of the bodies the database holds (none after discarding a damaged one)."""
        store = self.checked_store()
        try:
            return store.digests() if store else set()
        except sqlite3.DatabaseError as error:
            self._discard(error)
            return set()

    def _discard(self, error: Exception) -> None:
        self.notes.append(f"cache file {self.folder / DATABASE_FILE} is unreadable ({error}): discarded")
        self._drop_database()
        self.state, self.articles, self.pages = None, {}, {}
        self._records_loaded = True

    def load_records(self) -> None:
        """Read the parsed articles and page fingerprints (once)."""
        if self._records_loaded:
            return
        self._records_loaded = True
        store = self.checked_store()
        if store is None:
            return
        try:
            self.articles = store.all_articles()
            self.pages = store.fingerprints()
        except Exception as error:  # a damaged file, or a row that does not unpickle: start cold
            self._discard(error)

    def published(self) -> dict[str, tuple[str, str]]:
        """The article addresses the last full build published: {URL relative to the base path:
        (source path, slug)} (see builder.vanished)."""
        store = self.checked_store()
        return store.memo("published") if store else {}

    def pictures(self) -> dict:
        """The pictures the last full build read: {file: ((size, mtime), Picture)} (builder.images)."""
        store = self.checked_store()
        return store.memo("pictures") if store else {}

    def archive_memo(self) -> dict:
        """What the archive step can reuse (see builder.archive), kept out of the state file:
        only full builds read it, and at 100,000 articles it is megabytes."""
        store = self.checked_store()
        return store.memo("archive") if store else {}

    def icons(self) -> dict:
        """The icons the last full build made, with what they were made from (builder.favicon)."""
        store = self.checked_store()
        return store.memo("icons") if store else {}

    def save(self, articles: dict[str, ArticleRecord], pages: dict[str, "PageRecord | str"], state: BuildState,
             complete: bool = True, archive_memo: dict | None = None, published: dict | None = None,
             pictures: dict | None = None, icons: dict | None = None, rows: dict[str, bytes] | None = None) -> None:
        """Write what changed since the last save: article rows, page rows, then the state.

        ``pages`` maps output paths to PageRecords, or to the fingerprint alone for a
        page whose row is known to be current. ``complete``: ``articles`` and ``pages``
        are everything the site has (rows missing from them are deleted); otherwise
        they are the rows to update. ``rows``: articles already pickled for their rows, by path.
        """
        if self.folder is None:
            self.state = state
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / STATE_FILE).unlink(missing_ok=True)  # until the rows are right again
        store = self.store
        old = self.articles
        changed = [(path, record) for path, record in articles.items()
                   if old.get(path) is not record and old.get(path) != record]
        gone = [path for path in old if path not in articles] if complete else []
        new_pages = {output: record for output, record in pages.items()
                     if not isinstance(record, str) and self.pages.get(output) != record.fingerprint}
        gone_pages = [output for output in self.pages if output not in pages] if complete else []
        store.write(changed, gone, new_pages, gone_pages, rows)
        if archive_memo is not None:
            store.set_memo("archive", archive_memo)
        if published is not None:
            store.set_memo("published", published)
        if pictures is not None:
            store.set_memo("pictures", pictures)
        if icons is not None:
            store.set_memo("icons", icons)
        replaced = any(path in old and old[path].article.body_digest != record.article.body_digest
                       for path, record in changed)
        if complete:
            if gone or replaced:
                store.keep_bodies({record.article.body_digest for record in articles.values()})
            self.articles = dict(articles)
            self.pages = {output: _fingerprint(record) for output, record in pages.items()}
            self._records_loaded = True
        elif self._records_loaded:  # what is in memory is the whole cache: keep it so
            self.articles.update(articles)
            self.pages.update((output, _fingerprint(record)) for output, record in pages.items())
            if replaced:
                store.keep_bodies({record.article.body_digest for record in self.articles.values()})
        # Otherwise the rows are read when a build needs them all; a replaced body
        # stays in the database until a full build prunes it.
        self.save_state(state)

    def save_state(self, state: BuildState) -> None:
        """Write the state alone (the rows did not change)."""
        self.state = state
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile("wb", dir=self.folder, delete=False, suffix=".tmp")
        with handle:
            pickle.dump((MAGIC, FORMAT, self.key), handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, self.folder / STATE_FILE)
        self._write_schedule(state)

    def _write_schedule(self, state: BuildState) -> None:
        """``schedule.json``: how many articles are held back, when the next is due, and when
        the clock alone next changes the site (that, or the news sitemap's window moving on),
        for a scheduled CI run (or anyone) to read without the builder."""
        text = json.dumps({"scheduled": state.counts.scheduled, "next_due": state.next_due or None,
                           "next_change": state.changes_at or None}, indent=1) + "\n"
        path = self.folder / SCHEDULE_FILE
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            temporary = path.with_suffix(".tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)

    def rekey(self, key: str) -> None:
        """Forget everything when what shapes parsing changed (serve, after a site.toml edit)."""
        if key != self.key:
            self.key, self.articles, self.pages, self.state = key, {}, {}, None
            self._records_loaded = True
            if self.folder is not None:
                (self.folder / STATE_FILE).unlink(missing_ok=True)
                self._drop_database()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def row_of(article: Article) -> bytes:
    """An article as its cache row keeps it."""
    return pickle.dumps(article, protocol=pickle.HIGHEST_PROTOCOL)


def _token(slug: str) -> str:
    """A slug in 8 characters (CRC-32 in hex) for page_refs."""
    return f"{zlib.crc32(slug.encode()):08x}"


def _refs(keys: tuple[str, ...], tokens: dict[str, str]) -> str:
    """A page's keys as page_refs holds them; ``tokens``: those made so far (most slugs
    are on many pages)."""
    found = []
    for key in keys:
        token = tokens.get(key)
        if token is None:
            token = tokens[key] = _token(key)
        found.append(token)
    return "\n" + "\n".join(found) + "\n"


def _fingerprint(record: "PageRecord | str") -> str:
    return record if isinstance(record, str) else record.fingerprint


def clean(folder: Path) -> bool:
    """Remove the cache folder; True if there was one."""
    if folder.is_dir():
        shutil.rmtree(folder)
        return True
    return False


def published_in(folder: Path) -> dict[str, tuple[str, str]]:
    """The addresses the last build in the cache ``folder`` published, read without changing
    anything (``check`` writes nothing); empty when there is no readable cache."""
    path = folder / DATABASE_FILE
    if not path.is_file():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            row = connection.execute("SELECT value FROM memos WHERE name = 'published'").fetchone()
        return pickle.loads(row[0]) if row else {}
    except Exception:  # a damaged or foreign cache: nothing to compare with
        return {}
