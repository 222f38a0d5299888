"""Search: index the new version of the site with Pagefind and check what it wrote.

Runs after render and before the output changes, so a failed index leaves
the previous ``output/`` as it was. Pagefind reads only the article pages
(the pages planned as indexed, gathered by hard links from the staging
folder and the output), and indexes what their template marks
``data-pagefind-body``. Each must carry its ``country``, ``topic`` and
``year`` filter values (as its front matter says), the ``date`` sort key and
the ``title``, ``date`` and ``summary`` meta: builder.search_check reads them back
from the index Pagefind wrote. Index files whose bytes did not change stay
as the output has them.

The Pagefind binary (from the ``pagefind-bin`` package, or the one
``PAGEFIND_BINARY_PATH`` names) runs once as a command over the whole
folder: one process for the whole site, and its exit status and messages
make a clear error. The ``pagefind`` Python API costs ~0.1 s per call and
reports a dead binary only as a lost connection.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from builder.config import SiteConfig
from builder.output import same_bytes
from builder.pages import Page
from builder.pagefind_files import make_reproducible
from builder.problems import ToolFailed
from builder.search_check import check_index
from builder.urls import SEARCH_BUNDLE

BUNDLE_FOLDER = SEARCH_BUNDLE  # the index and Pagefind's UI in the output


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
        make_reproducible(work / "bundle")
        check_index(config, indexed, work / "bundle")
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
