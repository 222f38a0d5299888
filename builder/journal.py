"""Journal: how a build killed while it changed ``output/`` is finished by the next command.

Moving thousands of files into ``output/`` one rename at a time cannot be one
atomic step, and a SIGKILL, an out-of-memory kill or a power cut can stop a build
between two renames. So before its first rename a build writes a journal beside
the output (``.output.journal``) naming its staging and backup folders and every
planned move: the changed files (staged in full before the journal is written)
and the removed ones. The journal is written to a temporary file, flushed to disk
and renamed into place, so it exists completely or not at all. It is deleted when
the transaction ends (applied, or rolled back after an error), and only then are
the staging and backup folders.

A change of one file and no removals (the usual body edit) needs no journal: the old
version is linked into the backup folder and the new one renamed over it, one atomic
step (``builder.output.Change._apply_one``).

``recover`` runs at the start of every command that uses the output (build, check,
serve and deploy, through ``builder.build.build``; and before any staging folder is
made). A journal whose build is no longer running means that build was stopped
while it moved files, and recovery rolls it **forward**: every planned file still
in the staging folder is moved into place, every planned removal is done, then
the journal is deleted, then the dead build's folders. Forward, never back, because:

- the new files are complete: everything is staged before the journal exists;
- the cache a build saves describes the new output, and is saved only after the
  moves: rolling forward leaves the output as new as the cache or newer (the next
  build compares bytes and rewrites nothing), while rolling back could leave a
  cache that believes pages are in place that are not;
- each step is "move it if it is still in the staging folder" or "delete it if it
  is still there", so a recovery that is itself killed is simply run again.

The in-process rollback after an error (see ``builder.output``) moves new files
back into the staging folder instead of deleting them, so a kill during a rollback
is recovered forward the same way. Folders of stopped builds that left no journal
(``.output.staging-<pid>``, ``-backup``, ``-search``, a half-written journal) are
deleted when their process is gone.

So at any instant ``output/`` is the complete old site, the complete new site, or
a mix that the next command completes into the new site before it does anything
else. (A power cut also needs the staged files on disk; the journal is flushed,
the staged pages are left to the filesystem's ordering of writes and renames.)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

from builder.problems import BuildFailed, Problem, UsageError

FORMAT = 1
active_journals: set[str] = set()  # journals of transactions running in this process
staging_in_use: set[str] = set()  # names of the staging folders this process is using


def journal_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.journal")


def write(output: Path, staging: str, backup: str, changed: list[str], removed: list[str]) -> Path:
    """Write the journal of one set of moves into ``output`` beside it, atomically; return its path."""
    path = journal_path(output)
    plan = {"format": FORMAT, "pid": os.getpid(), "started": process_start(os.getpid()),
            "staging": staging, "backup": backup, "changed": changed, "removed": removed}
    temporary = path.with_name(f"{path.name}-{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(json.dumps(plan, separators=(",", ":")).encode())
            handle.flush()
            os.fsync(handle.fileno())  # the journal must be whole on disk before a file moves
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)
    active_journals.add(str(path))
    return path


def delete(path: Path) -> bool:
    """Delete a journal (the moves it lists are done or undone); False if it could not be."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    finally:
        active_journals.discard(str(path))
    return True


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename that made the journal) where the system allows it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def read(path: Path) -> dict | None:
    """The plan a journal holds; None when there is none. A damaged journal is a problem:
    without its list of moves nothing can say what the output should hold."""
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        plan = json.loads(raw)
        valid = _valid(plan)
    except (ValueError, TypeError, AttributeError):
        valid = False
    if not valid:
        raise BuildFailed([Problem(str(path), 0, "damaged journal of a build that was stopped while it "
                                                 "wrote the output folder: delete the output folder and "
                                                 "this file, then build again")])
    return plan


def _valid(plan) -> bool:
    def folder(name) -> bool:
        return isinstance(name, str) and name.startswith(".") and "/" not in name and name not in (".", "..")

    def relative(name) -> bool:  # a journal never moves anything outside the output
        return isinstance(name, str) and bool(name) and not name.startswith("/") \
            and ".." not in name.split("/")

    return (plan.get("format") == FORMAT and isinstance(plan.get("pid"), int)
            and isinstance(plan.get("started"), str) and folder(plan.get("staging"))
            and folder(plan.get("backup")) and isinstance(plan.get("changed"), list)
            and isinstance(plan.get("removed"), list)
            and all(map(relative, plan["changed"])) and all(map(relative, plan["removed"])))


# -- Which builds are still running ------------------------------------------------------------

