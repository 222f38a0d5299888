"""Crash safety and OS errors of the output folder (builder.output, builder.journal).

At any instant ``output/`` is the complete old site, the complete new site, or a mix
that the next command completes into the new site before it does anything else; a
stopped build leaves no staging, backup or journal behind once the next command ran.
Disk full, read-only and permission errors give one line naming the output path, exit
code 3, and the old output exactly as it was.

Three ways to stop a build: a simulated kill at every file-system call of a small change
(in this process: after the chosen call every change to the disk fails, the rollback
included, as if the process were gone), the same during the recovery itself, and real
SIGKILLs of real builds of a generated archive at random moments.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder import journal
from builder.cli import main
from builder.console import Console
from builder.output import MARKER, recover, scan, start_staging, transaction
from builder.problems import BuildFailed, UsageError
from conftest import REPO, article, generate_corpus, write_files

MARKER_TEXT = b"made by python -m builder; safe to delete\n"
OLD = {MARKER: MARKER_TEXT, "index.html": b"old index", "a/index.html": b"old a", "b/index.html": b"same b",
       "gone/deep/index.html": b"gone", "style.css": b"same css"}
NEW = {MARKER: MARKER_TEXT, "index.html": b"new index", "a/index.html": b"new a", "b/index.html": b"same b",
       "c/d/index.html": b"new c", "style.css": b"same css", "z.html": b"new z"}


def tree(folder: Path) -> tuple[dict[str, bytes], set[str]]:
    """Every file's bytes and every folder under ``folder`` (an empty folder left behind counts)."""
    files, folders = {}, set()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_dir():
            folders.add(relative)
        else:
            files[relative] = path.read_bytes()
    return files, folders


def expected(files: dict[str, bytes]) -> tuple[dict[str, bytes], set[str]]:
    folders = {"/".join(name.split("/")[:depth]) for name in files for depth in range(1, name.count("/") + 1)}
    return dict(files), folders


def leftovers(output: Path) -> list[str]:
    """What builds put beside the output folder: staging, backup and search folders, journals."""
    return sorted(p.name for p in output.parent.iterdir() if p.name.startswith(f".{output.name}."))


def make_output(root: Path, files: dict[str, bytes] = OLD) -> Path:
    output = root / "output"
    for name, data in files.items():
        (output / name).parent.mkdir(parents=True, exist_ok=True)
        (output / name).write_bytes(data)
    return output


def change_site(output: Path, new: dict[str, bytes] = NEW) -> None:
    """What a build does to the output: stage what differs, then apply it in a transaction."""
    existing, _ = scan(output)
    staging = start_staging(output)
    with transaction(staging) as apply:
        changed = sorted(name for name, data in new.items() if staging.write(name, data))
        apply(changed, sorted(existing - set(new)))


# -- A simulated kill at every step -------------------------------------------------------------

class Killed(BaseException):
    """The process is gone: nothing after this happens (an OSError handler does not see it)."""


FILE_SYSTEM_CALLS = ("rename", "replace", "unlink", "remove", "rmdir", "mkdir", "fsync", "link")


@contextlib.contextmanager
def killed_after(count: int | None):
    """Let ``count`` file-system changes happen, then make every later one raise Killed (None:
    never); yields a list whose first item counts the calls."""
    calls = [0]
    originals = {name: getattr(os, name) for name in FILE_SYSTEM_CALLS}

    def wrap(function):
        def call(*args, **kwargs):
            calls[0] += 1
            if count is not None and calls[0] > count:
                raise Killed
            return function(*args, **kwargs)
        return call

    for name, function in originals.items():
        setattr(os, name, wrap(function))
    try:
        yield calls
    finally:
        for name, function in originals.items():
            setattr(os, name, function)
        # What the killed process was running ends with it.
        journal.active_journals.clear()
        journal.staging_in_use.clear()


def run_killed(action, count: int | None) -> int:
    """Run ``action`` killed after ``count`` file-system changes; return how many it made."""
    with killed_after(count) as calls:
        with contextlib.suppress(Killed):
            action()
    return calls[0]


def calls_of(action, root: Path) -> int:
    """How many file-system changes ``action(output)`` makes on a fresh copy of the old output."""
    output = make_output(root)
    return run_killed(lambda: action(output), None)


