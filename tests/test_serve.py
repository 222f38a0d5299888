"""The preview server, run for real: a subprocess on a free port serving a temporary site."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, article, counts, write_files

pytestmark = pytest.mark.slow  # real servers, real git and actionlint: seconds a test


class Served:
    """``python -m builder serve`` in a subprocess; its stderr collected line by line."""

    def __init__(self, site: Path, *args: str):
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "builder", "serve", "--site", str(site), "--port", "0", *args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        match = self.wait_for_line(r"at (http://127\.0\.0\.1:\d+)(/\S*) ")
        self.origin, self.base = match.group(1), match.group(2)

    def _read(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}; log:\n{''.join(self.log)}")

    def get(self, path: str, method: str = "GET") -> tuple[int, str, dict]:
        request = urllib.request.Request(self.origin + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def epoch(self) -> int:
        return json.loads(self.get("/__builder/wait?epoch=-1")[1])["epoch"]

    def wait_change(self, epoch: int) -> dict:
        """Block until the server reports a new epoch (the reload signal)."""
        status, body, _ = self.get(f"/__builder/wait?epoch={epoch}")
        state = json.loads(body)
        assert state["epoch"] != epoch, "no reload signal"
        return state

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def served(make_site):
    servers = []

    def start(files: dict, *args: str) -> tuple[Served, Path]:
        site = make_site(files)
        server = Served(site, *args)
        servers.append(server)
        return server, site

    yield start
    for server in servers:
        server.stop()


SITE = {
    "site.toml": 'title = "Test Archive"\n',
    "content/a.md": article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]",
                            body="Alpha body."),
    "content/b.md": article("Beta talks", "2025-06-14", countries="[Japan]", topics="[Trade]",
                            related="[a]", body="Beta body."),
}


def edit(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_edit_sends_reload_and_changes_every_page(served):
    server, site = served(SITE)
    status, page, headers = server.get("/2025/06/a/")
    assert status == 200 and "Alpha talks" in page and "/__builder/wait" in page
    epoch = server.epoch()
    edit(site / "content/a.md", article("Alpha deal signed", "2025-06-13", countries="[Japan]",
                                        topics="[Trade]", body="New alpha body."))
    server.wait_change(epoch)
    assert "New alpha body." in server.get("/2025/06/a/")[1]
    # the new title reaches the listing pages and the other article's related list
    for path in ("/", "/countries/japan/", "/topics/trade/", "/2025/06/", "/2025/06/b/"):
        body = server.get(path)[1]
        assert "Alpha deal signed" in body and "Alpha talks" not in body, path
    # the reload script is served, never written
    assert "/__builder/wait" not in (site / "output/2025/06/a/index.html").read_text()


def test_broken_file_shows_overlay_then_clears(served):
    server, site = served(SITE)
    epoch = server.epoch()
    edit(site / "content/a.md", "---\ntitle: [unclosed\ndate: 2025-06-13\n---\nBody\n")
    state = server.wait_change(epoch)
    assert any(p.startswith("content/a.md:3: invalid YAML") for p in state["problems"]), state
    # the last good page is still served, carrying the problems for the overlay
    status, page, _ = server.get("/2025/06/a/")
    assert status == 200 and "Alpha talks" in page and "content/a.md:3: invalid YAML" in page
    edit(site / "content/a.md", SITE["content/a.md"].replace("Alpha body.", "Fixed body."))
    state = server.wait_change(state["epoch"])
    assert state["problems"] == []
    assert "Fixed body." in server.get("/2025/06/a/")[1]


def test_delete_and_rename_leave_no_stale_pages(served):
    server, site = served(SITE)
    epoch = server.epoch()
    (site / "content/b.md").unlink()
    epoch = server.wait_change(epoch)["epoch"]
    assert server.get("/2025/06/b/")[0] == 404
    assert "Beta talks" not in server.get("/")[1]
    assert not (site / "output/2025/06/b").exists()
    edit(site / "content/a.md", article("Alpha talks", "2025-06-13", slug="alpha-renamed",
                                        countries="[Japan]", body="Alpha body."))
    server.wait_change(epoch)
    assert server.get("/2025/06/a/")[0] == 404
    assert server.get("/2025/06/alpha-renamed/")[0] == 200
    assert not (site / "output/2025/06/a").exists()


def test_burst_of_saves_gives_one_rebuild(served):
    files = dict(SITE)
    files.update({f"content/n{i}.md": article(f"Note {i}", "2025-05-01") for i in range(5)})
    server, site = served(files)
    before = sum("rebuilt in" in line for line in server.log)
    epoch = server.epoch()
    for i in range(50):
        write_files(site, {f"content/burst/x{i}.md": article(f"Burst {i}", "2025-07-01")})
    server.wait_change(epoch)
    time.sleep(1.0)  # any further rebuild would have started by now
    after = sum("rebuilt in" in line for line in server.log)
    assert after - before == 1, server.log
    assert "Burst 49" in server.get("/2025/07/")[1]


def test_only_files_under_the_site_are_served(served, tmp_path):
    server, site = served(SITE)
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, site / "output" / "link.txt")
    assert server.get("/link.txt")[0] == 403
    for path in ("/../site.toml", "/%2e%2e/site.toml", "/%2e%2e%2fsite.toml", "/..%2f..%2fetc/passwd",
                 "/2025/%2e%2e/%2e%2e/%2e%2e/site.toml"):
        status, body, _ = server.get(path)
        assert status in (403, 404), path
        assert "Test Archive" not in body or status == 404
    assert server.get("/", method="POST")[0] == 405
    assert server.get("/", method="DELETE")[0] == 405
    assert server.get("/", method="HEAD")[0] == 200


def test_mime_types(served):
    server, site = served(SITE)
    write_files(site / "output", {"x.wasm": b"\0asm", "y.pf_fragment": b"x", "z.js": "1"})
    assert server.get("/x.wasm")[2]["Content-Type"] == "application/wasm"
    assert server.get("/z.js")[2]["Content-Type"].startswith("text/javascript")
    assert server.get("/y.pf_fragment")[2]["Content-Type"] == "application/octet-stream"
    assert server.get("/static/style.css")[2]["Content-Type"].startswith("text/css")


def test_subpath_preview_and_root_redirect(served):
    server, site = served({**SITE, "site.toml": 'title = "T"\nbase_url = "https://user.github.io/archive/"\n'})
    assert server.base == "/archive/"
    status, page, _ = server.get("/archive/2025/06/a/")
    assert status == 200 and 'href="/archive/countries/japan/"' in page
    assert server.get("/")[0] == 200  # followed the redirect to /archive/
    assert server.get("/2025/06/a/")[0] == 404


def test_port_in_use_moves_to_next_free_port(make_site):
    import socket
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    site = make_site(SITE)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = subprocess.Popen([sys.executable, "-m", "builder", "serve", "--site", str(site),
                                "--port", str(port)], stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "serving" in line:
                break
        text = "".join(lines)
        assert f"port {port} is in use" in text and f":{port + 1}/" in text or f":{port}/" not in text
    finally:
        process.terminate()
        process.wait(timeout=30)
        holder.close()


def test_non_loopback_host_needs_explicit_flag(make_site, cli):
    site = make_site(SITE)
    result = cli("serve", "--site", str(site), "--host", "0.0.0.0", timeout=60)
    assert result.returncode == 2 and "--expose" in result.stderr


def test_open_tab_reloads_by_itself(served, browser):
    server, site = served(SITE)
    page = browser.new_page()
    page.goto(server.origin + "/2025/06/a/")
    assert page.locator("h1").inner_text() == "Alpha talks"
    page.evaluate("window.__marker = 1")
    edit(site / "content/a.md", article("Alpha reloaded", "2025-06-13", body="Reloaded."))
    page.wait_for_function("() => document.querySelector('h1').textContent === 'Alpha reloaded'",
                           timeout=20000)
    assert page.evaluate("window.__marker") is None  # a real reload, not a DOM patch
    # a broken save shows the overlay over the last good page
    edit(site / "content/a.md", "---\ntitle: Broken\n---\n")
    page.wait_for_selector("#__builder-overlay", timeout=20000)
    assert "missing 'date'" in page.locator("#__builder-overlay").inner_text()
    page.close()


def test_search_index_follows_edits_without_delaying_the_reload(served):
    server, site = served(SITE)
    server.wait_for_line(r"search index refreshed")
    assert server.get("/pagefind/pagefind.js")[0] == 200
    epoch = server.epoch()
    edit(site / "content/a.md", article("Alpha talks", "2025-06-13", countries="[Japan]",
                                        topics="[Trade]", body="Zanzibarian negotiators."))
    server.wait_change(epoch)
    # the reload signal comes first (pages), then the index catches up in the background
    log_at_reload = "".join(server.log)
    server.wait_for_line(r"search index refreshed")
    from builder.pagefind_files import unpack
    fragments = [unpack(p) for p in (site / "output" / "pagefind").rglob("*.pf_fragment")]
    assert any(b"Zanzibarian" in data for data in fragments)  # the edit is searchable
    assert log_at_reload.count("search index refreshed") == 1


def test_ctrl_c_stops_cleanly_and_saves_the_cache(served):
    import signal
    server, site = served(SITE)
    server.wait_for_line(r"search index refreshed")
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0
    assert any("stopping" in line for line in server.log)
    assert (site / ".cache" / "state.pickle").is_file()  # each rebuild wrote the cache
    # and it matches the output: the next build has nothing to do
    from conftest import run_cli
    assert counts(run_cli("build", "--site", str(site), check=True).stdout)["written"] == 0


def test_serve_on_a_built_site_patches_edits_and_keeps_search_current(make_site):
    """serve started on a site a `build` left current: the first build is a no-op and the
    index is not made again (it is current), edits are patched, and the index follows them."""
    from conftest import run_cli
    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    server = Served(site)
    try:
        assert "0 written" in "".join(server.log)  # nothing to do at start
        time.sleep(1.5)  # the builder loop looks for a pending index every 0.2 s
        assert not any("search index" in line for line in server.log), server.log
        epoch = server.epoch()
        edit(site / "content/b.md", article("Beta talks", "2025-06-14", countries="[Japan]", topics="[Trade]",
                                            related="[a]", body="Quokkaesque diplomacy."))
        server.wait_change(epoch)
        rebuilt = server.wait_for_line(r"rebuilt in .*").group(0)
        assert "whole site" not in rebuilt, rebuilt  # patched
        server.wait_for_line(r"search index refreshed")
        from builder.pagefind_files import unpack
        fragments = [unpack(p) for p in (site / "output" / "pagefind").rglob("*.pf_fragment")]
        assert any(b"Quokkaesque" in data for data in fragments)
    finally:
        server.stop()
    assert counts(run_cli("build", "--site", str(site), check=True).stdout)["written"] == 0
