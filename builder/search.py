"""Search: index the staged site with Pagefind and check the index it wrote.

Runs between render and swap, on the staging folder, so a failed index
leaves the previous ``output/`` as it was. Pagefind indexes only the pages
whose template marks ``data-pagefind-body`` (articles); each must carry
its ``country``, ``topic`` and ``year`` filter values (as its front matter
says), the ``date`` sort key and the ``title``, ``date`` and ``summary``
meta, which the check below reads back from what Pagefind actually wrote.

The Pagefind binary (from the ``pagefind-bin`` package, or the one
``PAGEFIND_BINARY_PATH`` names) runs once as a command over the whole
folder: one process for the whole site, and its exit status and messages
make a clear error. The ``pagefind`` Python API costs ~0.1 s per call and
reports a dead binary only as a lost connection.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from builder.config import SiteConfig
from builder.pages import Page
from builder.problems import BuildFailed, Problem, ToolFailed

BUNDLE_FOLDER = "pagefind"  # the index and Pagefind's UI under the output root (Urls.search_bundle)
SORT_KEY = "date"
META = ("title", "date", "summary")
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


def index_site(config: SiteConfig, pages: list[Page], staging) -> None:
    """Index the staged site into its ``pagefind/`` folder and check every indexed page."""
    indexed = [page for page in pages if page.indexed]
    if not indexed:
        return  # Pagefind cannot build an empty index (and without a marked body it would index every page)
    bundle = staging.folder.with_name(staging.folder.name + ".pagefind")
    shutil.rmtree(bundle, ignore_errors=True)
    bundle.mkdir()
    try:
        _run_pagefind(config, staging.folder, bundle)
        _check_index(config, indexed, bundle)
        for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
            _stage_file(staging, f"{BUNDLE_FOLDER}/{path.relative_to(bundle).as_posix()}", path)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)


def _stage_file(staging, relative: str, path: Path) -> None:
    """Carry an unchanged file over from the current output; move a new one in (no copy:
    a large archive's index is thousands of files)."""
    current = staging.output / relative
    try:
        same = current.stat().st_size == path.stat().st_size and current.read_bytes() == path.read_bytes()
    except OSError:
        same = False
    if same and staging.link_unchanged(relative):
        return
    target = staging.folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    staging.written += 1


def _run_pagefind(config: SiteConfig, site: Path, bundle: Path) -> None:
    binary = pagefind_binary()
    command = [str(binary), "--site", str(site), "--output-path", str(bundle),
               "--force-language", config.search_language, "--quiet"]
    for selector in config.search.exclude_selectors:
        command += ["--exclude-selectors", selector]
    # Pagefind reads a pagefind.yml/.toml from its working folder: run it where there is none.
    try:
        finished = subprocess.run(command, cwd=bundle, capture_output=True, text=True)
    except FileNotFoundError as error:
        raise ToolFailed(f"Pagefind not found at {binary} (PAGEFIND_BINARY_PATH or pagefind-bin)") from error
    except PermissionError as error:
        raise ToolFailed(f"Pagefind at {binary} cannot be run: {error.strerror}") from error
    except OSError as error:
        raise ToolFailed(f"Pagefind at {binary} cannot be run: {error}") from error
    if finished.returncode != 0:
        said = (finished.stderr.strip() or finished.stdout.strip()).splitlines()[-10:]
        detail = ("; it said:\n  " + "\n  ".join(said)) if said else ""
        raise ToolFailed(f"Pagefind ({binary}) failed with exit code {finished.returncode}{detail}")


def _check_index(config: SiteConfig, indexed: list[Page], bundle: Path) -> None:
    """Every indexed page is in the index with its sort key, filters and meta; nothing else is."""
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

    expected_urls = set()
    for page in indexed:
        url = _index_url(page)
        expected_urls.add(url)
        record = records.get(url)
        if record is None:
            lacks("not in the index (does the template mark data-pagefind-body?)", page)
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
    extra = sorted(set(records) - expected_urls)
    if extra:
        missing["indexed but not an article (only article pages carry data-pagefind-body)"] = extra
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
    signature = b"pagefind_dcd"
    if not data.startswith(signature):
        raise ValueError(f"{path.name} is not a Pagefind file")
    return data[len(signature):]


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


def _index_url(page: Page) -> str:
    """The URL Pagefind records for a page: from the site root, without 'index.html'."""
    output = page.output
    return "/" + (output[:-len("index.html")] if output.endswith("index.html") else output)


def _expected_filters(page: Page) -> dict[str, list[str]]:
    """Filter values the article's page must carry (an empty list: none)."""
    article = page.context["article"]
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