def process_start(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc), '' where unknown.

    With the pid it tells a build from a later process that was given the same pid."""
    stat = _proc_stat(pid)
    return stat[1] if stat else ""


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc/<pid>/stat; None without /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()  # the name in (…) may hold spaces
        return fields[0].decode(), fields[19].decode()
    except (OSError, IndexError):
        return None


def running(pid: int, started: str = "") -> bool:
    """True while process ``pid`` (started at ``started``, when known) exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc to ask: kill() found it
    state, start = stat
    return state != "Z" and (not started or start == started)


# -- Recovery ----------------------------------------------------------------------------------

def recover(output: Path) -> list[str]:
    """Finish a build that was stopped while it changed ``output`` (from its journal), and delete
    the folders stopped builds left beside it; return notes for the user (empty: nothing to do).

    Idempotent: a recovery that is itself stopped is completed by the next one."""
    output = Path(output)
    notes = []
    path = journal_path(output)
    plan = read(path)
    if plan is not None and str(path) not in active_journals:
        if plan["pid"] != os.getpid() and running(plan["pid"], plan["started"]):
            raise UsageError(f"another build (process {plan['pid']}) is writing {output} right now; "
                             "run this command again when it has finished")
        moved = roll_forward(output, plan)
        with contextlib.suppress(FileNotFoundError):  # gone: another recovery finished first
            os.unlink(path)
        for name in (plan["backup"], plan["staging"]):
            shutil.rmtree(output.with_name(name), ignore_errors=True)
        notes.append(f"finished the build that was stopped while it wrote {output} "
                     f"({_files(moved)} moved into place, {_files(len(plan['removed']))} removed)")
    swept = sweep(output)
    if swept:
        notes.append(f"deleted {swept} folder{'s' if swept != 1 else ''} or file{'s' if swept != 1 else ''} "
                     f"that stopped builds left beside {output}")
    return notes


def _files(count: int) -> str:
    return f"{count:,} file{'s' if count != 1 else ''}"


def roll_forward(output: Path, plan: dict) -> int:
    """Do what is left of the plan's moves; return how many files were moved into place."""
    root = str(output)
    staging = str(output.with_name(plan["staging"]))
    relative = ""
    moved = 0
    try:
        for relative in plan["changed"]:
            moved += finish_move(os.path.join(staging, relative), os.path.join(root, relative))
        for relative in plan["removed"]:
            remove_file(root, relative)
    except OSError as error:
        raise naming(error, os.path.join(root, relative)) from error
    return moved


def finish_move(source: str, target: str) -> bool:
    """Move ``source`` over ``target`` unless it was moved already; True if it moved now."""
    try:
        os.replace(source, target)
    except FileNotFoundError:
        if not os.path.lexists(source):
            return False  # moved before the build was stopped
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)
    return True


def remove_file(root: str, relative: str) -> None:
    """Delete ``root/relative`` if it is still there, and the folders that leaves empty."""
    path = os.path.join(root, relative)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    remove_empty_parents(Path(path).parent, Path(root))


def remove_empty_parents(folder: Path, stop: Path) -> None:
    """Delete ``folder`` and its parents up to ``stop`` while they are empty. A missing one is
    passed over: a build stopped between two of these deletions left its parents to do."""
    while folder != stop and stop in folder.parents:
        if folder.is_dir():
            if any(folder.iterdir()):
                return
            folder.rmdir()
        folder = folder.parent


def naming(error: OSError, path: str | Path) -> OSError:
    """``error`` naming ``path`` (the file or folder of the output the user knows) instead of
    the staging or backup copy a rename also involved; the CLI prints it in one line."""
    if error.filename == str(path):
        return error
    return type(error)(error.errno, error.strerror or str(error), str(path))


# -- Folders left by stopped builds ------------------------------------------------------------

def sweep(output: Path) -> int:
    """Delete the staging, backup and search folders and half-written journals of builds of
    ``output`` whose process is gone; return how many were deleted."""
    pattern = re.compile(rf"\.{re.escape(output.name)}\.(?:(staging-(\d+))(?:-backup|-search)?"
                         rf"|journal-(\d+)\.tmp)")
    try:
        with os.scandir(output.parent) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError:
        return 0
    deleted = 0
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        staging = f".{output.name}.{match[1]}" if match[1] else None
        if _in_use(staging, int(match[2] or match[3])):
            continue
        path = output.with_name(name)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
        deleted += not os.path.lexists(path)
    return deleted


def _in_use(staging: str | None, pid: int) -> bool:
    """Whether a leftover (of the staging folder ``staging``; None: a half-written journal)
    may belong to a build still running: another live process's, or one of ours."""
    if pid == os.getpid():  # a container may give every build the same pid: ours only if in use
        return staging in staging_in_use
    return running(pid)
