"""Keep the code that dataclasses generate, so a command does not compile it again.

``@dataclass`` writes the source of ``__init__``, ``__eq__``, ``__repr__``,
``__hash__`` and, for frozen classes, ``__setattr__`` and ``__delattr__``, and
compiles it with ``exec``. Python caches a module's bytecode in ``__pycache__``
but not this: on this machine kind, creating the builder's ~100 classes (and
markdown-it-py's) compiled ~600 small functions, 100–130 ms of every command
that renders and ~45 ms of a build with nothing to do (docs/benchmarks.md).

``install`` gives the dataclasses module an ``exec`` that looks the source text up
in a table of code objects kept beside the package's bytecode, compiled once by
the same Python. The text is the whole key, so a changed class compiles again;
the compiled code is what ``exec`` would have compiled, run with the same globals
and locals, so the classes are the same. The table is written as ``.pyc`` files
are: atomically, not when ``sys.dont_write_bytecode`` is set, and silently not
when the folder is read-only; one that cannot be read is compiled again.
"""

import atexit
import builtins
import dataclasses
import marshal
import os
import sys
from importlib._bootstrap_external import MAGIC_NUMBER  # already loaded: what .pyc files are stamped with

MAX_ENTRIES = 5000  # texts of older versions pile up in a checkout; past this the table starts again

_codes: dict[str, object] = {}
_compiled = 0  # texts compiled by this process (the tests read it)
_installed_by = 0  # the process that installed the table and may write it (not a forked worker)


def pycache_folder() -> str:
    """Where Python keeps the package's bytecode: its ``__pycache__``, or under ``sys.pycache_prefix``."""
    package = os.path.dirname(os.path.abspath(__file__))
    if sys.pycache_prefix:
        return os.path.join(sys.pycache_prefix, os.path.splitdrive(package)[1].lstrip(os.sep))
    return os.path.join(package, "__pycache__")


def table_path() -> str:
    """Where the table lives (beside the package's bytecode)."""
    return os.path.join(pycache_folder(), f"dataclasses.{sys.implementation.cache_tag}.marshal")


def _exec(source, globals=None, locals=None, /):
    global _compiled
    if isinstance(source, str):
        code = _codes.get(source)
        if code is None:
            # dont_inherit: compiled as exec compiles a string in dataclasses, without this module's flags
            code = _codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
            _compiled += 1
        source = code
    return builtins.exec(source, globals, locals)


def _load(path: str) -> dict:
    try:
        with open(path, "rb") as file:
            data = file.read()
        if data[:len(MAGIC_NUMBER)] != MAGIC_NUMBER:
            return {}
        table = marshal.loads(data[len(MAGIC_NUMBER):])
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return table if isinstance(table, dict) else {}


def save() -> None:
    """Write the table now if this process compiled code it lacked (for a command that ends
    with ``os._exit``, which runs no atexit handler)."""
    _save(table_path(), _installed_by)


def _save(path: str, pid: int) -> None:
    global _compiled
    if not _compiled or sys.dont_write_bytecode or os.getpid() != pid or len(_codes) > MAX_ENTRIES:
        return
    partial = f"{path}.{pid}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "wb") as file:
            file.write(MAGIC_NUMBER + marshal.dumps(_codes))
        os.replace(partial, path)
        _compiled = 0  # written: nothing for atexit to add
    except OSError:
        try:
            os.unlink(partial)
        except OSError:
            pass


def install() -> None:
    """Route dataclasses' ``exec`` through the table; write the table at exit when it grew."""
    if dataclasses.__dict__.get("exec") is _exec:
        return
    path = table_path()
    table = _load(path)
    _codes.update(table if len(table) <= MAX_ENTRIES else {})
    global _installed_by
    _installed_by = os.getpid()
    dataclasses.exec = _exec  # a module global shadows the builtin for dataclasses' own calls
    atexit.register(_save, path, _installed_by)
