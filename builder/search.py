"""Search: index the new version of the site with Pagefind and check what it wrote.

Runs after render and before the output changes, so a failed index leaves
the previous ``output/`` as it was. Pagefind reads only the article pages
(the pages planned as indexed, gathered by hard links from the staging
folder and the output), and indexes what their template marks
``data-pagefind-body``. Each must carry its ``country``, ``topic`` and
``year`` filter values (as its front matter says), the ``date`` sort key and
the ``title``, ``date`` and ``summary`` meta: the check below reads them back
from the index Pagefind wrote. Index files whose bytes did not change stay
as the output has them.

The Pagefind binary (from the ``pagefind-bin`` package, or the one
``PAGEFIND_BINARY_PATH`` names) runs once as a command over the whole
folder: one process for the whole site, and its exit status and messages
make a clear error. The ``pagefind`` Python API costs ~0.1 s per call and
reports a dead binary only as a lost connection.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from builder.config import SiteConfig
from builder.output import same_bytes
from builder.pages import Page
from builder.problems import BuildFailed, Problem, ToolFailed
from builder.urls import SEARCH_BUNDLE

BUNDLE_FOLDER = SEARCH_BUNDLE  # the index and Pagefind's UI in the output
SORT_KEY = "date"
META = ("title", "date", "summary")
PAGEFIND_SIGNATURE = b"pagefind_dcd"  # starts every gzipped index file
SHOWN_PAGES = 5  # pages named per problem; a template mistake affects every article alike


def pagefind_binary() -> Path:
    """The Pagefind executable: ``PAGEFIND_BINARY_PATH`` if set, else pagefind-bin's."""
    named = os.environ.get("PAGEFIND_BINARY_PATH")
    if named:
        return Path(named)
    try:
        from pagefind_bin import get_executable
        return get_executable()
    except (ImportError, FileNotFoundError) as error:
        raise ToolFailed("Pagefind is not installed: install it with pip install pagefind-bin "
                         "(or set PAGEFIND_BINARY_PATH), or build without search (--no-search)") from error


@dataclass(frozen=True)
class IndexChange:
    """What the search step changes in the output folder."""

    changed: list[str]  # index files staged with new bytes (paths relative to the output folder)
    removed: list[str]  # index files of the current output that the new index no longer has
    unchanged: int  # index files the output already holds as they are


def drop_index(existing: set[str]) -> IndexChange:
    """No search in this build: the current output's index goes."""
    return IndexChange(changed=[], removed=sorted(f for f in existing if f.startswith(BUNDLE_FOLDER + "/")),
                       unchanged=0)


def keep_index(existing: set[str]) -> IndexChange:
    """The current output's index stays as it is."""
    return IndexChange(changed=[], removed=[],
                       unchanged=sum(1 for f in existing if f.startswith(BUNDLE_FOLDER + "/")))


def pagefind_version() -> str:
    """The installed pagefind-bin's version ('' when none is installed)."""
    from importlib import metadata
    try:
        return metadata.version("pagefind-bin")
    except metadata.PackageNotFoundError:
        return ""


def index_key(config: SiteConfig, pages) -> str:
    """What the search index depends on besides the bytes of the indexed pages."""
    indexed = [page.output for page in pages if page.indexed]
    return hashlib.sha256(repr((indexed, config.search, config.base_path, pagefind_version())).encode()).hexdigest()


def index_is_current(key: str, known: str, pages, changed: list[str], existing) -> bool:
    """True when the output's index was made from exactly these indexed pages, none of which
    changed: running Pagefind again (20 s at 10,000 articles) would write the same bytes."""
    if known != key or not any(f.startswith(BUNDLE_FOLDER + "/") for f in existing):
        return False
    indexed = {page.output for page in pages if page.indexed}
    return not indexed.intersection(changed)


def index_site(config: SiteConfig, pages: list[Page], staging, existing: set[str]) -> IndexChange:
    """Index the new version of every article page, check the index, and stage its changed files.

    ``staging`` holds the pages this build changed, ``staging.output`` the others;
    ``existing`` lists the current output's files.
    """
    indexed = [page for page in pages if page.indexed]
    if not indexed:
        # Pagefind cannot build an empty index (and without a marked body it would index every page).
        return drop_index(existing)
    work = staging.folder.with_name(staging.folder.name + "-search")
    shutil.rmtree(work, ignore_errors=True)
    try:
        _gather_pages(indexed, staging, work / "site")
        _run_pagefind(config, work / "site", work / "bundle")
        _make_reproducible(work / "bundle")
        _check_index(config, indexed, work / "bundle")
        return _stage_bundle(work / "bundle", staging, existing)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _gather_pages(indexed: list[Page], staging, site: Path) -> None:
    """One folder with the new version of every indexed page, for Pagefind to read: hard
    links to the staged file when the page changed, else to the output's."""
    for page in indexed:
        source = staging.folder / page.output
        if not source.exists():
            source = staging.output / page.output
        target = site / page.output
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:  # no hard links on this filesystem
            shutil.copyfile(source, target)


