"""Shared fixtures: tiny sites written from a dict of files, the CLI run for real,
the benchmark corpus generator, and a real browser (Debian chromium via Playwright)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# "Now" for every build of the tests (the reproducible-builds convention the builder reads):
# after every generated article's date, so none is held back as scheduled. The lifecycle
# tests set their own.
os.environ.setdefault("SOURCE_DATE_EPOCH", "1893456000")  # 2030-01-01T00:00:00Z
GEN_CORPUS = REPO / "benchmarks" / "gen_corpus.py"
sys.path.insert(0, str(REPO))
# A shell that starts the suite in the background (`pytest &` in a script) ignores SIGINT for
# it, and every process it starts inherits that: `serve` and `build` would then shrug off the
# Ctrl-C the tests send. Ctrl-C is live for them, as on a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


# Fixtures that generate an archive of hundreds of articles: their tests are in the slow tier.
CORPUS_FIXTURES = {"corpus", "corpus_copy", "generated_site"}


def pytest_collection_modifyitems(items) -> None:
    """Tiers: ``-m "not browser and not slow"`` is the fast one (see the README)."""
    for item in items:
        names = set(item.fixturenames)
        if names & {"browser", "vnu_report"}:  # the tools .ci/setup installs: Chromium, Java
            item.add_marker(pytest.mark.browser)
        if names & CORPUS_FIXTURES:
            item.add_marker(pytest.mark.slow)


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root``; text is dedented."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data).lstrip("\n"), encoding="utf-8")
    return root


def article(title: str = "An article", date: str = "2025-06-13", body: str = "Body text.", **fields) -> str:
    """Source text of an article with front matter (values given as YAML text)."""
    lines = ["---", f"title: {title}", f"date: {date}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join(lines + ["---", "", body, ""])


@pytest.fixture
def make_site(tmp_path):
    """Write a site folder from a dict of files and return its path."""
    def make(files: dict[str, str | bytes], name: str = "site") -> Path:
        return write_files(tmp_path / name, files)
    return make


def run_cli(*args: str, cwd: Path | None = None, check: bool = False, timeout: float = 600,
            process: bool = False) -> subprocess.CompletedProcess:
    """``builder ARGS`` with this checkout's code: in this process (``cli.main`` with its
    output captured: no interpreter start-up per call), or as a real ``python -m builder``
    process with ``process=True`` (signals, terminals, environment variables)."""
    if process:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        result = subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd or REPO, env=env,
                                capture_output=True, text=True, timeout=timeout)
    else:
        result = _run_in_process(list(args), cwd or REPO)
    if check and result.returncode != 0:
        raise AssertionError(f"builder {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def _run_in_process(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    import io

    from builder import cli
    from builder.console import Console
    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        code = cli.main(args, console=Console(out=out, err=err))
    except SystemExit as exit_:  # --help, --version, usage errors from argparse
        code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(["builder", *args], code, out.getvalue(), err.getvalue())


SUMMARY = re.compile(r"^built (?P<pages>[\d,]+) pages? from (?P<articles>[\d,]+) articles? in [\d.]+s "
                     r"\((?P<rendered>[\d,]+) rendered, (?P<written>[\d,]+) written, "
                     r"(?P<unchanged>[\d,]+) unchanged, (?P<removed>[\d,]+) removed; ")
CHECKED = re.compile(r"^ok: (?P<articles>[\d,]+) articles?, (?P<pages>[\d,]+) pages?, no problems(; |$)")


def counts(output: str) -> dict[str, int]:
    """The figures of a build summary (``built …``) or a check (``ok: …``), as numbers."""
    match = SUMMARY.match(output) or CHECKED.match(output.strip())
    assert match, f"not a build or check summary: {output!r}"
    return {name: int(value.replace(",", "")) for name, value in match.groupdict().items()}


STEP_LINE = re.compile(r"^  [a-z ]+: \d+\.\d\ds( \(.*\))?$")


def messages(stderr: str) -> list[str]:
    """The lines of a command's stderr without the step lines a build prints as it goes."""
    return [line for line in stderr.splitlines() if not STEP_LINE.match(line)]


@pytest.fixture
def cli():
    return run_cli


def generate_corpus(count: int, out: Path, seed: int = 1) -> Path:
    """A site folder whose content/ is a generated archive of ``count`` articles."""
    subprocess.run([sys.executable, str(GEN_CORPUS), "--articles", str(count), "--out",
                    str(out / "content"), "--seed", str(seed)], check=True, capture_output=True)
    return out


CORPUS_SIZE = 500


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The one generated archive the tests share (500 articles): read it, never write into it
    (build with --out elsewhere, or take ``corpus_copy``)."""
    return generate_corpus(CORPUS_SIZE, tmp_path_factory.mktemp("corpus") / "site")


@pytest.fixture
def corpus_copy(corpus, tmp_path) -> Path:
    """A copy of the shared archive that a test may change."""
    return Path(shutil.copytree(corpus, tmp_path / "site", ignore=shutil.ignore_patterns("output", ".cache")))


def chromium_path() -> str:
    """Debian's chromium; its absence is a failure, never a skip (CI installs it)."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"),
                      "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("chromium not found: install it (apt-get install -y --no-install-recommends "
                "chromium) or set CHROMIUM_PATH; .ci/run installs it")


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """A headless Debian chromium driven by Playwright (one per test session)."""
    from playwright.sync_api import sync_playwright
    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@contextlib.contextmanager
def serve_static(folder: Path):
    """A real static HTTP server for ``folder`` on a free port of 127.0.0.1; yields the origin."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def page(browser):
    """A fresh browser page that records every failed request (a favicon aside) and script
    error in ``page.failed`` (the search tests' page; a module may define its own)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.failed = []
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and page.failed.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda error: page.failed.append(f"script error: {error}"))
    yield page
    context.close()