def test_a_kill_at_any_step_of_a_change_is_finished_by_the_next_command(tmp_path):
    total = calls_of(change_site, tmp_path / "count")
    assert total > 20
    seen = set()
    for count in range(total + 1):
        output = make_output(tmp_path / str(count))
        run_killed(lambda: change_site(output), count)
        state = tree(output)
        seen.add("old" if state == expected(OLD) else "new" if state == expected(NEW) else "mix")
        recover(output)
        assert tree(output) in (expected(OLD), expected(NEW)), count
        if state not in (expected(OLD), expected(NEW)):
            assert tree(output) == expected(NEW), count  # rolled forward
        assert leftovers(output) == [], count
    assert seen == {"old", "mix", "new"}  # the kills did land between the moves


def test_a_kill_during_the_recovery_is_finished_by_the_next_one(tmp_path):
    total = calls_of(change_site, tmp_path / "count")
    for count in range(0, total + 1, 2):
        reference = make_output(tmp_path / f"{count}-reference")
        run_killed(lambda: change_site(reference), count)
        steps = run_killed(lambda: recover(reference), None)
        for step in range(steps):
            output = make_output(tmp_path / f"{count}-{step}")
            run_killed(lambda: change_site(output), count)
            run_killed(lambda: recover(output), step)  # killed while recovering
            recover(output)
            assert tree(output) == tree(reference), (count, step)
            assert leftovers(output) == [], (count, step)


def test_a_kill_while_the_journal_is_written_leaves_the_old_site(tmp_path):
    output = make_output(tmp_path)
    real_replace = os.replace

    def kill_at_journal(source, target, *args, **kwargs):
        if str(target).endswith(".journal"):
            raise Killed  # the temporary journal is complete on disk, not yet in place
        return real_replace(source, target, *args, **kwargs)

    with killed_after(None):
        os.replace = kill_at_journal
        with contextlib.suppress(Killed):
            change_site(output)
    assert any(name.startswith(".output.journal-") for name in leftovers(output))
    recover(output)
    assert tree(output) == expected(OLD)
    assert leftovers(output) == []


ONE_EDITED = {**OLD, "a/index.html": b"new a"}  # the usual body edit: one page changes
ONE_ADDED = {**OLD, "c/d/index.html": b"new c"}


@pytest.mark.parametrize("new", [ONE_EDITED, ONE_ADDED], ids=["edited", "added"])
def test_a_one_file_change_is_atomic_without_a_journal(tmp_path, monkeypatch, new):
    total = calls_of(lambda output: change_site(output, new), tmp_path / "count")
    for count in range(total + 1):
        output = make_output(tmp_path / str(count))
        run_killed(lambda: change_site(output, new), count)
        assert tree(output)[0] in (OLD, new), count  # never a missing or partial file
        recover(output)
        assert tree(output) in (expected(OLD), expected(new)), count
        assert leftovers(output) == [], count

    def no_journal(*args, **kwargs):
        raise AssertionError("a journal was written for one file")

    monkeypatch.setattr(journal, "write", no_journal)
    output = make_output(tmp_path / "whole")
    change_site(output, new)
    assert tree(output) == expected(new) and leftovers(output) == []


@pytest.mark.parametrize("new", [ONE_EDITED, ONE_ADDED], ids=["edited", "added"])
def test_a_one_file_change_is_rolled_back_exactly_when_the_build_fails_after_it(tmp_path, new):
    output = make_output(tmp_path)
    with pytest.raises(RuntimeError):
        staging = start_staging(output)
        with transaction(staging) as apply:
            apply([name for name, data in new.items() if staging.write(name, data)], [])
            assert tree(output) == expected(new)
            raise RuntimeError("the cache could not be saved")
    assert tree(output) == expected(OLD) and leftovers(output) == []