def _stage_bundle(bundle: Path, staging, existing: set[str]) -> IndexChange:
    """Move the index files whose bytes changed into the staging folder (no copy: a large
    archive's index is thousands of files); the others stay as the output has them."""
    changed, kept = [], set()
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        relative = f"{BUNDLE_FOLDER}/{path.relative_to(bundle).as_posix()}"
        kept.add(relative)
        if relative in existing and same_bytes(staging.output / relative, path.read_bytes()):
            continue
        target = staging.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        changed.append(relative)
    removed = sorted(f for f in existing if f.startswith(BUNDLE_FOLDER + "/") and f not in kept)
    return IndexChange(changed=changed, removed=removed, unchanged=len(kept) - len(changed))


def _run_pagefind(config: SiteConfig, site: Path, bundle: Path) -> None:
    binary = pagefind_binary()
    command = [str(binary), "--site", str(site), "--output-path", str(bundle),
               "--force-language", config.search_language, "--quiet"]
    for selector in config.search.exclude_selectors:
        command += ["--exclude-selectors", selector]
    if not binary.is_file():
        raise ToolFailed(f"Pagefind not found at {binary} (PAGEFIND_BINARY_PATH or pagefind-bin)")
    # Pagefind reads a pagefind.yml/.toml from its working folder: run it where there is none.
    bundle.mkdir(parents=True)
    try:
        finished = subprocess.run(command, cwd=bundle, capture_output=True, text=True)
    except PermissionError as error:
        raise ToolFailed(f"Pagefind at {binary} cannot be run: {error.strerror}") from error
    except OSError as error:
        raise ToolFailed(f"Pagefind at {binary} cannot be run: {error}") from error
    if finished.returncode != 0:
        said = (finished.stderr.strip() or finished.stdout.strip()).splitlines()[-10:]
        detail = ("; it said:\n  " + "\n  ".join(said)) if said else ""
        raise ToolFailed(f"Pagefind ({binary}) failed with exit code {finished.returncode}{detail}")


def _make_reproducible(bundle: Path) -> None:
    """Rewrite the files Pagefind writes in a varying order, so that the same site gives the
    same index bytes.

    Pagefind lists each filter's values (and the filters in its metadata file) in hash-map
    order, which changes from run to run; its other files are reproducible. The filter
    files are rewritten with values in sorted order and renamed by their new content hash,
    and the metadata file and the entry file that name them are rewritten to match.
    """
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language, info in entry["languages"].items():
        meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
        meta = _decode_cbor(_unpack(meta_path))
        filters = []
        for name, old_hash in sorted(meta[3]):
            old_path = bundle / "filter" / f"{old_hash}.pf_filter"
            filter_name, values = _decode_cbor(_unpack(old_path))
            values = sorted([value, sorted(pages)] for value, pages in values)
            new_hash = _write_packed(bundle / "filter", language, 7, ".pf_filter",
                                     _encode_cbor([filter_name, values]))
            if new_hash != old_hash:
                old_path.unlink()
            filters.append([name, new_hash])
        meta[3] = filters
        meta_hash = _write_packed(bundle, language, 10, ".pf_meta", _encode_cbor(meta), prefix="pagefind.")
        if meta_hash != info["hash"]:
            meta_path.unlink()
        info["hash"] = meta_hash
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _write_packed(folder: Path, language: str, digits: int, suffix: str, payload: bytes,
                  prefix: str = "") -> str:
    """Write a Pagefind file (gzip, no timestamp) named by its content; return its hash name."""
    data = gzip.compress(PAGEFIND_SIGNATURE + payload, compresslevel=9, mtime=0)
    name = f"{language}_{hashlib.sha256(data).hexdigest()[:digits]}"
    (folder / f"{prefix}{name}{suffix}").write_bytes(data)
    return name


