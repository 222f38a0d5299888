"""Serve: build, then serve the output on 127.0.0.1 and rebuild on every change.

Serve is build in a loop (one code path): a watchdog observer only marks
the site dirty; a builder thread waits for the burst of changes to settle,
runs the same ``build()`` with one cache kept open between rebuilds (most
edits are then patched in: builder.patch), and bumps an epoch.
Pages long-poll ``/__builder/wait?epoch=N`` and reload when the epoch moves;
when the last build failed they show its problems in an overlay over the
last good page. The reload script is added to HTML as it is served and is
never written to ``output/``. Requests that arrive during a rebuild wait
for it, so a half-built site is never served.

The HTTP side answers GET and HEAD of files under the output folder only,
to Host names of this machine only (a page elsewhere must not read the
preview through DNS rebinding) unless ``--expose`` was given; anything
else gets a short plain-text error, and no traceback reaches the terminal.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlsplit

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from builder.build import BuildOptions, build
from builder.options import cache_key
from builder.cache import Cache
from builder.clock import now
from builder.config import CONFIG_FILE, load_config
from builder.hosting import content_type
from builder.problems import BuildFailed

QUIET_SECONDS = 0.05  # a burst of saves ends after this long without events
MAX_WAIT_SECONDS = 25  # long-poll answer time when nothing happens
CHANGE_EVENTS = {"created", "modified", "deleted", "moved", "closed"}
IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part", ".crdownload")

SITE_FOLDERS = ("content", "templates", "static")  # watched whenever they exist, even if made later

WAIT_PATH = "/__builder/wait"
ALLOWED_METHODS = "GET, HEAD"
PLAIN = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
CLIENT_GONE = (ConnectionError, TimeoutError)  # broken pipe, reset, aborted; a socket gone quiet
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
HOST_VALUE = re.compile(r"(?P<name>\[[0-9a-f:.]*\]|[^\[\]:@/\\\s]*)(?::[0-9]{1,5})?")
EPOCH = re.compile(r"-?[0-9]{1,15}")  # an epoch the page was given, or -1; never a huge number
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters that could end a <script> or open a comment in it (``</script>``, ``<!--``),
# and line breaks older JavaScript does not allow in a string: written as JSON escapes.
SCRIPT_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}

RELOAD_SCRIPT = """<script>/* added by python -m builder serve; never written to output/ */
(function () {
  var epoch = %(epoch)d;
  function overlay(problems) {
    var box = document.getElementById("__builder-overlay");
    if (!problems.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "__builder-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;padding:2rem;" +
        "background:rgba(20,0,0,.92);color:#fff;font:14px/1.5 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "Build failed: the page below is the last good build.\\n\\n" + problems.join("\\n");
  }
  function wait() {
    fetch("%(wait)s?epoch=" + epoch, {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (state) {
        if (state.epoch !== epoch && !state.problems.length) { location.reload(); return; }
        epoch = state.epoch; overlay(state.problems); wait();
      }, function () { setTimeout(wait, 1000); });
  }
  overlay(%(problems)s);
  wait();
})();
</script>"""

# Served for a page while the output folder has no site yet (the first build failed): the
# reload script on it shows the problems and reloads once a build succeeds.
NOT_BUILT_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not built yet</title></head>
<body><p>Nothing has been built yet. This page reloads by itself when a build succeeds.</p></body>
</html>
"""


def script_data(value) -> str:
    """``value`` as JSON that cannot end or corrupt the <script> it is written into."""
    return json.dumps(value).translate(SCRIPT_ESCAPES)


def reload_script(epoch: int, problems: list[str]) -> bytes:
    """The script added to HTML as served: the overlay of ``problems``, then the long-poll."""
    return (RELOAD_SCRIPT % {"epoch": epoch, "wait": WAIT_PATH,
                             "problems": script_data(problems)}).encode()


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    poll: bool = False  # use the polling observer (network mounts, some containers)
    open_host: bool = False  # --bind-all style explicit consent to non-loopback hosts


class LiveSite:
    """The site being served: builds it, remembers the last outcome, wakes waiting pages."""

    def __init__(self, options: BuildOptions, log=print):
        # Pages first, search index after: the reload must not wait for Pagefind.
        self.options = replace(options, index_search=False)
        self.log = log
        config = load_config(options.site, options.base_url)
        self.config = config
        self.output = (options.out.resolve() if options.out else config.output_dir)
        self.cache = Cache.open(config.cache_dir, cache_key(config))
        self.condition = threading.Condition()
        self.epoch = 0
        self.building = False
        self.problems: list[str] = []
        self.dirty = threading.Event()
        self.last_change = 0.0
        self.stopped = threading.Event()
        self.changed_path = ""  # the latest change seen (shown in the log)
        self.search_pending = False  # a rebuild changed pages; the index is behind

    # -- building ---------------------------------------------------------
    def rebuild(self) -> None:
        """One build; never raises (the server must outlive bad input)."""
        with self.condition:
            self.building = True
        started = time.perf_counter()
        problems: list[str] = []
        changed = True
        try:
            self.config = load_config(self.options.site, self.options.base_url)
            result = build(self.options, cache=self.cache)
            changed = bool(result.written or result.removed)
            cause = f" after a change to {self.changed_path}" if self.changed_path else ""
            how = f" (whole site: {result.full_because})" if result.full_because else ""
            self.log(f"rebuilt in {time.perf_counter() - started:.2f}s{cause}: "
                     f"{result.written} written, {result.removed} removed{how}")
            for note in result.notes:
                self.log(f"note: {note}")
        except BuildFailed as failed:
            problems = [str(p) for p in failed.problems]
            self.log("build failed:\n" + "\n".join(problems))
        except Exception as error:  # a bug must show up in the overlay, not kill the server
            problems = [f"internal error: {type(error).__name__}: {error}",
                        *traceback.format_exc().splitlines()]
            self.log("\n".join(problems))
        with self.condition:
            self.building = False
            if changed or problems != self.problems:
                self.epoch += 1
            self.problems = problems
            self.condition.notify_all()
        state = self.cache.state
        self.search_pending = (not problems and self.options.search and self.config.search.enabled
                               and state is not None and state.search_index.behind)

    @contextlib.contextmanager
    def output_changing(self):
        """Requests wait while files move (the search index being applied)."""
        with self.condition:
            self.building = True
        try:
            yield
        finally:
            with self.condition:
                self.building = False
                self.condition.notify_all()

    def refresh_search(self) -> None:
        """Bring the search index up to the pages: the same build, this time indexing
        (unchanged pages are not rendered again); requests wait only while files move."""
        self.search_pending = False
        started = time.perf_counter()
        try:
            result = build(replace(self.options, index_search=True), cache=self.cache,
                           guard=self.output_changing())
            self.log(f"search index refreshed in {time.perf_counter() - started:.2f}s "
                     f"({result.written} files changed, {result.removed} removed)")
        except Exception as error:  # BuildFailed, ToolFailed or a bug: tell, keep serving
            self.log(f"search index not refreshed: {error}")

    def scheduled_article_due(self) -> bool:
        state = self.cache.state
        return bool(state and state.next_due and not self.options.future and now().isoformat() >= state.next_due)

    def mark_dirty(self, path: str = "") -> None:
        self.last_change = time.monotonic()
        self.changed_path = path
        self.dirty.set()

    def run(self) -> None:
        """The builder loop: wait for changes, let the burst settle, rebuild."""
        while not self.stopped.is_set():
            if not self.dirty.wait(0.2):
                if self.scheduled_article_due():
                    self.mark_dirty("the clock (a scheduled article is due)")
                elif self.search_pending:
                    self.refresh_search()
                continue
            while time.monotonic() - self.last_change < QUIET_SECONDS:
                time.sleep(QUIET_SECONDS / 2)
            self.dirty.clear()
            self.rebuild()

    # -- serving ----------------------------------------------------------
    def wait_until_built(self) -> None:
        with self.condition:
            self.condition.wait_for(lambda: not self.building)

    def wait_for_epoch(self, seen: int, timeout: float = MAX_WAIT_SECONDS) -> tuple[int, list[str]]:
        with self.condition:
            self.condition.wait_for(lambda: (self.epoch != seen and not self.building)
                                    or self.stopped.is_set(), timeout)
            return self.epoch, list(self.problems)


class ChangeHandler(FileSystemEventHandler):
    """Marks the site dirty on any real change to a watched file, and keeps a recursive
    watch on each site folder (content/, templates/, static/) while it exists: one created
    after serve started, or deleted and created again, is watched from then on."""

    def __init__(self, site: LiveSite, ignored: tuple[Path, ...], observer: BaseObserver | None = None):
        self.site = site
        self.ignored = tuple(str(p) for p in ignored)
        self.root = str(site.config.root)
        self.observer = observer
        self.watches: dict[str, ObservedWatch] = {}

    def watch(self, folder: str | Path, recursive: bool = True) -> None:
        """Watch ``folder`` afresh (a folder deleted and made again is a new one to inotify)."""
        folder = str(folder)
        self.unwatch(folder)
        if self.observer is None:
            return
        try:
            self.watches[folder] = self.observer.schedule(self, folder, recursive=recursive)
        except OSError:  # gone again already: its deletion is on its way as an event
            pass

    def unwatch(self, folder: str) -> None:
        watch = self.watches.pop(folder, None)
        if watch is not None and self.observer is not None:
            with contextlib.suppress(KeyError):  # the observer may have dropped it already
                self.observer.unschedule(watch)

    def on_any_event(self, event) -> None:
        if event.event_type not in CHANGE_EVENTS:
            return
        paths = [os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        self.follow_site_folders(event.event_type, paths)
        if event.is_directory and event.event_type in ("modified", "closed"):
            return  # a folder's own timestamps: its files' events tell what changed
        for path in paths:
            if self.relevant(path):
                # after follow_site_folders: the rebuild this asks for sees every file the
                # new watch may have missed while it was being set up
                self.site.mark_dirty(f"{path} ({event.event_type})")
                return

    def follow_site_folders(self, event_type: str, paths: list[str]) -> None:
        """A site folder that appeared (created, moved in) gets a watch; a gone one loses it."""
        for path in paths:
            if not self.is_site_folder(path):
                continue
            if not os.path.isdir(path):
                self.unwatch(path)
            elif event_type in ("created", "moved"):
                self.watch(path)

    def is_site_folder(self, path: str) -> bool:
        return os.path.dirname(path) == self.root and os.path.basename(path) in SITE_FOLDERS

    def relevant(self, path: str) -> bool:
        name = os.path.basename(path)
        if os.path.dirname(path) == self.root and name not in (CONFIG_FILE, *SITE_FOLDERS):
            return False  # the site folder itself is watched for site.toml and its folders only
        if path.startswith(self.ignored) or name.endswith(IGNORED_SUFFIXES) or name.startswith(".#"):
            return False
        return True


def watched_paths(config) -> list[tuple[Path, bool]]:
    """(folder, recursive) pairs: the site folder itself (site.toml, and site folders that
    appear later), each site folder that exists, and the theme's templates."""
    paths = [(config.root, False)]
    for folder in (*(config.root / name for name in SITE_FOLDERS), *config.template_dirs):
        if folder.is_dir() and (folder, True) not in paths:
            paths.append((folder, True))
    return paths


class BadRequest(Exception):
    """A request that makes no sense (its message is the answer's body, with a 400)."""


def split_target(target: str) -> tuple[str | None, str, str]:
    """(host, path, query) of a request target: the host only for absolute-form
    (``http://host/path``, which servers must accept: RFC 9112 3.2.2), the path decoded."""
    host = None
    if target[:8].lower().startswith(("http://", "https://")):
        try:
            parts = urlsplit(target)
        except ValueError:
            raise BadRequest("bad request target") from None
        host, target = parts.netloc, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/"):
        raise BadRequest("the request target must be a path starting with /")
    raw_path, _, query = target.partition("?")
    return host, decode_path(raw_path), query


def decode_path(raw: str) -> str:
    """The percent-decoded UTF-8 path, with a single leading slash; BadRequest when the
    escapes are broken, the bytes are not UTF-8, or it holds a control character (NUL…)."""
    if BAD_ESCAPE.search(raw):
        raise BadRequest("bad percent-encoding in the path")
    try:  # http.server read the request line as Latin-1: these are the bytes sent
        path = unquote_to_bytes(raw.encode("latin-1")).decode("utf-8")
    except UnicodeError:
        raise BadRequest("the path is not UTF-8") from None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise BadRequest("control character in the path")
    return "/" + path.lstrip("/")  # never //host: a redirect to it would leave the site


def parse_epoch(query: str) -> int:
    """The epoch in ``?epoch=N`` (-1, "answer now", when absent); BadRequest unless it is
    one integer of at most 15 digits."""
    try:
        fields = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query),
                           errors="strict", max_num_fields=20)
    except ValueError:  # bad fields, too many, or not UTF-8
        raise BadRequest("bad query string") from None
    values = [value for name, value in fields if name == "epoch"]
    if len(values) > 1:
        raise BadRequest("epoch given more than once")
    if values and not EPOCH.fullmatch(values[0]):
        raise BadRequest("epoch must be an integer")
    return int(values[0]) if values else -1


def looks_like_page(path: str) -> bool:
    """A request for HTML: a folder, an .html file, or a name without an extension."""
    name = path.rsplit("/", 1)[-1]
    return not name or name.endswith(".html") or "." not in name


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def shown(text: str, limit: int = 100) -> str:
    """``text`` fit to quote in an answer: printable, and short."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


class Handler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of files under the output folder, with the reload script added to HTML.
    Errors are short plain-text answers; nothing raised in here reaches the terminal."""

    site: LiveSite  # set on the subclass made by make_server
    server: Server
    server_version = "builder-serve"
    protocol_version = "HTTP/1.1"
    timeout = 120  # seconds a connection may sit idle or stalled before its thread lets it go
    answered = False  # a status line has been sent for the current request

    def log_message(self, format, *args) -> None:  # quiet: the terminal is for build news
        pass

    def do_GET(self) -> None:
        self.answer(send_body=True)

    def do_HEAD(self) -> None:
        self.answer(send_body=False)

    def refuse(self) -> None:
        self.send_error(405, "only GET and HEAD")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse

    def __getattr__(self, name: str):
        # http.server answers 501 to a method without a do_* method; any method but GET and
        # HEAD is refused the same way here: 405 with Allow.
        if name.startswith("do_"):
            return self.refuse
        raise AttributeError(name)

    def parse_request(self) -> bool:
        """http.server's parsing, but HTTP/0.9 refused: no browser speaks it, and its
        answers would have no status line."""
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            self.send_error(400, "HTTP/0.9 is not supported")
            return False
        return True

    def answer(self, send_body: bool) -> None:
        """Check the request, then respond. A client that goes away is normal; a bug is one
        line in the log and a 500, never a traceback."""
        self.answered = False
        if "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
            self.close_connection = True  # a body left unread would be read as the next request
        try:
            host, path, query = split_target(self.path)
            refusal = self.host_refusal(host)
            if refusal:
                return self.send_error(*refusal)
            self.respond(path, query, send_body)
        except BadRequest as bad:
            self.send_error(400, str(bad))
        except CLIENT_GONE:
            self.close_connection = True
        except Exception as error:
            self.close_connection = True
            self.site.log(f"internal error answering {self.command} {shown(self.path)}: "
                          f"{type(error).__name__}: {error}")
            if not self.answered:
                self.send_error(500, "internal error; the terminal running serve says more")

    def host_refusal(self, target_host: str | None) -> tuple[int, str] | None:
        """(status, message) when the Host is missing, repeated or not this machine; else None.

        A page on another site can point its own name at 127.0.0.1 (DNS rebinding) and
        read the preview as same-origin: its requests carry that name in Host."""
        values = self.headers.get_all("Host") or []
        if len(values) > 1:
            return 400, "more than one Host header"
        if not values and self.request_version >= "HTTP/1.1":
            return 400, "an HTTP/1.1 request needs a Host header"
        host = target_host if target_host is not None else (values[0] if values else None)
        if host is None or self.server.open_host or self.server.host_allowed(host):
            return None
        return 403, (f"Host '{shown(host)}' is not a name of this machine (localhost, 127.0.0.1); "
                     "serve with --expose to allow other names")

    def respond(self, path: str, query: str, send_body: bool) -> None:
        """Answer a checked request: the long-poll, or a file under the output folder."""
        if path == WAIT_PATH:
            epoch, problems = self.site.wait_for_epoch(parse_epoch(query))
            return self.send(200, json.dumps({"epoch": epoch, "problems": problems}).encode(),
                             "application/json", send_body)
        base = self.site.config.base_path
        if base != "/" and path == "/":
            return self.redirect(base)
        self.site.wait_until_built()
        if not path.startswith(base):
            return self.not_found(path, send_body)
        pieces = [p for p in path[len(base):].split("/") if p not in ("", ".")]
        if ".." in pieces:
            return self.send(403, b"forbidden\n", PLAIN, send_body)
        root = os.path.realpath(self.site.output)
        real = os.path.realpath(os.path.join(root, *pieces))
        if inside(real, root) and os.path.isdir(real):
            if not path.endswith("/"):
                return self.redirect(quote(path + "/"))
            real = os.path.realpath(os.path.join(real, "index.html"))
        if not inside(real, root):  # a symlink out of the output folder
            return self.send(403, b"forbidden\n", PLAIN, send_body)
        if not os.path.isfile(real):
            return self.not_found(path, send_body)
        with open(real, "rb") as handle:
            data = handle.read()
        kind = content_type(real)
        if kind.startswith("text/html"):
            data = self.with_reload_script(data)
        self.send(200, data, kind, send_body)

    def with_reload_script(self, data: bytes) -> bytes:
        with self.site.condition:
            epoch, problems = self.site.epoch, list(self.site.problems)
        script = reload_script(epoch, problems)
        marker = data.rfind(b"</body>")
        if marker < 0:
            return data + script
        return data[:marker] + script + data[marker:]

    def not_found(self, path: str, send_body: bool) -> None:
        """The site's 404 page; or, while nothing is built, a page that shows the problems."""
        output = self.site.output
        if not (output / "index.html").is_file() and looks_like_page(path):
            return self.send(503, self.with_reload_script(NOT_BUILT_PAGE), HTML, send_body)
        page = output / "404.html"
        if page.is_file():
            return self.send(404, self.with_reload_script(page.read_bytes()), HTML, send_body)
        self.send(404, b"not found\n", PLAIN, send_body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send(self, status: int, data: bytes, kind: str, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.answered = True
        super().send_response(code, message)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A short plain-text answer (http.server's is an HTML page), and the end of the
        connection: after a bad request, what follows on it cannot be trusted to be one."""
        reason = self.responses.get(code, ("Error",))[0]
        body = (f"{code} {reason}: {shown(message, 200)}\n" if message else f"{code} {reason}\n").encode()
        if self.request_version == "HTTP/0.9":  # set for a request line that had no version
            self.request_version = "HTTP/1.0"  # so the answer gets a status line and headers
        self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", PLAIN)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        if code == 405:
            self.send_header("Allow", ALLOWED_METHODS)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    """A thread per connection; the Host names it answers to; errors outside a request's
    own handling (a client gone while its request is read) kept off the terminal."""

    daemon_threads = True
    allow_reuse_address = False  # a port in use must be noticed, not shared
    # Every open tab reloads at once after a rebuild, and requests pile up while one runs:
    # past socketserver's default queue of 5, new connections are dropped and the client
    # retries after seconds or times out. (The kernel caps this at net.core.somaxconn.)
    request_queue_size = 1024
    open_host = False  # --expose: answer any Host
    names: frozenset[str] = frozenset()  # the bound address, as Host may spell it
    log = staticmethod(print)

    def server_bind(self) -> None:
        super().server_bind()
        address = self.server_address[0].lower()
        self.names = frozenset({address, f"[{address}]"})

    def host_allowed(self, value: str) -> bool:
        """Host (with or without a port) names this machine: localhost, *.localhost,
        127.0.0.1, [::1], the address bound or the name given to --host."""
        match = HOST_VALUE.fullmatch(value.strip().lower())
        name = match.group("name").removesuffix(".") if match else ""
        return name in LOOPBACK_NAMES or name.endswith(".localhost") or name in self.names

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, CLIENT_GONE):
            self.log(f"internal error serving {client_address[0]}: {type(error).__name__}: {error}")


def make_server(site: LiveSite, host: str, port: int, log=print, open_host: bool = False) -> Server:
    """Bind host:port, or the next free port (with a note) when it is in use."""
    handler = type("SiteHandler", (Handler,), {"site": site})
    for candidate in range(port, port + 20):
        try:
            server = Server((host, candidate), handler)
        except OSError as error:
            if error.errno != errno.EADDRINUSE or port == 0:
                raise
            continue
        if candidate != port:
            log(f"note: port {port} is in use; serving on port {candidate} instead")
        server.log, server.open_host = log, open_host
        server.names |= {host.lower()}  # the name given to --host, as well as its address
        return server
    raise OSError(errno.EADDRINUSE, f"ports {port}-{port + 19} are all in use; pass --port")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def start_watching(site: LiveSite, poll: bool) -> BaseObserver:
    """An observer of the site's sources, started, marking ``site`` dirty on changes."""
    observer = PollingObserver(timeout=0.5) if poll else Observer()
    ignored = (site.output, site.config.cache_dir, site.output.parent / f".{site.output.name}.")
    watcher = ChangeHandler(site, ignored, observer)
    for folder, recursive in watched_paths(site.config):
        watcher.watch(folder, recursive)
    observer.start()
    return observer


def serve(options: BuildOptions, serve_options: ServeOptions, log=print, ready=None) -> int:
    """Build, serve and rebuild until interrupted (Ctrl-C) or ``site.stopped`` is set."""
    if not is_loopback(serve_options.host):
        if not serve_options.open_host:
            log(f"refusing to serve on {serve_options.host}: it is reachable from other machines; "
                "add --expose to do it anyway")
            return 2
        log(f"warning: serving on {serve_options.host}: anyone who can reach this machine can read the site")
    site = LiveSite(options, log)
    observer = start_watching(site, serve_options.poll)  # before the first build: no edit is missed
    try:
        site.rebuild()
        server = make_server(site, serve_options.host, serve_options.port, log, serve_options.open_host)
    except BaseException:  # Ctrl-C during the first build, or no free port
        observer.stop()
        raise
    builder_thread = threading.Thread(target=site.run, name="builder", daemon=True)
    builder_thread.start()
    server_thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    server_thread.start()
    host, port = server.server_address[:2]
    # last: this line tells the user (and the tests) that edits from now on are seen
    log(f"serving {site.output} at http://{host}:{port}{site.config.base_path} (Ctrl-C stops)")
    if ready:
        ready(site, server)
    try:
        while not site.stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        log("stopping")
    finally:
        site.stopped.set()
        with site.condition:
            site.condition.notify_all()
        server.shutdown()
        server.server_close()
        observer.stop()
        observer.join(timeout=5)
        builder_thread.join(timeout=30)
        site.cache.close()  # every build wrote what it changed: nothing is held back
    return 0