def test_a_one_file_change_where_files_cannot_be_linked_goes_through_the_journal(tmp_path, monkeypatch):
    def cannot(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    journals = []
    write = journal.write
    monkeypatch.setattr(os, "link", cannot)
    monkeypatch.setattr(journal, "write", lambda *args: journals.append(args) or write(*args))
    output = make_output(tmp_path)
    change_site(output, ONE_EDITED)
    assert len(journals) == 1
    assert tree(output) == expected(ONE_EDITED) and leftovers(output) == []


def test_a_first_build_is_one_rename_and_a_failure_after_it_leaves_no_output(tmp_path):
    output = tmp_path / "output"
    with pytest.raises(RuntimeError):
        staging = start_staging(output)
        with transaction(staging) as apply:
            staging.write("index.html", b"new")
            apply(["index.html"], [])
            assert (output / "index.html").read_bytes() == b"new"
            raise RuntimeError("the cache could not be saved")
    assert not output.exists() and leftovers(output) == []


def test_a_worker_left_behind_does_not_make_a_deleted_staging_folder_again(tmp_path):
    output = make_output(tmp_path)
    staging = start_staging(output)
    shutil.rmtree(staging.folder)  # what recovery does to a killed build's staging folder
    with pytest.raises(FileNotFoundError) as failure:
        staging.write("new/deep/index.html", b"late")
    assert failure.value.filename == str(output / "new/deep/index.html")
    assert not staging.folder.exists()
    staging.discard()


# -- Rollback when a move fails -------------------------------------------------------------------

def renames_of(root: Path) -> int:
    output = make_output(root)
    count = [0]
    real = os.rename

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    os.rename = counting
    try:
        change_site(output)
    finally:
        os.rename = real
    return count[0]


@contextlib.contextmanager
def rename_fails(number: int, after_too: bool = False):
    """The ``number``-th rename raises EROFS (and, with ``after_too``, every later one)."""
    real = os.rename
    count = [0]

    def failing(source, target, *args, **kwargs):
        count[0] += 1
        if count[0] == number or (after_too and count[0] > number):
            raise OSError(errno.EROFS, "Read-only file system", str(source), None, str(target))
        return real(source, target, *args, **kwargs)

    os.rename = failing
    try:
        yield
    finally:
        os.rename = real


def test_a_rename_failing_half_way_rolls_the_output_back_exactly(tmp_path):
    total = renames_of(tmp_path / "count")
    assert total > 8
    for number in range(1, total + 1):
        output = make_output(tmp_path / str(number))
        with rename_fails(number), pytest.raises(OSError) as failure:
            change_site(output)
        assert tree(output) == expected(OLD), number
        assert leftovers(output) == [], number
        # The message names the output file or folder involved, not a staging or backup copy.
        assert failure.value.filename.startswith(str(output)), failure.value.filename
        assert ".staging-" not in failure.value.filename


def test_a_rollback_that_fails_too_leaves_the_journal_and_the_next_command_finishes(tmp_path):
    output = make_output(tmp_path)
    with rename_fails(5, after_too=True), pytest.raises(OSError):
        change_site(output)
    assert tree(output) not in (expected(OLD), expected(NEW))  # the disk turned read-only mid-way
    assert ".output.journal" in leftovers(output)
    assert recover(output)[0].startswith(f"finished the build that was stopped while it wrote {output}")
    assert tree(output) == expected(NEW)
    assert leftovers(output) == []


# -- Recovery: stale folders, journals of live builds, damaged journals -------------------------

def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_folders_of_dead_builds_are_deleted_and_live_ones_kept(tmp_path):
    output = make_output(tmp_path)
    dead = dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for name in (f".output.staging-{dead}", f".output.staging-{dead}-backup",
                     f".output.staging-{dead}-search", f".output.staging-{live.pid}",
                     f".output.staging-{os.getpid()}-backup"):
            (tmp_path / name / "x").mkdir(parents=True)
        (tmp_path / f".output.journal-{dead}.tmp").write_text("{half")
        (tmp_path / ".other.staging-1").mkdir()  # another output's: not ours to judge
        notes = recover(output)
        assert leftovers(output) == [f".output.staging-{live.pid}"]
        assert notes == [f"deleted 5 folders or files that stopped builds left beside {output}"]
        assert (tmp_path / ".other.staging-1").is_dir()
        assert tree(output) == expected(OLD)
    finally:
        live.kill()
        live.wait()


def test_a_journal_of_a_live_build_is_left_alone(tmp_path):
    output = make_output(tmp_path)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = journal.write(output, f".output.staging-{live.pid}", f".output.staging-{live.pid}-backup",
                             ["index.html"], [])
        journal.active_journals.discard(str(path))
        text = path.read_text().replace(f'"pid":{os.getpid()}', f'"pid":{live.pid}')
        text = text.replace(f'"started":"{journal.process_start(os.getpid())}"',
                            f'"started":"{journal.process_start(live.pid)}"')
        path.write_text(text)
        with pytest.raises(UsageError, match=f"another build \\(process {live.pid}\\) is writing"):
            recover(output)
        assert tree(output) == expected(OLD)
    finally:
        live.kill()
        live.wait()


def test_a_reused_pid_is_not_a_live_build(tmp_path):
    assert journal.running(os.getpid(), journal.process_start(os.getpid()))
    assert not journal.running(os.getpid(), "1")  # same pid, another start time: not that build
    assert not journal.running(dead_pid())


def test_a_damaged_journal_is_one_problem_naming_it(tmp_path):
    output = make_output(tmp_path)
    (tmp_path / ".output.journal").write_text('{"format": 1, "changed": ["../../etc/passwd"]}')
    with pytest.raises(BuildFailed) as failed:
        recover(output)
    assert str(failed.value).startswith(f"{tmp_path / '.output.journal'}: damaged journal")
    assert tree(output) == expected(OLD)


# -- OS errors through the command line ---------------------------------------------------------

SITE = {"site.toml": 'title = "Old"\n',
        "content/2025/a.md": article("Alpha", "2025-06-13", topics="[Trade]"),
        "content/2025/b.md": article("Beta", "2025-06-14", topics="[Trade]"),
        "content/2025/c.md": article("Gamma", "2025-06-15")}


def run_main(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main([*args, "--no-search", "--jobs", "1"], console=Console(out=io.StringIO(), err=err))
    return code, err.getvalue()


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("  ")]  # step lines


def file_times(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def built_site(tmp_path) -> Path:
    """A built site whose next build changes every page (the title changed)."""
    site = write_files(tmp_path / "site", SITE)
    assert run_main("build", "--site", str(site))[0] == 0
    (site / "site.toml").write_text('title = "New"\n')
    return site


@pytest.mark.parametrize("code, reason", [(errno.EROFS, "Read-only file system"),
                                          (errno.ENOSPC, "No space left on device"),
                                          (errno.EACCES, "Permission denied")])
def test_an_error_while_files_move_is_one_line_exit_3_and_the_old_output(built_site, monkeypatch, code, reason):
    output = built_site / "output"
    before, times = tree(output), file_times(output)
    real, count = os.rename, [0]

    def failing(source, target, *args, **kwargs):  # one move into the output fails, half-way
        if str(target).startswith(str(output) + "/"):
            count[0] += 1
        if count[0] == 6 and str(target).startswith(str(output) + "/"):
            raise OSError(code, reason, str(source), None, str(target))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "rename", failing)
    status, stderr = run_main("build", "--site", str(built_site))
    assert status == 3
    [line] = error_lines(stderr)
    assert line.startswith(f"error: {output}/") and line.endswith(f": {reason}; the output folder was left as it was")
    assert "Traceback" not in stderr and ".staging-" not in stderr
    assert tree(output) == before and file_times(output) == times
    assert leftovers(output) == []


def test_a_full_disk_while_staging_names_the_page_and_changes_nothing(built_site, monkeypatch):
    output = built_site / "output"
    before = tree(output)

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr("builder.output.open", full, raising=False)
    status, stderr = run_main("build", "--site", str(built_site))
    assert status == 3
    [line] = error_lines(stderr)
    assert line.startswith(f"error: {output}/") and "No space left on device; the output folder" in line
    assert tree(output) == before and leftovers(output) == []


def test_a_journal_that_cannot_be_written_names_the_output_folder(built_site, monkeypatch):
    output = built_site / "output"
    before = tree(output)

    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr("builder.journal.open", denied, raising=False)
    status, stderr = run_main("build", "--site", str(built_site))
    assert status == 3
    assert error_lines(stderr) == [f"error: {output}: Permission denied; the output folder was left as it was"]
    assert tree(output) == before and leftovers(output) == []


def chattr(flag: str, path: Path) -> bool:
    """Set or clear the immutable attribute (root ignores permission bits, not this); False
    where the system cannot (no chattr, no capability, a file system without attributes)."""
    if not shutil.which("chattr"):
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_read_only_output_folder_fails_in_one_line_and_stays_as_it_was(built_site):
    output = built_site / "output"
    before, times = tree(output), file_times(output)
    if not chattr("+i", output):
        pytest.skip("cannot make a folder immutable here (chattr +i)")
    try:
        result = cli("build", "--site", str(built_site), "--no-search")
    finally:
        chattr("-i", output)
    assert result.returncode == 3, result.stderr
    # The moves in subfolders went ahead, then one in the top folder failed: all rolled back.
    [line] = error_lines(result.stderr)
    assert line.startswith(f"error: {output}/") and \
        line.endswith(": Operation not permitted; the output folder was left as it was"), line
    assert "Traceback" not in result.stderr
    assert tree(output) == before and file_times(output) == times
    assert leftovers(output) == []


def test_an_output_on_a_read_only_path_fails_in_one_line(tmp_path):
    site = write_files(tmp_path / "site", SITE)
    locked = tmp_path / "locked"
    locked.mkdir()
    if not chattr("+i", locked):
        pytest.skip("cannot make a folder immutable here (chattr +i)")
    try:
        result = cli("build", "--site", str(site), "--no-search", "--out", str(locked / "out"))
    finally:
        chattr("-i", locked)
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        f"error: {locked / 'out'}: Operation not permitted; the output folder was left as it was"]
    assert list(locked.iterdir()) == []