def _check_index(config: SiteConfig, indexed: list[Page], bundle: Path) -> None:
    """Every indexed page is in the index with its sort key, filters and meta."""
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        records = {}
        for language in entry["languages"].values():
            records.update(_read_records(bundle, language["hash"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        raise ToolFailed(f"Pagefind wrote no readable index ({type(error).__name__}: {error})") from error

    template = _article_template(config)
    missing: dict[str, list[str]] = {}  # what is missing → pages it is missing from

    def lacks(what: str, page: Page) -> None:
        missing.setdefault(what, []).append(page.url)

    for page in indexed:
        record = records.get(_index_url(page))
        if record is None:
            lacks("not in the index (does the template leave data-pagefind-ignore off its body?)", page)
            continue
        if not record.has_sort_key:
            lacks(f"no '{SORT_KEY}' sort key (data-pagefind-sort=\"{SORT_KEY}:…\"), "
                  "so date-sorted results leave the page out", page)
        for name, values in _expected_filters(page).items():
            found = sorted(record.filters.get(name, ()))
            if found != sorted(values):
                lacks(f"{name} filter values {found}, expected {sorted(values)} "
                      f"(data-pagefind-filter=\"{name}\")", page)
        for name in META:
            if not record.meta.get(name):
                lacks(f"no '{name}' meta (data-pagefind-meta=\"{name}\")", page)
    problems = [Problem(template, 0, f"search index: {what}: {_pages_text(urls)}")
                for what, urls in missing.items()]
    if problems:
        raise BuildFailed(problems)


@dataclass(frozen=True)
class _Record:
    """One page as Pagefind indexed it."""

    filters: dict  # name → list of values
    meta: dict  # name → text
    has_sort_key: bool  # listed under the date sort


def _read_records(bundle: Path, language_hash: str) -> dict[str, _Record]:
    """Pages of one language's index by URL, read from Pagefind's own files."""
    # pf_meta: [version, pages [[fragment hash, words]], index chunks, filter chunks,
    #           sorts [[name, [page numbers]]], meta field names]
    meta = _decode_cbor(_unpack(bundle / f"pagefind.{language_hash}.pf_meta"))
    fragments, sorts = meta[1], dict((name, set(numbers)) for name, numbers in meta[4])
    records = {}
    for number, (fragment_hash, _words) in enumerate(fragments):
        fragment = json.loads(_unpack(bundle / "fragment" / f"{fragment_hash}.pf_fragment"))
        records[fragment["url"]] = _Record(filters=fragment.get("filters", {}),
                                           meta=fragment.get("meta", {}),
                                           has_sort_key=number in sorts.get(SORT_KEY, ()))
    return records


def _unpack(path: Path) -> bytes:
    """A Pagefind file: gzip around a 'pagefind_dcd' signature and the payload."""
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(PAGEFIND_SIGNATURE):
        raise ValueError(f"{path.name} is not a Pagefind file")
    return data[len(PAGEFIND_SIGNATURE):]


def _decode_cbor(data: bytes):
    """The CBOR subset Pagefind's metadata uses: integers, text, bytes, arrays, maps."""
    def item(at: int):
        initial = data[at]
        major, info = initial >> 5, initial & 31
        at += 1
        if info < 24:
            value = info
        elif info <= 27:
            size = 1 << (info - 24)
            value = int.from_bytes(data[at:at + size], "big")
            at += size
        else:
            raise ValueError(f"unsupported CBOR item {initial:#x}")
        if major == 0:
            return value, at
        if major == 1:
            return -1 - value, at
        if major in (2, 3):
            raw = data[at:at + value]
            return (raw if major == 2 else raw.decode("utf-8")), at + value
        if major == 4:
            items = []
            for _ in range(value):
                element, at = item(at)
                items.append(element)
            return items, at
        if major == 5:
            mapping = {}
            for _ in range(value):
                key, at = item(at)
                mapping[key], at = item(at)
            return mapping, at
        if major == 7 and value in (20, 21, 22):
            return {20: False, 21: True, 22: None}[value], at
        raise ValueError(f"unsupported CBOR item {initial:#x}")

    value, _ = item(0)
    return value


def _encode_cbor(value) -> bytes:
    """The inverse of _decode_cbor, in CBOR's shortest form (as Pagefind writes it)."""
    def head(major: int, number: int) -> bytes:
        if number < 24:
            return bytes([major << 5 | number])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if number < 1 << (8 * size):
                return bytes([major << 5 | info]) + number.to_bytes(size, "big")
        raise ValueError(f"number too large for CBOR: {number}")

    if isinstance(value, bool) or value is None:
        return bytes([0xF4 if value is False else 0xF5 if value is True else 0xF6])
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return head(3, len(encoded)) + encoded
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(_encode_cbor(item) for item in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(_encode_cbor(k) + _encode_cbor(v) for k, v in value.items())
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def _index_url(page: Page) -> str:
    """The URL Pagefind records for a page: from the site root, without 'index.html'."""
    output = page.output
    return "/" + (output[:-len("index.html")] if output.endswith("index.html") else output)


def _expected_filters(page: Page) -> dict[str, list[str]]:
    """Filter values the article's page must carry (an empty list: none)."""
    article = page.context.article
    return {"country": [country.name for country in article.countries],
            "topic": [topic.name for topic in article.topics],
            "year": [str(article.year)]}


def _article_template(config: SiteConfig) -> str:
    """The article template in use, as the user would name it."""
    for folder in config.template_dirs:
        path = folder / "article.html"
        if path.is_file():
            try:
                return path.resolve().relative_to(config.root.resolve()).as_posix()
            except ValueError:
                return str(path)
    return "templates/article.html"


def _pages_text(urls: list[str]) -> str:
    shown = ", ".join(urls[:SHOWN_PAGES])
    more = len(urls) - SHOWN_PAGES
    return f"{'page' if len(urls) == 1 else 'pages'} {shown}" + (f" and {more:,} more" if more > 0 else "")
