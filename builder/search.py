"""Search: index the new version of the site with Pagefind, in shards, and check what it wrote.

The article pages are split into **shards by date** (docs/search.md): one per year, and a
year with more than MAX_SHARD_PAGES articles split by calendar units (halves, quarters,
months, thirds of a month, days) until each part holds at most that many; the newest
article's month is a shard of its own. The boundaries are calendar dates, so an article
added or edited moves no other article to another shard: a build re-indexes only the
shards whose pages changed, and a new article usually touches only the newest month.
Each shard is its own Pagefind bundle under ``pagefind/shards/<name>/``; Pagefind's peak
memory follows the shard's size (about 0.23 MiB a page), not the archive's, and up to
``jobs`` shards are indexed at once (one Pagefind process each, about one core).

A shard is indexed again when what Pagefind reads of one of its pages changed in this
build, when its **key** changed — which pages it holds, the search settings, Pagefind's
version — or when its files are missing from the output. Render compares every page it
renders with the output (pages whose fingerprint did not change are not even rendered);
of the article pages it changed, only the part Pagefind reads is compared (index_view:
the element marked data-pagefind-body and every data-pagefind-* attribute), so a page
whose "More on this story" or "Newer" link moved keeps its shard as it is. The build state keeps every shard's key (builder.state.SearchIndexState),
'' for a shard whose pages changed in a build that did not index (serve's rebuilds).

Besides the shards the output holds Pagefind's search runtime once (``pagefind.js``
and its WebAssembly, shared by every shard in the browser) and a manifest,
``pagefind/shards.json``: the shards newest first with their date ranges and sizes, and
every filter value with its count. The search page's worker (templates/static/
search-worker.js) reads it and searches the shards as one archive.

Runs after render and before the output changes, so a failed index leaves the
previous ``output/`` as it was. Pagefind reads only the article pages (gathered by hard
links from the staging folder and the output) and indexes what their template marks
``data-pagefind-body``. Each must carry its ``country``, ``topic`` and ``year`` filter
values (as its front matter says), the ``date`` sort key and the ``title``, ``date``,
``datetime`` and ``summary`` meta: builder.search_check reads them back from every shard
Pagefind wrote. Index files whose bytes did not change stay as the output has them.

The Pagefind binary (from the ``pagefind-bin`` package, or the one
``PAGEFIND_BINARY_PATH`` names) runs as a command over a folder: its exit status and
messages make a clear error. The ``pagefind`` Python API costs ~0.1 s per call and
reports a dead binary only as a lost connection.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from builder.config import SiteConfig
from builder.helpers import sort_date
from builder.output import same_bytes
from builder.pages import Page
from builder.pagefind_files import decode_cbor, make_reproducible, unpack
from builder.problems import ToolFailed
from builder.search_check import expected_filters, index_problems, raise_problems
from builder.state import SearchIndexState
from builder.urls import SEARCH_BUNDLE

BUNDLE_FOLDER = SEARCH_BUNDLE  # the index, its manifest and Pagefind's runtime in the output
SHARDS_FOLDER = f"{BUNDLE_FOLDER}/shards"  # one Pagefind bundle per shard
MANIFEST = f"{BUNDLE_FOLDER}/shards.json"
RUNTIME_SCRIPT = f"{BUNDLE_FOLDER}/pagefind.js"
# Pagefind peaks near 0.23 MiB a page: ~600 MiB a process at most. Fewer, larger shards cost
# the browser fewer files (each shard has its own metadata, filter and word files to fetch).
MAX_SHARD_PAGES = 2500
INDEX_FORMAT = 1  # of the shard layout and the manifest; part of every shard key
SHARD_FILES = ("index/", "filter/", "fragment/", "pagefind-entry.json", "pagefind.")  # kept of a bundle
# The search worker builds on Pagefind's own per-index class; pagefind.js exports it too.
RUNTIME_EXPORT = "export{createInstance,"
RUNTIME_CLASS = "var PagefindInstance=class"


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


def pagefind_version() -> str:
    """The installed pagefind-bin's version ('' when none is installed)."""
    from importlib import metadata
    try:
        return metadata.version("pagefind-bin")
    except metadata.PackageNotFoundError:
        return ""


