"""Output: write only what changed, and only once everything succeeded.

Pages are rendered into a staging folder beside ``output/`` — only the
files whose bytes differ from what ``output/`` holds. Nothing in
``output/`` changes until the whole build (and the search index) has
succeeded; then each changed file is moved into place with a rename, and
files no page produces any more are removed. Every replaced or removed
file is first moved to a backup folder, so a failure while applying rolls
``output/`` back to exactly what it was. Unchanged files are never
rewritten: their modification times stay, and a deploy moves only what changed.

A build killed while it moves files (SIGKILL, a power cut) cannot roll back: a
journal written before the first move lets the next command finish it instead
(rolled forward to the complete new site, see builder.journal), before it does
anything else. An OSError (disk full, read-only, permissions) names the output
file or folder involved, never a staging or backup copy: the command line
prints it as one line and exits with code 3.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from builder import journal
from builder.problems import BuildFailed, Problem

MARKER = ".builder-output"  # marks a folder this tool made, so it may change it


def scan(folder: Path) -> tuple[set[str], dict[str, int]]:
    """Every file under ``folder`` as a relative POSIX path, and every folder's mtime_ns.

    The folder times let a later build see that nothing was added, removed or
    renamed in the output (see unchanged) without listing 13,000 files again.
    """
    found: set[str] = set()
    folders: dict[str, int] = {}

    def walk(path: str, prefix: str) -> None:
        folders[prefix] = os.stat(path).st_mtime_ns
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, prefix + entry.name + "/")
                else:
                    found.add(prefix + entry.name)

    if folder.is_dir():
        walk(str(folder), "")
    return found, folders


def snapshot(folder: Path, files: set[str], before: dict[str, int], moved: list[str]) -> dict[str, int]:
    """The folder times ``scan`` would give for an output known to hold exactly ``files``
    (after a build applied its changes: reading folder times, not listing 24,000 files).

    ``before``: the folder times when the build started, and ``moved``: the files it
    added, replaced or removed since. Only the folders on their paths (a rename changes
    its folder's time, a new or removed folder its parent's) and new folders are read
    again: an addition reads a few dozen of 14,000. A time kept wrongly could only make
    the next build list the output again (builder.incremental), never miss a change.
    """
    root, stale = str(folder) + "/", _folders_of(moved)
    return {relative: before[relative] if relative in before and relative not in stale
            else os.stat(root + relative).st_mtime_ns for relative in _folders_of(files)}


def _folders_of(files) -> set[str]:
    """Every folder holding one of ``files``, with its parents ('' is the output itself)."""
    folders = {""}
    for name in files:
        parent = name.rpartition("/")[0]
        while parent and parent + "/" not in folders:  # its parents are in too, once it is
            folders.add(parent + "/")
            parent = parent.rpartition("/")[0]
    return folders


def unchanged(folder: Path, folders: dict[str, int] | None) -> bool:
    """True when every folder ``scan`` saw is still there with the same mtime: no file or
    folder was added, removed or renamed in any of them since."""
    if not folders:
        return False
    root = str(folder) + "/"
    try:
        return all(os.stat(root + relative).st_mtime_ns == mtime for relative, mtime in folders.items())
    except OSError:
        return False


def touched(folder: Path, folders: dict[str, int], changed: list[str]) -> dict[str, int]:
    """``folders`` with the times of the folders holding ``changed`` files read again (after
    files were replaced in them: each rename changes its folder's time)."""
    folders = dict(folders)
    for relative in {name.rpartition("/")[0] + "/" if "/" in name else "" for name in changed}:
        folders[relative] = os.stat(os.path.join(folder, relative)).st_mtime_ns
    return folders


def same_bytes(path: str | Path, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


@dataclass
class Staging:
    """The next version of the changed files, beside the output folder."""

    output: Path
    folder: Path

    def __post_init__(self) -> None:
        # Plain strings and a set of made folders: this runs once per page.
        self._output = str(self.output)
        self._folder = str(self.folder)
        self._compare = self.output.is_dir()  # a first build has nothing to compare with
        self._made: set[str] = set()
        journal.staging_in_use.add(self.folder.name)

    def write(self, relative: str, data: bytes) -> bool:
        """Stage ``data`` for ``relative``; False (nothing staged) when output has these bytes."""
        if self._compare and same_bytes(os.path.join(self._output, relative), data):
            return False
        target = os.path.join(self._folder, relative)
        try:
            self._make_parent(os.path.dirname(target))
            with open(target, "wb") as handle:
                handle.write(data)
        except OSError as error:  # disk full, read-only…: name the page, not its staged copy
            raise journal.naming(error, os.path.join(self._output, relative)) from error
        return True

    def _make_parent(self, parent: str) -> None:
        if parent in self._made:
            return
        try:  # one system call in the common case (the parent folder exists)
            os.mkdir(parent)
        except FileExistsError:
            pass
        except FileNotFoundError:
            # Never make the staging folder itself again: once it is gone (recovery deleted
            # a killed build's), a worker the build left behind must fail, not leave a copy.
            if not os.path.isdir(self._folder):
                raise
            os.makedirs(parent, exist_ok=True)
        self._made.add(parent)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        journal.staging_in_use.discard(self.folder.name)


def start_staging(output: Path) -> Staging:
    """A fresh staging folder beside ``output`` (same filesystem: renames are cheap and atomic),
    after finishing what a stopped build left (see builder.journal)."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where the output's folder should be
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(output.parent)) from None
    except OSError as error:
        raise journal.naming(error, output) from error
    try:
        recover(output)
        folder = output.with_name(f".{output.name}.staging-{os.getpid()}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    except OSError as error:  # a read-only or full disk: name the output folder, not ours
        raise journal.naming(error, output) from error
    return Staging(output=output, folder=folder)


def recover(output: Path) -> list[str]:
    """Finish a build that was stopped while it wrote ``output`` and delete what stopped builds
    left beside it (builder.journal); return notes for the user. Every command that uses the
    output calls this first."""
    return journal.recover(output)


@dataclass
class Change:
    """Applies staged files and removals to the output folder, undoably (builder.journal
    makes it crash-safe: a build stopped half-way is finished by the next command)."""

    staging: Staging
    changed: list[str]  # staged relative paths
    removed: list[str]  # output files to delete
    applied: list[tuple[str, str]] = field(default_factory=list)  # (relative, 'new'|'replaced'|'removed'|'linked')
    journal: Path | None = None  # written before the first move, deleted by finish()
    whole: bool = False  # the staging folder became the output in one rename (a first build)
    was_folder: bool = False  # (then) whether an empty output folder was there before

    @property
    def backup(self) -> Path:
        return self.staging.folder.with_name(self.staging.folder.name + "-backup")

    def apply(self) -> None:
        output = self.staging.output
        if not output.exists() or not any(output.iterdir()):
            self._apply_whole()
            return
        try:
            if not (output / MARKER).exists():
                (output / MARKER).write_text("made by python -m builder; safe to delete\n")
            if not self.changed and not self.removed:
                return  # nothing moves: no journal to flush to disk
            shutil.rmtree(self.backup, ignore_errors=True)  # an earlier build of this process's
        except OSError as error:
            raise journal.naming(error, output) from error
        if len(self.changed) == 1 and not self.removed and self._apply_one():
            return
        try:
            self.journal = journal.write(output, self.staging.folder.name, self.backup.name,
                                         self.changed, self.removed)
        except OSError as error:
            raise journal.naming(error, output) from error
        self._apply_moves()

    def _apply_whole(self) -> None:
        """Nothing to keep: the staging folder becomes the output in one rename (atomic: no
        journal needed; it replaces an empty output folder)."""
        output = self.staging.output
        try:
            self.was_folder = output.is_dir()
            (self.staging.folder / MARKER).write_text("made by python -m builder; safe to delete\n")
            os.rename(self.staging.folder, output)
        except OSError as error:
            raise journal.naming(error, output) from error
        self.whole = True

    def _apply_one(self) -> bool:
        """One file and no removals (the usual body edit): the old version is linked into the
        backup folder, then the new one renamed over it. At every instant the output holds one
        whole version of the file, so there is nothing for a journal to finish and nothing to
        flush to disk (its two fsyncs took from 2 to 130 ms of a patch here, while
        the page just staged was being written out). False, having changed nothing,
        where the file system cannot link: the journal then covers the move."""
        relative = self.changed[0]
        output, staging, backup = str(self.staging.output), str(self.staging.folder), str(self.backup)
        target = os.path.join(output, relative)
        try:
            if os.path.lexists(target):
                kept = os.path.join(backup, relative)
                try:
                    os.makedirs(os.path.dirname(kept), exist_ok=True)
                    os.link(target, kept, follow_symlinks=False)
                except OSError:
                    shutil.rmtree(backup, ignore_errors=True)
                    return False
                self.applied.append((relative, "linked"))
                os.rename(os.path.join(staging, relative), target)  # atomic: replaces the old file
            else:
                move = _highest_missing(relative, staging, output)
                if move is None:
                    return False
                self.applied.append((relative, "new"))
                os.rename(*move)
        except OSError as error:
            raise journal.naming(error, target) from error
        return True

    def _apply_moves(self) -> None:
        """Each changed file replaces its old version (moved to the backup folder first), then
        the removed files go to the backup folder. ``applied`` is written before each file's
        second move, so a rollback knows what to look for."""
        output, staging, backup = str(self.staging.output), str(self.staging.folder), str(self.backup)
        relative = ""
        try:
            for relative in self.changed:
                target = os.path.join(output, relative)
                replaced = _move_aside(target, os.path.join(backup, relative))
                self.applied.append((relative, "replaced" if replaced else "new"))
                _move_into(os.path.join(staging, relative), target)
            for relative in self.removed:
                if _move_aside(os.path.join(output, relative), os.path.join(backup, relative)):
                    self.applied.append((relative, "removed"))
                    journal.remove_empty_parents(Path(output, relative).parent, self.staging.output)
        except OSError as error:
            raise journal.naming(error, os.path.join(output, relative)) from error

    def rollback(self) -> None:
        """Put every applied file back as it was. New versions go back into the staging
        folder (not deleted), so a build killed while it rolls back is rolled forward."""
        output, staging, backup = self.staging.output, self.staging.folder, self.backup
        if self.whole:
            os.rename(output, staging)
            if self.was_folder:
                output.mkdir()
            self.whole = False
            return
        relative = ""
        try:
            for relative, how in reversed(self.applied):
                if how == "linked":  # the one file of _apply_one: its old version back in one rename
                    os.rename(backup / relative, output / relative)
                    continue
                if how in ("new", "replaced") and os.path.lexists(output / relative):
                    _move_into(str(output / relative), str(staging / relative))
                if how == "new":  # its folders too (made even when the move itself failed)
                    journal.remove_empty_parents((output / relative).parent, output)
                if how in ("replaced", "removed"):
                    _move_into(str(backup / relative), str(output / relative))
        except OSError as error:
            raise journal.naming(error, output / relative) from error
        self.applied.clear()

    def finish(self) -> bool:
        """Delete the journal, then the backup folder; False when the journal stays (the
        staging folder must then stay too: recovery needs it)."""
        if self.journal is not None and not journal.delete(self.journal):
            return False
        shutil.rmtree(self.backup, ignore_errors=True)
        return True


def _highest_missing(relative: str, staging: str, output: str) -> tuple[str, str] | None:
    """(source, target) of the one rename that puts a new staged file in the output: its
    highest folder the output lacks, moved whole (a folder made in the output first would
    be left empty by a kill); None when that staged folder holds anything else."""
    parts = relative.split("/")
    for depth in range(1, len(parts)):
        if not os.path.lexists(os.path.join(output, *parts[:depth])):
            if any(os.listdir(os.path.join(staging, *parts[:below])) != [parts[below]]
                   for below in range(depth, len(parts))):
                return None
            return os.path.join(staging, *parts[:depth]), os.path.join(output, *parts[:depth])
    return os.path.join(staging, relative), os.path.join(output, relative)


def _move_aside(path: str, backup: str) -> bool:
    """Move an output file into the backup folder; False when there is no such file."""
    try:
        os.rename(path, backup)
    except FileNotFoundError:
        if not os.path.lexists(path):
            return False
        os.makedirs(os.path.dirname(backup), exist_ok=True)
        os.rename(path, backup)
    return True


def _move_into(source: str, target: str) -> None:
    """Move ``source`` to ``target``, making the target's folders when missing."""
    try:
        os.rename(source, target)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(source, target)


@contextlib.contextmanager
def transaction(staging: Staging | None):
    """Yields ``apply(changed, removed)``; if the block fails, whatever it applied is
    rolled back; either way the staging and backup folders are gone at the end.

    When the rollback itself fails (the disk turned read-only…), the journal, staging and
    backup folders stay and the next command rolls the build forward (builder.journal)."""
    applied: list[Change] = []

    def apply(changed: list[str], removed: list[str]) -> None:
        change = Change(staging, changed, removed)
        applied.append(change)
        change.apply()

    kept = False  # the journal and the staging folder stay for recovery
    try:
        yield apply
    except BaseException:
        try:
            for change in reversed(applied):
                change.rollback()
        except BaseException:  # an OSError, or Ctrl-C while rolling back
            kept = True
        raise  # the error that made the build fail is the one to report
    finally:
        if not kept:
            kept = not all([change.finish() for change in applied])
        if kept:
            for change in applied:  # no longer running: this process's next build recovers them
                journal.active_journals.discard(str(change.journal))
            if staging is not None:
                journal.staging_in_use.discard(staging.folder.name)
        elif staging is not None:
            staging.discard()


def check_output_folder(output: Path, root: Path) -> None:
    """Refuse an output folder whose contents would be sources or someone else's files."""
    output, root = output.resolve(), root.resolve()
    reason = ""
    if output == root or output in root.parents:
        reason = "is the site folder or contains it"
    elif root in output.parents and output.relative_to(root).parts[0] in ("content", "templates", "static"):
        reason = f"is within the site's {output.relative_to(root).parts[0]}/ folder"  # read back as input
    elif (output / "content").exists() or (output / "site.toml").exists():
        reason = "holds content/ or site.toml"
    elif output.exists() and not output.is_dir():
        reason = "exists and is not a folder"
    elif output.is_dir() and any(output.iterdir()) and not (output / MARKER).exists():
        reason = (f"is not empty and was not made by this tool (no {MARKER} file); "
                  "empty it or choose another --out")
    if reason:
        raise BuildFailed([Problem(str(output), 0, f"refusing to use this output folder: it {reason}")])
