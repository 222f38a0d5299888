"""The preview server under abuse: bursts of requests, malformed requests, hostile Host
headers, problem messages that look like HTML, clients that vanish, folders that appear
after start. A real ``builder serve`` subprocess on 127.0.0.1, real sockets, no mocks."""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import threading
import time
from urllib.parse import quote

import pytest

import test_serve
from conftest import article, write_files
from test_serve import SITE, Served, edit

served = test_serve.served  # the fixture: `builder serve` in a subprocess, stopped after the test

pytestmark = pytest.mark.slow  # real servers: seconds a test

TRACEBACK_SIGNS = ("Traceback", "BrokenPipeError", "ConnectionResetError", "Exception occurred")


# -- helpers ------------------------------------------------------------------

def address(server: Served) -> tuple[str, int]:
    host, port = server.origin.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def raw_request(server: Served, data: bytes, method: str = "GET", timeout: float = 30):
    """Send bytes as they are; return (status, headers with lower-case names, body)."""
    with socket.create_connection(address(server), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()


def request(server: Served, path: str, method: str = "GET", host: str | None = None,
            timeout: float = 30):
    """One request on its own connection; ``host`` replaces the Host header."""
    connection = http.client.HTTPConnection(*address(server), timeout=timeout)
    try:
        headers = {"Host": host} if host is not None else {}
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


def assert_plain_error(status: int, headers: dict, body: bytes, expected: int) -> None:
    assert status == expected, (status, body)
    assert headers["content-type"].startswith("text/plain"), headers
    assert int(headers["content-length"]) == len(body)
    assert 0 < len(body) < 300 and b"<" not in body, body


def assert_no_traceback(server: Served) -> None:
    log = "".join(server.log)
    assert not any(sign in log for sign in TRACEBACK_SIGNS), log


def wait_until(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def abort(sock: socket.socket) -> None:
    """Close with a TCP reset, like a tab that goes away mid-request."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# -- 1. many concurrent requests during a rebuild ------------------------------

def test_hundreds_of_concurrent_requests_during_a_rebuild_all_get_answers(served):
    files = dict(SITE)
    files.update({f"content/n{i}.md": article(f"Note {i}", "2025-05-01", body="Note body. " * 50)
                  for i in range(150)})
    server, site = served(files)
    status, _, page = request(server, "/2025/06/a/")
    assert status == 200
    # a settings change rebuilds the whole site: the requests below arrive during it, once
    # its staging folder is there (a fixed pause could end before the rebuild starts on a
    # busy machine), or after it on a machine quick enough to finish first
    edit(site / "site.toml", 'title = "Renamed Archive"\n')
    deadline, page_file = time.monotonic() + 30, site / "output" / "2025" / "06" / "a" / "index.html"
    while not any(name.startswith(".output.staging-") for name in os.listdir(site)):
        assert time.monotonic() < deadline, "the rebuild never started"
        if b"Renamed Archive" in page_file.read_bytes():  # read from disk: a request would wait
            break  # already rebuilt
        time.sleep(0.002)
    results: list = [None] * 300
    start = threading.Barrier(len(results))

    def fetch(index: int) -> None:
        start.wait()
        try:
            results[index] = request(server, "/2025/06/a/", timeout=20)
        except Exception as error:  # a timeout or a dropped connection
            results[index] = error

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [r for r in results if isinstance(r, Exception) or r[0] != 200]
    assert not failures, f"{len(failures)} of {len(results)} failed: {failures[:3]}"
    for _, headers, body in results:
        assert int(headers["content-length"]) == len(body) and body.rstrip().endswith(b"</html>")
    assert any(b"Renamed Archive" in body for _, _, body in results)
    assert_no_traceback(server)


def test_listen_backlog_is_at_least_128(make_site):
    """What the kernel was told (the queue that absorbs a burst of new connections)."""
    from builder.build import BuildOptions
    from builder.serve import LiveSite, make_server
    site = LiveSite(BuildOptions(site=make_site(SITE)), log=lambda *_: None)
    server = make_server(site, "127.0.0.1", 0)
    try:
        assert server.request_queue_size >= 128
    finally:
        server.server_close()
        site.cache.close()


# -- 2. malformed requests: 400, a short plain answer, no traceback --------------

@pytest.mark.parametrize("query", ["epoch=--1", "epoch=abc", "epoch=", "epoch=1.5", "epoch=0x10",
                                   "epoch=%20%201", "epoch=" + "9" * 40, "epoch=1&epoch=2",
                                   "epoch=" + quote("١٢"), "epoch=%ff", "epoch"])
def test_bad_epoch_is_a_400(served, query):
    server, _ = served(SITE)
    assert_plain_error(*request(server, f"/__builder/wait?{query}"), 400)
    # the server is still fine, and said nothing
    assert request(server, "/__builder/wait?epoch=-1")[0] == 200
    assert_no_traceback(server)


def test_good_epochs_still_answer(served):
    server, _ = served(SITE)
    for query in ("", "?epoch=-1", "?epoch=0&_=123", "?epoch=-5"):
        status, headers, body = request(server, "/__builder/wait" + query)
        assert status == 200 and headers["content-type"] == "application/json"
        assert set(json.loads(body)) == {"epoch", "problems"}


@pytest.mark.parametrize("data", [
    b"GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # bad percent-encoding
    b"GET /2025/%4 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # a truncated escape
    b"GET /%ff%fe.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # not UTF-8 once decoded
    b"GET /\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # raw bytes that are not UTF-8
    b"GET /index.html%00.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # NUL, encoded
    b"GET /a\x00b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # NUL, raw
    b"GET /a%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # control characters
    b"GET index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # not a path
    b"GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # the asterisk form is for OPTIONS
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/one\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET\r\n\r\n",
])
def test_malformed_requests_are_a_400(served, data):
    server, _ = served(SITE)
    assert_plain_error(*raw_request(server, data), 400)
    assert request(server, "/")[0] == 200
    assert_no_traceback(server)


def test_files_with_encoded_names_are_still_served(served):
    server, site = served(SITE)
    write_files(site / "output", {"café menu.txt": "menu"})
    status, _, body = request(server, "/caf%C3%A9%20menu.txt")
    assert status == 200 and body == b"menu"


# -- 3. 405 answers say what is allowed ------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
                                    "PROPFIND", "BREW"])
def test_other_methods_get_405_with_allow(served, method):
    server, _ = served(SITE)
    status, headers, body = request(server, "/", method=method)
    assert status == 405 and headers.get("allow") == "GET, HEAD", (status, headers)
    assert headers["content-type"].startswith("text/plain")
    assert_no_traceback(server)


def test_405_with_a_request_body_does_not_poison_the_connection(served):
    server, _ = served(SITE)
    connection = http.client.HTTPConnection(*address(server), timeout=10)
    try:
        connection.request("POST", "/", body=b"GET /evil HTTP/1.1\r\n\r\n")
        response = connection.getresponse()
        response.read()
        assert response.status == 405
        assert response.getheader("Connection") == "close"
    finally:
        connection.close()


# -- 4. problems reach the reload script as data ----------------------------------

HOSTILE = {**SITE, "content/a.md": article(
    "Alpha talks", "2025-06-13",
    countries='["<!--<script>", "</script><b>x</b>", "a & b", "line\\u2028sep\\u2029end"]',
    body="Alpha body.")}


def injected_script(page: str) -> str:
    start = page.index("<script>/* added by python -m builder serve")
    return page[start:page.index("</script>", start)]


def test_problem_text_cannot_end_or_corrupt_the_reload_script(served):
    server, site = served(SITE)
    epoch = server.epoch()
    edit(site / "content/a.md", HOSTILE["content/a.md"])
    state = server.wait_change(epoch)
    assert any("<!--<script>" in p for p in state["problems"]), state
    status, page, _ = server.get("/2025/06/a/")
    script = injected_script(page)
    for sign in ("<!--", "<script", "</", "<b>", "a & b", "\u2028", "\u2029"):
        assert sign not in script.removeprefix("<script>"), sign
    assert page.count("</script>") == page.count("<script")  # nothing left open, nothing closed early


def test_overlay_shows_hostile_problem_text_exactly(served, browser):
    server, site = served(SITE)
    page = browser.new_page()
    try:
        page.goto(server.origin + "/2025/06/a/")
        epoch = server.epoch()
        edit(site / "content/a.md", HOSTILE["content/a.md"])
        problems = server.wait_change(epoch)["problems"]
        assert any("</script><b>x</b>" in p for p in problems)
        page.reload()  # the page as served with the problems in its script
        page.wait_for_selector("#__builder-overlay", timeout=20000)
        text = page.eval_on_selector("#__builder-overlay", "box => box.textContent")
        assert text == ("Build failed: the page below is the last good build.\n\n"
                        + "\n".join(problems))
        assert "<!--<script>" in text and "</script><b>x</b>" in text
        assert page.locator("h1").inner_text() == "Alpha talks"  # the last good page is under it
        # the text was never parsed as HTML
        assert not page.evaluate("[...document.querySelectorAll('b')].some(b => b.textContent === 'x')")
    finally:
        page.close()


# -- 5. a first build that fails still shows its problems --------------------------

BROKEN = {**SITE, "content/a.md": "---\ntitle: [unclosed\ndate: 2025-06-13\n---\nBody\n"}


def test_failed_first_build_serves_a_page_with_the_problems(served):
    server, site = served(BROKEN)
    assert not (site / "output").exists()
    status, headers, body = request(server, "/")
    page = body.decode()
    assert status == 503 and headers["content-type"].startswith("text/html"), (status, page)
    assert "/__builder/wait" in page and "content/a.md:3: invalid YAML" in injected_script(page)
    for path in ("/2025/06/a/", "/2025/06/a/index.html", "/2025/06/a"):
        assert "content/a.md:3: invalid YAML" in request(server, path)[2].decode(), path
    assert request(server, "/static/style.css")[0] == 404  # not a page: no page for it
    epoch = server.epoch()
    edit(site / "content/a.md", SITE["content/a.md"])
    assert server.wait_change(epoch)["problems"] == []
    status, _, body = request(server, "/2025/06/a/")
    assert status == 200 and b"Alpha talks" in body


def test_failed_first_build_page_reloads_into_the_site(served, browser):
    server, site = served(BROKEN)
    page = browser.new_page()
    try:
        page.goto(server.origin + "/")
        page.wait_for_selector("#__builder-overlay", timeout=20000)
        assert "invalid YAML" in page.locator("#__builder-overlay").inner_text()
        edit(site / "content/a.md", SITE["content/a.md"])
        page.wait_for_function("() => document.body.textContent.includes('Alpha talks')", timeout=20000)
        assert page.locator("#__builder-overlay").count() == 0
    finally:
        page.close()


# -- 6. clients that go away are not errors ----------------------------------------

def test_clients_vanishing_print_nothing(served):
    server, site = served(SITE)
    epoch = server.epoch()
    polls = []
    for _ in range(5):  # tabs waiting for a reload…
        sock = socket.create_connection(address(server))
        sock.sendall(f"GET /__builder/wait?epoch={epoch} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        polls.append(sock)
    time.sleep(0.3)  # the server is waiting on them
    for sock in polls:  # …closed as the user leaves the page
        abort(sock)
    for _ in range(5):  # and page loads cut short, mid-request or mid-answer
        sock = socket.create_connection(address(server))
        sock.sendall(b"GET /2025/06/a/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        abort(sock)
        sock = socket.create_connection(address(server))
        sock.sendall(b"GET /2025/06/a/ HTTP/1.1\r\nHo")
        abort(sock)
    edit(site / "content/a.md", SITE["content/a.md"].replace("Alpha body.", "New body."))
    server.wait_change(epoch)  # the answers to the closed long-polls were written by now
    time.sleep(0.5)
    assert request(server, "/2025/06/a/")[0] == 200
    assert_no_traceback(server)


# -- 7. folders created after start are watched -------------------------------------

def page_has(server: Served, path: str, text: str):
    return lambda: text in request(server, path)[2].decode()


def test_templates_folder_created_after_start_is_watched(served):
    server, site = served(SITE)
    assert not (site / "templates").exists()
    write_files(site, {"templates/_footer.html": '<footer class="site-footer">Override one</footer>\n'})
    wait_until(page_has(server, "/2025/06/a/", "Override one"), what="the footer override")
    # files inside the new folder are watched too
    edit(site / "templates/_footer.html", '<footer class="site-footer">Override two</footer>\n')
    wait_until(page_has(server, "/2025/06/a/", "Override two"), what="the edited override")


def test_templates_folder_deleted_and_created_again_is_watched(served):
    import shutil
    server, site = served({**SITE, "templates/_footer.html": "<footer>First</footer>\n"})
    assert "First" in request(server, "/")[2].decode()
    shutil.rmtree(site / "templates")
    wait_until(lambda: "First" not in request(server, "/")[2].decode(), what="the theme's footer")
    write_files(site, {"templates/_footer.html": "<footer>Second</footer>\n"})
    wait_until(page_has(server, "/", "Second"), what="the new override")
    edit(site / "templates/_footer.html", "<footer>Third</footer>\n")
    wait_until(page_has(server, "/", "Third"), what="the edited override")


def test_static_folder_created_after_start_is_watched(served):
    server, site = served(SITE)
    assert not (site / "static").exists()
    write_files(site, {"static/new.txt": "hello\n"})
    wait_until(lambda: request(server, "/new.txt")[0] == 200, what="static/new.txt")
    assert request(server, "/new.txt")[2] == b"hello\n"
    write_files(site, {"static/img/deeper.txt": "deeper\n"})  # a new subfolder of it
    wait_until(lambda: request(server, "/img/deeper.txt")[0] == 200, what="static/img/deeper.txt")


def test_new_content_subfolder_is_watched(served):
    server, site = served(SITE)
    write_files(site, {"content/2025/july/c.md": article("Gamma talks", "2025-07-02")})
    wait_until(page_has(server, "/", "Gamma talks"), what="the new article")
    edit(site / "content/2025/july/c.md", article("Gamma edited", "2025-07-02"))
    wait_until(page_has(server, "/", "Gamma edited"), what="the edited article")


def test_content_folder_created_after_start_is_watched(served):
    server, site = served({"site.toml": SITE["site.toml"]})  # no content/: the first build fails
    assert "no such folder" in request(server, "/")[2].decode()  # the problem, on the placeholder page
    write_files(site, {"content/a.md": SITE["content/a.md"]})
    wait_until(page_has(server, "/2025/06/a/", "Alpha talks"), what="the first article")


# -- 8. DNS rebinding: only loopback names in Host -----------------------------------

def test_loopback_hosts_are_served(served):
    server, _ = served(SITE)
    port = address(server)[1]
    for host in ("localhost", f"localhost:{port}", "127.0.0.1", f"127.0.0.1:{port}", "[::1]",
                 f"[::1]:{port}", "app.localhost", f"a.b.localhost:{port}", "LocalHost", "localhost."):
        assert request(server, "/", host=host)[0] == 200, host


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost.evil.example",
                                  "127.0.0.1.nip.io", "evillocalhost", "192.168.1.20",
                                  "127.0.0.1@evil.example"])
def test_other_hosts_are_refused(served, host):
    server, _ = served(SITE)
    host = host.format(port=address(server)[1])
    for path in ("/", "/2025/06/a/", "/__builder/wait?epoch=-1", "/static/style.css"):
        status, headers, body = request(server, path, host=host)
        assert_plain_error(status, headers, body, 403)
        assert host.encode() in body and b"--expose" in body
    assert_no_traceback(server)


def test_missing_or_repeated_host_is_a_400(served):
    server, _ = served(SITE)
    assert_plain_error(*raw_request(server, b"GET / HTTP/1.1\r\n\r\n"), 400)
    assert_plain_error(*raw_request(
        server, b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n"), 400)
    # HTTP/1.0 does not need a Host
    status, _, body = raw_request(server, b"GET / HTTP/1.0\r\n\r\n")
    assert status == 200 and b"Alpha talks" in body


def test_expose_lifts_the_host_check(served):
    server, _ = served(SITE, "--expose")
    status, _, body = request(server, "/2025/06/a/", host="preview.example:8000")
    assert status == 200 and b"Alpha talks" in body


def test_absolute_form_targets_are_checked_like_host(served):
    """RFC 9112 3.2.2: a server accepts absolute-form and takes the host from it, not from Host."""
    server, _ = served(SITE)
    port = address(server)[1]
    status, _, body = raw_request(
        server, f"GET http://localhost:{port}/2025/06/a/ HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    assert status == 200 and b"Alpha talks" in body
    status, headers, body = raw_request(
        server, b"GET http://evil.example/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert_plain_error(status, headers, body, 403)
    assert b"evil.example" in body