def test_an_output_under_a_file_fails_in_one_line(tmp_path):
    site = write_files(tmp_path / "site", SITE)
    (tmp_path / "file").write_text("not a folder")
    result = cli("build", "--site", str(site), "--no-search", "--out", str(tmp_path / "file" / "out"))
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        f"error: {tmp_path / 'file'}: Not a directory; the output folder was left as it was"]


# -- Real builds killed with SIGKILL --------------------------------------------------------------

RUNS = 20


def new_version(site: Path) -> None:
    """Change the site so that a build rewrites, adds and removes many files: every page (the
    title), 30 articles deleted, 10 added."""
    (site / "site.toml").write_text('title = "The New Archive"\nbase_url = "/"\n')
    files = sorted((site / "content").rglob("*.md"))
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    related = set(re.findall(r"^  - ([a-z0-9-]+)$", "\n".join(texts.values()), re.M))
    unlinked = [path for path, text in texts.items() if re.search(r"^slug: (.*)$", text, re.M)[1] not in related]
    for path in unlinked[:30]:  # no other article links to these
        path.unlink()
    for number, path in enumerate(unlinked[30:40]):
        text = path.read_text(encoding="utf-8")
        text = "\n".join(f"slug: added-{number}" if line.startswith("slug:") else line for line in text.split("\n"))
        path.with_name(f"added-{number}.md").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """An old site built with its cache, and cold reference outputs of the old and new versions."""
    root = tmp_path_factory.mktemp("killed")
    old = generate_corpus(300, root / "old")
    (old / "site.toml").write_text('title = "The Old Archive"\nbase_url = "/"\n')
    new = root / "new"
    shutil.copytree(old, new)
    new_version(new)
    for site, out in ((old, root / "old-reference"), (new, root / "new-reference")):
        assert cli("build", "--site", str(site), "--no-search", "--no-cache", "--out", str(out)).returncode == 0
    assert cli("build", "--site", str(old), "--no-search").returncode == 0
    references = {"old": tree(root / "old-reference"), "new": tree(root / "new-reference")}
    assert tree(old / "output") == references["old"]
    return root, old, new, references


