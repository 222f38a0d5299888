"""The command line as people use it: help for everything, -q/-v, progress as it goes,
colour on a terminal only, one-line messages for every user mistake (never a traceback),
Ctrl-C with exit code 130, and ``init`` for a new archive."""

from __future__ import annotations

import argparse
import io
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from builder import cli
from builder.console import Console, plural
from conftest import CORPUS_SIZE, REPO, article, messages, run_cli, write_files


def run_in_process(*argv: str) -> tuple[int, str, str]:
    """``builder ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), console=Console(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def test_every_command_and_option_has_help():
    parser = cli.make_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == set(cli.COMMANDS)
    for name, sub in commands.choices.items():
        assert sub.description, name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"
        options = {o for a in sub._actions for o in a.option_strings}
        assert {"-q", "--quiet", "-v", "--verbose", "--help"} <= options, name


def test_plurals():
    assert [plural(n, "article") for n in (0, 1, 2, 10_000)] == [
        "0 articles", "1 article", "2 articles", "10,000 articles"]


@pytest.fixture
def small_site(tmp_path) -> Path:
    return write_files(tmp_path / "site", {"content/a.md": article("Alpha", countries="[Japan]")})


def test_quiet_prints_nothing_and_verbose_tells_why(small_site):
    code, out, err = run_in_process("build", "-q", "--no-search", "--site", str(small_site))
    assert (code, out, err) == (0, "", "")
    (small_site / "content/a.md").write_text(article("Alpha", countries="[Japan, Chile]"))
    code, out, err = run_in_process("build", "-v", "--no-search", "--site", str(small_site))
    assert code == 0 and re.match(r"built 1\d pages from 1 article in \d", out)
    assert re.search(r"^  render: \d+\.\d\ds$", err, re.MULTILINE)
    assert "whole site rebuilt: " in err


def test_steps_are_printed_as_they_end_when_not_a_terminal(small_site):
    code, out, err = run_in_process("build", "--no-search", "--site", str(small_site))
    assert code == 0
    steps = [line.split(":")[0].strip() for line in err.splitlines()]
    assert steps[:2] == ["config", "scan"] and "render" in steps and steps[-1] == "save"
    assert "\x1b[" not in err  # no colour codes in a log


@pytest.mark.parametrize("make_argument, message", [
    (lambda site: site / "site.toml", "--site {site}/site.toml is the configuration file; give the folder "
                                      "that holds it: --site {site}"),
    (lambda site: site / "content" / "a.md", "--site {site}/content/a.md is a file; give the site folder"),
    (lambda site: site / "missing", "--site {site}/missing: no such folder (builder init {site}/missing "
                                    "starts a new site there)"),
    (lambda site: site / "empty", "{site}/empty is not a site folder: it has no site.toml and no content/; "
                                  "pass --site DIR, or start a site with builder init"),
])
@pytest.mark.parametrize("command", ["build", "check", "serve", "report", "clean", "deploy"])
def test_a_wrong_site_folder_is_one_line_saying_what_to_do(tmp_path, make_argument, message, command):
    site = write_files(tmp_path / "site", {"site.toml": 'title = "T"\n', "content/a.md": article(),
                                           "empty/.keep": ""})
    (site / "empty" / ".keep").unlink()
    code, out, err = run_in_process(command, "--site", str(make_argument(site)))
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith("error: " + message.format(site=site))
    assert len(err.splitlines()) == 1


def test_new_outside_a_site_writes_nothing(tmp_path):
    code, _, err = run_in_process("new", "A headline", "--site", str(tmp_path))
    assert code == 2 and "is not a site folder" in err
    assert list(tmp_path.iterdir()) == []


def test_a_site_without_content_names_the_folder(tmp_path):
    site = write_files(tmp_path / "site", {"site.toml": 'title = "T"\n'})
    code, _, err = run_in_process("build", "--site", str(site))
    assert code == 1
    assert messages(err)[0] == (f"{site}/content: no such folder: a site keeps its articles in content/ "
                                   "(create it, or start a site with builder init)")


def test_a_bug_is_one_line_and_a_log(small_site, monkeypatch):
    import builder.build

    def broken(*args, **kwargs):
        raise RuntimeError("something inside went wrong")

    monkeypatch.setattr(builder.build, "build", broken)
    code, out, err = run_in_process("build", "--site", str(small_site))
    assert code == 3 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: internal error (RuntimeError: something inside went wrong); this is a bug")
    log = Path(line.rsplit("the traceback is in ", 1)[1])
    assert "Traceback (most recent call last)" in log.read_text() and "broken" in log.read_text()
    log.unlink()


# -- a terminal ---------------------------------------------------------------------------------

def run_on_terminal(argv: list[str], env: dict | None = None, timeout: float = 120) -> tuple[int, str]:
    """``python -m builder ARGV`` with stderr (and stdout) on a pseudo-terminal: (exit code, what it drew)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "builder", *argv], stdout=follower, stderr=follower,
                               stdin=subprocess.DEVNULL, cwd=REPO,
                               env=dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="100", TERM="xterm", **(env or {})))
    os.close(follower)
    drawn = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=10), drawn.decode("utf-8", "replace")


