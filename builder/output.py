"""Output: stage the new site beside the old one and swap it in on success.

The new site is written to a staging folder next to ``output/``; a file
whose bytes did not change is hard-linked from the current output instead
of rewritten (so its modification time stays and rsync-style deploys move
only what changed). Only when everything succeeded does the staging
folder replace ``output/``: a failed build leaves the old site exactly as it was.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from builder.problems import BuildFailed, Problem

MARKER = ".builder-output"  # marks a folder this tool made, so it may replace it


@dataclass
class Staging:
    """A folder being filled with the next version of the site."""

    output: Path
    folder: Path
    written: int = 0  # files with new bytes
    unchanged: int = 0  # files linked from the current output

    def add(self, relative: str, data: bytes) -> None:
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        current = self.output / relative
        if _same_bytes(current, data):
            try:
                os.link(current, target)
                self.unchanged += 1
                return
            except OSError:
                pass  # no hard links on this filesystem: write the bytes
        with open(target, "wb") as handle:
            handle.write(data)
        self.written += 1

    def link_unchanged(self, relative: str) -> bool:
        """Carry a file over from the current output as it is; False when it is missing."""
        current = self.output / relative
        if not current.is_file():
            return False
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(current, target)
        except OSError:
            shutil.copy2(current, target)
        self.unchanged += 1
        return True

    def files(self) -> set[str]:
        return {p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*") if p.is_file()}

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self) -> int:
        """Swap the staged site in; return how many old files are gone."""
        before = _file_set(self.output)
        (self.folder / MARKER).write_text("made by python -m builder; safe to delete\n")
        removed = len(before - self.files())
        old = self.output.with_name(f".{self.output.name}.old-{os.getpid()}")
        if self.output.exists():
            os.rename(self.output, old)
        os.rename(self.folder, self.output)
        shutil.rmtree(old, ignore_errors=True)
        return removed


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _file_set(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def check_output_folder(output: Path, root: Path) -> None:
    """Refuse an output folder whose replacement would destroy sources."""
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


def start_staging(output: Path) -> Staging:
    """A fresh staging folder beside ``output`` (same filesystem, so links and renames work)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = output.with_name(f".{output.name}.staging-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return Staging(output=output, folder=folder)