def fresh_copy(old: Path, new: Path, target: Path) -> Path:
    """The old site as built (output and cache), with the new version's input."""
    shutil.copytree(old, target, symlinks=True)
    shutil.rmtree(target / "content")
    shutil.copytree(new / "content", target / "content")
    shutil.copy2(new / "site.toml", target / "site.toml")
    return target


def start_build(site: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "builder", "build", "--site", str(site), "--no-search"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the build, then the workers it leaves (they would stop on their own when they
    find the parent gone; killing them keeps the test's timing exact)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> bool:
    """Poll until ``path`` exists (True) or the build ends (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists():
            return True
        time.sleep(0.0005)
    return False


@pytest.mark.slow
def test_builds_killed_at_random_moments_leave_the_old_or_the_new_site(versions, tmp_path):
    root, old, new, references = versions
    timing = fresh_copy(old, new, tmp_path / "timing")
    seconds = time.perf_counter()
    process = start_build(timing)
    assert wait_for((timing / "output").with_name(f".output.staging-{process.pid}-backup"), process)
    moves_began = time.perf_counter()
    assert process.wait() == 0
    seconds, moving = time.perf_counter() - seconds, time.perf_counter() - moves_began
    assert tree(timing / "output") == references["new"]

    chance = random.Random(20250613)
    states = []
    for run in range(RUNS):
        site = fresh_copy(old, new, tmp_path / f"run-{run}")
        output = site / "output"
        process = start_build(site)
        if run % 2:  # half the kills land while files move: after the first one, a random moment
            if wait_for(output.with_name(f".output.staging-{process.pid}-backup"), process):
                # within the moves (then the cache is saved): how long they take depends on the machine
                time.sleep(chance.uniform(0, moving / 2))
        else:  # the others anywhere in the build
            time.sleep(chance.uniform(0.05, seconds))
        kill(process)
        found = tree(output)
        journaled = output.with_name(".output.journal").exists()
        state = next((name for name, files in references.items() if found == files), "mix")
        states.append(state)
        # The next command: check (finishes the stopped build and builds nothing) or build.
        command = "check" if run % 4 < 2 else "build"
        args = ["--no-search"] if command == "build" else []
        result = cli(command, "--site", str(site), *args)
        assert result.returncode == 0, (run, result.stderr)
        after = tree(output)
        if command == "check":
            # Rolled forward when the build had started moving files (its journal was there).
            assert after == references["new" if journaled else state], (run, state)
            assert state != "mix" or journaled
        else:
            assert after == references["new"], (run, state)
        assert leftovers(output) == [], (run, state)
    assert states.count("mix") >= 3, states  # the kills did land while files moved