@pytest.mark.slow
def test_a_long_build_on_a_terminal_shows_a_progress_bar(corpus, tmp_path):
    site = corpus
    # 500 articles take under a second on a quick machine: the bar is asked for sooner
    code, drawn = run_on_terminal(["build", "--no-search", "--no-cache", "--jobs", "1", "--site", str(site),
                                   "--out", str(tmp_path / "out")], env={"BUILDER_PROGRESS_AFTER": "0.1"})
    assert code == 0, drawn
    assert re.search(r"render\s.*\d+/\d+", drawn), drawn  # rich's bar: step, bar, done/total
    assert "built " in drawn and f"from {CORPUS_SIZE} articles" in drawn


def test_a_short_build_on_a_terminal_draws_no_bar(tmp_path):
    site = write_files(tmp_path / "site", {"content/a.md": "---\ntitle: A\ndate: 2025-01-02\n---\nBody.\n"})
    code, drawn = run_on_terminal(["build", "--no-search", "--site", str(site)], env={"BUILDER_PROGRESS_AFTER": "30"})
    assert code == 0 and "built " in drawn, drawn
    assert not re.search(r"\d+/\d+", drawn), drawn


def test_problems_are_coloured_on_a_terminal_unless_no_color(tmp_path):
    site = write_files(tmp_path / "site", {"content/a.md": "---\ntitle: A\n---\n"})
    code, drawn = run_on_terminal(["build", "--site", str(site)])
    assert code == 1 and "\x1b[31m" in drawn and "content/a.md:1: missing 'date'" in drawn
    code, drawn = run_on_terminal(["build", "--site", str(site)], env={"NO_COLOR": "1"})
    assert code == 1 and "\x1b[" not in drawn and "content/a.md:1: missing 'date'" in drawn


# -- Ctrl-C -------------------------------------------------------------------------------------

def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cache_contents(folder: Path) -> dict:
    """What a cache vouches for: its state file and the rows of every table."""
    import sqlite3
    with sqlite3.connect(folder / "cache.sqlite") as database:
        tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {name: sorted(database.execute(f"SELECT * FROM {name}")) for name in sorted(tables)}
    return {"state": (folder / "state.pickle").read_bytes(), **rows}


def edit_titles(site: Path) -> None:
    """Build the site, then edit 300 titles: enough change for a long rebuild."""
    run_cli("build", "--no-search", "--site", str(site), check=True)
    for path in sorted((site / "content").rglob("*.md"))[:300]:
        path.write_text(path.read_text().replace("title: \"", "title: \"Edited "), encoding="utf-8")


def start_rebuild(site: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "builder", "build", "--no-search", "--jobs", "2",
                             "--site", str(site)], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.fixture(scope="module")
