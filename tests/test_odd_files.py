"""Odd paths under ``content/``: every file is read, skipped on purpose, or named with the
reason it is not read (builder.sources.find_sources), all in one run, never a traceback
or a hang; and slugs too long to be folder names are refused where they are written.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import socket
from pathlib import Path

import pytest

from builder.cli import main
from builder.console import Console
from builder.content import parse_sources
from builder.sources import SourceFile, find_sources
from builder.articles import ParseSettings
from builder.config import load_config
from conftest import article, messages, run_cli, write_files

GOOD = {"site.toml": 'title = "Odd Files"\n',
        "content/2025/a.md": article("Alpha", "2025-06-13"),
        "content/2025/b.md": article("Beta", "2025-06-14")}
NOT_REGULAR = "only regular files are read as articles"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(site: Path) -> tuple[int, list[str]]:
    """Build as a user does; a hang is a failure (a named pipe must never be opened). Returns
    the exit code and the lines of stderr, then the summary line (stdout) when it succeeded."""
    result = run_cli("build", "--site", str(site), "--no-search", timeout=120)
    return result.returncode, messages(result.stderr) + result.stdout.splitlines()


def run_main(*args: str) -> tuple[int, list[str]]:
    """The command line in this process (for monkeypatched system calls)."""
    err = io.StringIO()
    code = main([*args, "--jobs", "1"], console=Console(out=io.StringIO(), err=err))
    return code, messages(err.getvalue())


@contextlib.contextmanager
def unix_socket(path: Path):
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        yield


def test_every_file_that_is_not_read_is_named_with_its_reason_in_one_run(make_site, tmp_path):
    site = make_site(GOOD)
    assert build(site)[0] == 0
    before = tree(site / "output")
    content = site / "content"
    (content / "2025/dangling.md").symlink_to("nowhere.md")
    (content / "2025/loop.md").symlink_to("loop.md")
    (content / "2025/broken-image.jpg").symlink_to("missing.jpg")  # an asset link to nothing
    os.mkfifo(content / "2025/pipe.md")
    (content / "loops").mkdir()
    (content / "loops/again").symlink_to("../loops")
    (content / "2025/c.md").write_text("---\ndate: 2025-06-15\n---\nNo title.\n")  # a parse problem
    with unix_socket(content / "2025/sock.md"):
        code, lines = build(site)
    assert code == 1
    assert lines == [
        "content/2025/broken-image.jpg: a symbolic link to nothing ('missing.jpg' does not exist)",
        "content/2025/c.md:1: missing 'title'",
        "content/2025/dangling.md: a symbolic link to nothing ('nowhere.md' does not exist)",
        "content/2025/loop.md: a symbolic link loop (it points to 'loop.md', which leads back to it)",
        f"content/2025/pipe.md: not a regular file (a named pipe): {NOT_REGULAR}",
        f"content/2025/sock.md: not a regular file (a socket): {NOT_REGULAR}",
        "content/loops/again: a symbolic link loop (it leads back to content/loops)",
        "error: 7 problems found; nothing was written",
    ]
    assert tree(site / "output") == before


def test_hidden_files_editor_backups_and_assets_stay_silent(make_site):
    site = make_site({**GOOD,
                      "content/2025/.hidden.md": "not an article",
                      "content/2025/a.md~": "a backup",
                      "content/2025/#a.md#": "an autosave",
                      "content/2025/.a.md.swp": "swap",
                      "content/2025/a.md.swp": "swap",
                      "content/2025/_left-out.md": "left out on purpose",
                      "content/_drafts/x.md": "left out on purpose",
                      "content/.git/HEAD": "ref: refs/heads/main",
                      "content/2025/photo.jpg": b"\xff\xd8\xff",
                      "content/2025/notes.txt": "notes"})
    os.mkfifo(site / "content/2025/pipe.txt")  # not named like an article: never opened
    (site / "content/2025/.#a.md").symlink_to("root@host.1234:1700000000")  # Emacs lock: a dangling link
    code, lines = build(site)
    assert code == 0, lines
    assert [line for line in lines if not line.startswith("built ")] == []
    assert [s.path for s in find_sources(site)] == ["content/2025/a.md", "content/2025/b.md"]


def test_article_suffixes_count_in_any_case(make_site):
    site = make_site({**GOOD, "content/2025/upper.MD": article("Upper", "2025-06-15"),
                      "content/2025/long.Markdown": article("Long", "2025-06-16")})
    code, lines = build(site)
    assert code == 0, lines
    assert "from 4 articles" in lines[-1]
    assert (site / "output/2025/06/upper/index.html").is_file()
    assert (site / "output/2025/06/long/index.html").is_file()


def test_links_to_files_and_folders_inside_and_outside_the_site_are_read(make_site, tmp_path):
    site = make_site(GOOD)
    write_files(tmp_path / "elsewhere", {"outside.md": article("Outside", "2025-06-15"),
                                         "folder/deep.md": article("Deep", "2025-06-16")})
    write_files(site, {"kept/inside.md": article("Inside", "2025-06-17")})
    (site / "content/2025/outside.md").symlink_to(tmp_path / "elsewhere/outside.md")
    (site / "content/2025/inside.md").symlink_to("../../kept/inside.md")
    (site / "content/linked").symlink_to(tmp_path / "elsewhere/folder")
    code, lines = build(site)
    assert code == 0, lines
    for slug in ("outside", "inside", "deep"):
        assert (site / f"output/2025/06/{slug}/index.html").is_file(), slug
    assert [s.path for s in find_sources(site)] == [
        "content/2025/a.md", "content/2025/b.md", "content/2025/inside.md", "content/2025/outside.md",
        "content/linked/deep.md"]


def test_an_unreadable_folder_is_a_problem_not_a_silent_gap(make_site, monkeypatch):
    # Root reads any folder whatever its mode: the refusal is simulated where the listing happens.
    site = make_site({**GOOD, "content/locked/x.md": article("Locked", "2025-06-15"),
                      "content/2025/c.md": "---\ndate: 2025-06-15\n---\nNo title.\n"})
    real = os.scandir
    locked = str(site / "content/locked")

    def scandir(path="."):
        if str(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, lines = run_main("build", "--site", str(site), "--no-search")
    assert code == 1
    assert lines == ["content/2025/c.md:1: missing 'title'",
                     "content/locked: cannot read this folder: Permission denied",
                     "error: 2 problems found; nothing was written"]


def test_an_unreadable_content_folder_is_a_problem(make_site, monkeypatch):
    site = make_site(GOOD)
    real = os.scandir
    content = str(site / "content")
    monkeypatch.setattr(os, "scandir", lambda path=".": (_ for _ in ()).throw(
        PermissionError(errno.EACCES, "Permission denied", str(path))) if str(path) == content else real(path))
    sources = find_sources(site)
    assert [(s.path, s.problem) for s in sources] == [("content", "cannot read this folder: Permission denied")]


def test_an_unreadable_file_is_a_problem(make_site, monkeypatch):
    site = make_site(GOOD)
    real = os.open
    target = str(site / "content/2025/b.md")

    def refusing(path, *args, **kwargs):
        if str(path) == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    code, lines = run_main("build", "--site", str(site), "--no-search", "--no-cache")
    assert code == 1
    assert lines == ["content/2025/b.md: cannot read this file: Permission denied",
                     "error: 1 problem found; nothing was written"]


def test_a_file_that_became_a_pipe_after_the_scan_is_not_waited_for(make_site):
    site = make_site(GOOD)
    sources = find_sources(site)
    path = site / "content/2025/b.md"
    path.unlink()
    os.mkfifo(path)  # no writer: a plain open() would wait for one forever
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("reading a named pipe hung"))
    signal.alarm(10)
    try:
        results = parse_sources(sources, ParseSettings.from_config(load_config(site)))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert results[0][0] is not None
    assert [str(p) for p in results[1][1]] == [f"content/2025/b.md: not a regular file (a named pipe): {NOT_REGULAR}"]


def test_find_sources_still_gives_source_files(make_site):
    site = make_site(GOOD)
    os.mkfifo(site / "content/2025/pipe.md")
    sources = find_sources(site)
    assert all(isinstance(s, SourceFile) for s in sources)
    assert [(s.path, bool(s.problem)) for s in sources] == [
        ("content/2025/a.md", False), ("content/2025/b.md", False), ("content/2025/pipe.md", True)]


# -- Slugs that cannot be folder names ----------------------------------------------------------

def test_a_slug_too_long_for_a_folder_name_is_a_problem_at_its_line(make_site):
    long_slug = "-".join(["word"] * 60)  # 299 characters
    at_limit = "x" * 200
    site = make_site({**GOOD, "content/2025/c.md": article("Gamma", "2025-06-15", slug=long_slug),
                      f"content/2025/{'y' * 210}.md": article("Delta", "2025-06-16"),
                      "content/2025/d.md": article("Epsilon", "2025-06-17", slug=at_limit)})
    code, lines = build(site)
    assert code == 1
    assert lines == [
        f"content/2025/c.md:4: slug is {len(long_slug)} characters long (at most 200): it names the "
        "article's folder, and file systems refuse longer names",
        f"content/2025/{'y' * 210}.md:1: the slug made from the file name is 210 characters long "
        "(at most 200): rename the file or add a shorter 'slug:'",
        "error: 2 problems found; nothing was written",
    ]
    (site / "content/2025/c.md").unlink()
    (site / f"content/2025/{'y' * 210}.md").unlink()
    code, lines = build(site)
    assert code == 0, lines
    assert (site / f"output/2025/06/{at_limit}/index.html").is_file()