# -- shards -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shard:
    """A date range of article pages, indexed as one Pagefind bundle."""

    name: str  # '2025', '2025-h2', '2025-q3', '2025-07', '2025-07-b' (days 11-20), '2025-07-14'
    pages: tuple[Page, ...]  # oldest first
    first: str  # sort key (UTC, builder.helpers.sort_date) of its oldest page
    last: str  # … and of its newest

    @property
    def folder(self) -> str:
        return f"{SHARDS_FOLDER}/{self.name}"


LEVELS = 6  # year, half, quarter, month, third of a month, day
MONTH = 3


def unit_name(level: int, key: str) -> str:
    """The calendar unit of a sort key ('2025-07-14T09:00:00Z') at one level of splitting."""
    year, month, day = key[:4], key[5:7], key[8:10]
    if level == 0:
        return year
    if level == 1:
        return f"{year}-h{(int(month) - 1) // 6 + 1}"
    if level == 2:
        return f"{year}-q{(int(month) - 1) // 3 + 1}"
    if level == 3:
        return f"{year}-{month}"
    if level == 4:
        return f"{year}-{month}-{'abc'[min((int(day) - 1) // 10, 2)]}"
    return f"{year}-{month}-{day}"


def shard_of(key: str, names) -> str:
    """The shard among ``names`` whose date range holds the sort key ('' when none): the
    smallest unit first (the newest month is a shard of its own beside its year's)."""
    for level in reversed(range(LEVELS)):
        name = unit_name(level, key)
        if name in names:
            return name
    return ""


def shards_behind(state: SearchIndexState, pages) -> SearchIndexState:
    """The index state once these article pages changed without indexing (a patch in
    serve): their shards are behind. Dates never change in a patch, so neither do shards."""
    keys = state.keys()
    for page in pages:
        name = shard_of(page_sort_key(page), keys)
        keys[name or f"unplanned-{page_sort_key(page)[:10]}"] = ""  # (not seen: the next index rewrites all)
    return SearchIndexState(tuple(sorted(keys.items())))


def page_sort_key(page: Page) -> str:
    return sort_date(page.context.article.date)


def plan_shards(pages, limit: int | None = None) -> list[Shard]:
    """The indexed pages in shards of at most ``limit`` (MAX_SHARD_PAGES) pages, newest shard first.

    The newest article's month is a shard of its own, apart from the rest of its year: new
    articles land there, so adding one re-indexes a month's pages, not a year's (or half a
    year's). When a later month begins, that month goes back into its year's shard.
    """
    limit = limit or MAX_SHARD_PAGES
    items = sorted((page_sort_key(page), page.output, index) for index, page in enumerate(pages) if page.indexed)
    newest_month = unit_name(MONTH, items[-1][0]) if items else ""
    start = len(items)
    while start and unit_name(MONTH, items[start - 1][0]) == newest_month:
        start -= 1
    items, newest = items[:start], items[start:]
    shards: list[Shard] = []

    def split(level: int, group: list) -> None:
        if len(group) <= limit or level == LEVELS - 1:  # a single day is never split
            shards.append(Shard(unit_name(level, group[0][0]), tuple(pages[i] for _, _, i in group),
                                group[0][0], group[-1][0]))
            return
        for _, part in itertools.groupby(group, key=lambda item: unit_name(level + 1, item[0])):
            split(level + 1, list(part))

    for _, year in itertools.groupby(items, key=lambda item: unit_name(0, item[0])):
        split(0, list(year))
    if newest:
        split(MONTH, newest)
    return shards[::-1]