def rebuild_seconds(corpus, tmp_path_factory) -> float:
    """How long that rebuild takes on this machine, so that the interrupts land within it."""
    site = Path(shutil.copytree(corpus, tmp_path_factory.mktemp("timing") / "site",
                                ignore=shutil.ignore_patterns("output", ".cache")))
    edit_titles(site)
    started = time.perf_counter()
    assert start_rebuild(site).wait(timeout=120) == 0
    return time.perf_counter() - started


@pytest.mark.slow
@pytest.mark.parametrize("moment", [0.1, 0.3, 0.5])
def test_ctrl_c_ends_with_130_one_line_and_everything_as_it_was(corpus_copy, tmp_path, rebuild_seconds, moment):
    site = corpus_copy
    edit_titles(site)
    before, cache_before = tree(site / "output"), cache_contents(site / ".cache")
    process = start_rebuild(site)
    time.sleep(moment * rebuild_seconds)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    out, err = process.communicate(timeout=60)
    assert process.returncode != 0, "the build ended before the interrupt, or ignored it"
    assert process.returncode == 130, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not re.match(r"^  [a-z]+: \d", line)]
    if lines == ["error: interrupted after the new site was written: the output folder and the cache "
                 "hold the new build"]:  # the interrupt came while the cache was saved: all of it is new
        cold = tmp_path / "cold"
        run_cli("build", "--no-search", "--no-cache", "--site", str(site), "--out", str(cold), check=True)
        assert {k: v[0] for k, v in tree(site / "output").items()} == {k: v[0] for k, v in tree(cold).items()}
        return
    assert lines == ["error: interrupted; the output folder and the cache were left as they were"], err
    assert tree(site / "output") == before
    after = cache_contents(site / ".cache")
    # Parsing adds the new bodies by digest as it goes: rows nothing refers to until a save.
    assert set(cache_before.pop("bodies")) <= set(after.pop("bodies"))
    assert after == cache_before
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".output.")]


# -- init ---------------------------------------------------------------------------------------

def test_init_writes_a_site_that_builds_and_refuses_a_second_time(tmp_path):
    code, out, err = run_in_process("init", str(tmp_path / "news"))
    assert code == 0, err
    site = tmp_path / "news"
    written = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    [example] = [p for p in written if p.startswith("content/")]
    assert written == sorted([".github/workflows/pages.yml", ".gitignore", "requirements.txt", "site.toml", example])
    text = (site / example).read_text()
    assert "reports nothing" in text and "placeholder" in text.lower()
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["title"].startswith("Example article")
    assert {"/output/", "/.cache/"} <= set((site / ".gitignore").read_text().split())
    assert "YOUR-ORG" in (site / "requirements.txt").read_text() and "note: " in err
    code, out, _ = run_in_process("build", "-q", "--no-search", "--site", str(site))
    assert code == 0 and (site / "output/index.html").is_file()
    before = tree(site)
    code, _, err = run_in_process("init", str(site))
    assert code == 2 and "already holds a site" in err
    assert tree(site) == before


def test_init_pins_what_it_is_told_and_the_workflow_lints(tmp_path):
    spec = "builder @ git+https://github.com/example-newsroom/builder@v0.4.0"
    assert run_in_process("init", str(tmp_path), "--requirement", spec)[0] == 0
    assert spec in (tmp_path / "requirements.txt").read_text()
    workflow = tmp_path / ".github/workflows/pages.yml"
    steps = yaml.safe_load(workflow.read_text())["jobs"]["build"]["steps"]
    assert any("pip install -r requirements.txt" in s.get("run", "") for s in steps)
    assert any(s.get("uses", "").startswith("actions/cache/restore@") for s in steps)
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    linted = subprocess.run([actionlint, str(workflow)], cwd=tmp_path, capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_init_refuses_to_replace_any_file(tmp_path):
    (tmp_path / "requirements.txt").write_text("mine\n")
    code, _, err = run_in_process("init", str(tmp_path))
    assert code == 2 and "already has requirements.txt" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]
