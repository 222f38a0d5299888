"""Keep the default theme's compiled templates, and what the templates read, beside the
package's bytecode, so that a build without a cache does not compile and analyse them again.

A site's cache keeps its compiled templates and the analysis of its templates
(builder.templates), but a build with ``--no-cache``, a first build and every new
site start from nothing: compiling and checking the theme's 34 templates and
finding which of them read the archive or show bodies took 0.2–0.3 s of each
such build (docs/benchmarks.md). Like the package's ``.pyc`` files, this is code
the install compiles once:

- the theme's compiled templates, as Jinja's bytecode files (each stamped with
  Jinja's and Python's versions and checked against its source's checksum
  before use);
- the analysis (TemplateFacts) by the fingerprint of the templates it was made
  from, site templates included, only when every one of them compiled.

Both live in the package's ``__pycache__`` (or under ``sys.pycache_prefix``), in a
folder named by the code's fingerprint: the settings Jinja compiles with and the
checks are the code's. They are written as ``.pyc`` files are: atomically, not when
``sys.dont_write_bytecode`` is set, and silently not when the folder is read-only;
a file that cannot be read is made again. Nothing here changes a page's bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import jinja2

from builder.classcode import pycache_folder
from builder.code import code_fingerprint
from builder.state import TemplateFacts

KEEP_FOLDERS = 3  # other code's folders kept (two environments sharing a checkout must not undo each other)
MAX_FACTS = 32  # analyses of other template sets (a site's edits) kept beside the theme's
FACTS_FILE = "template-facts.json"


def folder() -> Path:
    """This code's folder: ``theme-<code fingerprint>.<python tag>`` in the package's pycache."""
    return Path(pycache_folder()) / f"theme-{code_fingerprint()[:12]}.{sys.implementation.cache_tag}"


def writable() -> bool:
    return not sys.dont_write_bytecode


class Bytecode(jinja2.FileSystemBytecodeCache):
    """Jinja's bytecode files in a folder made when first written; a damaged file is compiled
    again and a folder that cannot be written is left alone: never an error."""

    def __init__(self, directory: Path, start=None) -> None:
        super().__init__(str(directory))
        self.start = start or (lambda path: path.mkdir(parents=True, exist_ok=True))

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged file (a truncated pickle, marshal, …) is compiled again
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            if not os.path.isdir(self.directory):
                self.start(Path(self.directory))
            super().dump_bytecode(bucket)
        except OSError:
            pass  # compiled again by the next build, as without a cache


class ThemeBytecode(Bytecode):
    """The default theme's compiled templates, in :func:`folder`."""

    def __init__(self) -> None:
        super().__init__(folder(), _start_folder)

    def dump_bytecode(self, bucket) -> None:
        if writable():
            super().dump_bytecode(bucket)


def known_facts(fingerprint: str) -> TemplateFacts | None:
    """The analysis of the templates with this fingerprint, if an earlier build made it."""
    entry = _read_facts().get(fingerprint)
    names = [entry.get(key) for key in ("archive", "body_html")] if isinstance(entry, dict) else []
    if len(names) != 2 or not all(isinstance(found, list) and all(isinstance(n, str) for n in found)
                                  for found in names):
        return None  # missing, or not what keep_facts writes: analysed again
    return TemplateFacts(fingerprint, frozenset(names[0]), frozenset(names[1]))


def keep_facts(facts: TemplateFacts) -> None:
    """Keep ``facts`` for the next build (the newest MAX_FACTS template sets)."""
    if not writable():
        return
    table = {key: value for key, value in _read_facts().items() if key != facts.fingerprint}
    table[facts.fingerprint] = {"archive": sorted(facts.archive_templates), "body_html": sorted(facts.body_templates)}
    table = dict(list(table.items())[-MAX_FACTS:])
    path = folder() / FACTS_FILE
    partial = path.with_name(f"{FACTS_FILE}.{os.getpid()}.tmp")
    try:
        if not path.parent.is_dir():
            _start_folder(path.parent)
        partial.write_text(json.dumps(table, sort_keys=False), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        try:
            partial.unlink()
        except OSError:
            pass


def _read_facts() -> dict:
    try:
        table = json.loads((folder() / FACTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def _start_folder(path: Path) -> None:
    """Make this code's folder; of the ones other code left (a checkout's earlier edits, another
    environment's library versions), keep the newest few."""
    path.mkdir(parents=True, exist_ok=True)
    others = sorted((other for other in path.parent.glob(f"theme-*.{sys.implementation.cache_tag}") if other != path),
                    key=_age)
    for other in others[:-KEEP_FOLDERS or None]:
        shutil.rmtree(other, ignore_errors=True)


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