def shard_key(config: SiteConfig, shard: Shard) -> str:
    """What the shard's index is made from besides its pages' bytes: which pages, the
    search settings and Pagefind's version."""
    digest = hashlib.sha256(repr((INDEX_FORMAT, shard.name, pagefind_version(), config.search,
                                  config.search_language, config.base_path)).encode())
    for page in shard.pages:
        digest.update(f"{page.output}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class IndexPlan:
    """What the search step has to do in this build."""

    shards: tuple[Shard, ...]  # newest first
    keys: dict[str, str] = field(hash=False)  # shard name → key ('' when unknown: index it)
    stale: tuple[str, ...]  # shards to index (newest first)
    work: bool  # anything to change in the output's index (shards to index, to remove, the manifest)


def plan_index(config: SiteConfig, pages, changed: set[str] | None, known: dict[str, str],
               output: Path | None, existing, staged: Path | None = None) -> IndexPlan:
    """Which shards to index: those with a page whose indexed part this build changed (its
    new bytes in ``staged``, the old ones in ``output``), those whose key is not the one
    the output's shard was made with, and those whose files the output lacks. ``changed``
    None (check): every shard."""
    shards = tuple(plan_shards(pages))
    keys = {s.name: shard_key(config, s) for s in shards}

    def moved(page: Page) -> bool:
        if page.output not in changed:
            return False
        if staged is None or output is None:
            return True
        try:
            return index_view((staged / page.output).read_bytes()) != index_view((output / page.output).read_bytes())
        except OSError:  # a new page (no old version)
            return True

    stale = [s.name for s in shards if changed is None or known.get(s.name) != keys[s.name]
             or any(moved(page) for page in s.pages) or not _complete(output, s.folder, existing)]
    runtime = {MANIFEST, RUNTIME_SCRIPT}
    if shards and not stale and not runtime <= set(existing):
        stale = [shards[0].name]  # the runtime comes with any Pagefind run: the smallest useful one
    work = bool(stale) or set(keys) != set(known) or any(
        f.startswith(BUNDLE_FOLDER + "/") and not f.startswith(SHARDS_FOLDER + "/") and f not in runtime
        and not _is_runtime(f[len(BUNDLE_FOLDER) + 1:]) for f in existing)
    return IndexPlan(shards, keys, tuple(stale), work)


BODY_ATTRIBUTE = re.compile(rb"<([A-Za-z][\w-]*)\b[^>]*\bdata-pagefind-body\b")
PAGEFIND_TAG = re.compile(rb"<[A-Za-z][^>]*\bdata-pagefind-[^>]*>[^<]*")


def index_view(html: bytes) -> bytes:
    """What Pagefind reads of a page, for comparing two versions: every element marked
    data-pagefind-body (its whole source) and, elsewhere, every tag with a data-pagefind-*
    attribute and the text right after it. A page without a marked body: all of it."""
    parts, rest, at = [], [], 0
    for start in BODY_ATTRIBUTE.finditer(html):
        if start.start() < at:
            continue
        end = _element_end(html, start.group(1), start.start())
        rest.append(html[at:start.start()])
        parts.append(html[start.start():end])
        at = end
    if not parts:
        return html
    rest.append(html[at:])
    return b"\0".join(parts) + b"\0\0" + b"\0".join(PAGEFIND_TAG.findall(b"".join(rest)))


def _element_end(html: bytes, tag: bytes, start: int) -> int:
    """Where the element opened at ``start`` ends (after its matching close tag)."""
    pattern = re.compile(rb"<(/?)" + re.escape(tag) + rb"\b[^>]*>", re.IGNORECASE)
    depth = 0
    for match in pattern.finditer(html, start):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    return len(html)


def _complete(output: Path | None, folder: str, existing) -> bool:
    """The output holds the shard's bundle whole: its entry, metadata, and every chunk,
    filter and fragment the metadata names."""
    if output is None or f"{folder}/pagefind-entry.json" not in existing:
        return False
    try:
        needed = bundle_files(output / folder)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return False
    return all(f"{folder}/{name}" in existing for name in needed)


def bundle_files(bundle: Path) -> set[str]:
    """Every file a Pagefind bundle's entry and metadata name (relative to the bundle)."""
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    names = {"pagefind-entry.json"}
    for language in entry["languages"].values():
        meta_name = f"pagefind.{language['hash']}.pf_meta"
        names.add(meta_name)
        meta = decode_cbor(unpack(bundle / meta_name))
        names.update(f"fragment/{page_hash}.pf_fragment" for page_hash, _words in meta[1])
        names.update(f"index/{chunk[2]}.pf_index" for chunk in meta[2])
        names.update(f"filter/{filter_hash}.pf_filter" for _name, filter_hash in meta[3])
    return names


# -- the step -----------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexChange:
    """What the search step changes in the output folder."""

    changed: list[str]  # index files staged with new bytes (paths relative to the output folder)
    removed: list[str]  # index files of the current output that the new index no longer has
    unchanged: int  # index files the output already holds as they are
    indexed: tuple[str, ...] = ()  # the shards Pagefind indexed in this build


def drop_index(existing) -> IndexChange:
    """No search in this build: the current output's index goes."""
    return IndexChange(changed=[], removed=sorted(f for f in existing if f.startswith(BUNDLE_FOLDER + "/")),
                       unchanged=0)


def keep_index(existing) -> IndexChange:
    """The current output's index stays as it is."""
    return IndexChange(changed=[], removed=[],
                       unchanged=sum(1 for f in existing if f.startswith(BUNDLE_FOLDER + "/")))


def index_site(config: SiteConfig, plan: IndexPlan, staging, existing, jobs: int = 1) -> IndexChange:
    """Index the stale shards (up to ``jobs`` Pagefind processes at once), check them,
    write the manifest, and stage every index file whose bytes changed.

    ``staging`` holds the pages this build changed, ``staging.output`` the others;
    ``existing`` lists the current output's files.
    """
    if not plan.shards:
        # Pagefind cannot build an empty index (and without a marked body it would index every page).
        return drop_index(existing)
    work = staging.folder.with_name(staging.folder.name + "-search")
    shutil.rmtree(work, ignore_errors=True)
    by_name = {shard.name: shard for shard in plan.shards}
    stale = [by_name[name] for name in plan.stale]
    try:
        binary = _binary()

        def index_one(shard: Shard) -> dict:
            folder = work / shard.name
            _gather_pages(shard.pages, staging, folder / "site")
            _run_pagefind(binary, config, folder / "site", folder / "bundle")
            shutil.rmtree(folder / "site", ignore_errors=True)
            make_reproducible(folder / "bundle")
            return index_problems(config, shard.pages[::-1], folder / "bundle")

        with ThreadPoolExecutor(max(1, min(jobs, len(stale)))) as pool:
            found = list(pool.map(index_one, stale))
        problems: dict[str, list[str]] = {}
        for missing in found:  # newest shard first, each newest page first
            for what, urls in missing.items():
                problems.setdefault(what, []).extend(urls)
        raise_problems(config, problems)
        return _stage(config, plan, stale, work, staging, existing)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _binary() -> Path:
    binary = pagefind_binary()
    if not binary.is_file():
        raise ToolFailed(f"Pagefind not found at {binary} (PAGEFIND_BINARY_PATH or pagefind-bin)")
    return binary


def _gather_pages(pages, staging, site: Path) -> None:
    """One folder with the new version of every page of a shard, for Pagefind to read:
    hard links to the staged file when the page changed, else to the output's."""
    for page in pages:
        source = staging.folder / page.output
        if not source.exists():
            source = staging.output / page.output
        target = site / page.output
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:  # no hard links on this filesystem
            shutil.copyfile(source, target)


def _is_runtime(name: str) -> bool:
    """Pagefind's files that the search page needs once, whatever the shard: its JS API
    and the WebAssembly it loads (one per language)."""
    return name == "pagefind.js" or (name.startswith("wasm.") and name.endswith(".pagefind"))


def _is_index_file(name: str) -> bool:
    return name.startswith(SHARD_FILES[:3]) or name == "pagefind-entry.json" or (
        name.startswith("pagefind.") and name.endswith(".pf_meta"))


def runtime_script(data: bytes) -> bytes:
    """Pagefind's pagefind.js, exporting also the class that searches one bundle: the
    search worker makes one per shard over a single WebAssembly module (Pagefind's own
    API makes each index load its own, or merges results with wrong date order)."""
    text = data.decode("utf-8")
    if RUNTIME_CLASS not in text or text.count(RUNTIME_EXPORT) != 1:
        raise ToolFailed(f"Pagefind {pagefind_version() or '(unknown version)'} wrote a pagefind.js without "
                         "the PagefindInstance class the search page builds on (Pagefind 1.5 has it)")
    return text.replace(RUNTIME_EXPORT, "export{PagefindInstance,createInstance,").encode("utf-8")


def _stage(config: SiteConfig, plan: IndexPlan, stale: list[Shard], work: Path, staging, existing) -> IndexChange:
    changed: list[str] = []
    kept: set[str] = set()

    def stage_bytes(relative: str, data: bytes) -> None:
        kept.add(relative)
        if staging.write(relative, data):
            changed.append(relative)

    def stage_file(relative: str, path: Path) -> None:
        """Move a file Pagefind wrote into the staging folder when its bytes changed (no
        copy: a large archive's index is thousands of files)."""
        kept.add(relative)
        if relative in existing and same_bytes(staging.output / relative, path.read_bytes()):
            return
        target = staging.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        changed.append(relative)

    tags, wasm = {}, set()
    for shard in stale:
        bundle = work / shard.name / "bundle"
        tags[shard.name], language_wasm = _entry_tag(bundle)
        wasm.add(language_wasm)
        for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
            name = path.relative_to(bundle).as_posix()
            if _is_index_file(name):
                stage_file(f"{shard.folder}/{name}", path)
    runtime = work / stale[0].name / "bundle" if stale else None
    if runtime is not None:
        for path in sorted(p for p in runtime.iterdir() if p.is_file() and _is_runtime(p.name)):
            data = path.read_bytes()
            if path.name == "pagefind.js":
                data = runtime_script(data)
                script = data
            stage_bytes(f"{BUNDLE_FOLDER}/{path.name}", data)
    else:
        kept.update(f for f in existing if f.startswith(BUNDLE_FOLDER + "/") and _is_runtime(f.split("/", 1)[1]))
        script = (staging.output / RUNTIME_SCRIPT).read_bytes()
    stale_names = {shard.name for shard in stale}
    by_shard: dict[str, list[str]] = {}  # the output's index files by shard (one pass, not one a shard)
    for name in existing:
        if name.startswith(SHARDS_FOLDER + "/"):
            by_shard.setdefault(name[len(SHARDS_FOLDER) + 1:].split("/", 1)[0], []).append(name)
    for shard in plan.shards:
        if shard.name not in stale_names:  # carried over as the output has it
            kept.update(by_shard.get(shard.name, ()))
            tags[shard.name], language_wasm = _entry_tag(staging.output / shard.folder)
            wasm.add(language_wasm)
    if len(wasm) != 1:
        raise ToolFailed(f"Pagefind's shards need different WebAssembly modules ({', '.join(sorted(wasm))})")
    stage_bytes(MANIFEST, manifest(config, plan.shards, tags, hashlib.sha256(script).hexdigest()[:12], wasm.pop()))
    removed = sorted(f for f in existing if f.startswith(BUNDLE_FOLDER + "/") and f not in kept)
    return IndexChange(changed=sorted(changed), removed=removed, unchanged=len(kept) - len(changed),
                       indexed=tuple(shard.name for shard in stale))


def _entry_tag(bundle: Path) -> tuple[dict, str]:
    """A bundle's entry file (what Pagefind's JS reads first; the manifest carries it, so the
    browser need not fetch one per shard), and the name of the WebAssembly module it needs."""
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        languages = [language for _, language in sorted(entry["languages"].items())]
        return entry, languages[0]["wasm"]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise ToolFailed(f"Pagefind wrote no readable index in {bundle.name} ({type(error).__name__}: {error})") \
            from error


def manifest(config: SiteConfig, shards, entries_by_name: dict[str, dict], runtime: str, wasm: str) -> bytes:
    """pagefind/shards.json: what the search page reads first (the same input, the same bytes).

    Per shard, newest first: its folder, size, date range and Pagefind's entry (the
    metadata file's hash per language); for the archive: every filter value's count."""
    filters: dict[str, dict[str, int]] = {}
    entries = []
    include = sorted({c for e in entries_by_name.values() for c in e.get("include_characters", [])})
    for shard in shards:
        for page in shard.pages:
            for name, values in expected_filters(page).items():
                counts = filters.setdefault(name, {})
                for value in values:
                    counts[value] = counts.get(value, 0) + 1
        entry = entries_by_name[shard.name]
        entries.append({"name": shard.name, "path": f"shards/{shard.name}/", "pages": len(shard.pages),
                        "first": shard.first, "last": shard.last, "version": entry.get("version", ""),
                        "languages": entry["languages"]})
    data = {"format": INDEX_FORMAT, "pagefind": pagefind_version(), "runtime": runtime, "wasm": wasm,
            "language": config.search_language, "include_characters": include,
            "pages": sum(len(shard.pages) for shard in shards), "shards": entries,
            "filters": {name: dict(sorted(counts.items())) for name, counts in sorted(filters.items())}}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode("utf-8")


def _run_pagefind(binary: Path, config: SiteConfig, site: Path, bundle: Path) -> None:
    command = [str(binary), "--site", str(site), "--output-path", str(bundle),
               "--force-language", config.search_language, "--quiet"]
    for selector in config.search.exclude_selectors:
        command += ["--exclude-selectors", selector]
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

