#!/usr/bin/env python3
"""Search benchmark: the sharded index (builder/search.py) beside one Pagefind run over the same site.

    python benchmarks/search.py                                  # 1,000 and 10,000 articles
    python benchmarks/search.py --sizes 100000 --runs 1
    python benchmarks/search.py --sizes 10000 --lighthouse node_modules/lighthouse/cli/index.js

For each size, on an archive from benchmarks/gen_corpus.py:

- a full `build` with search (cold: no output, no cache), its time and the peak RSS of its
  largest process (the builder or one of its Pagefind processes), the `search` step, and
  the number of Pagefind runs and the largest one's peak (Pagefind runs behind a wrapper
  that logs each run's time and peak RSS);
- a `build` with nothing changed (what serve does at start), and `build` after one article
  is added (median of --runs);
- the reference, in the same run: one Pagefind process over every article page of the same
  output (what the build did before the index was sharded), its time and peak RSS (stopped
  at --cap MiB: at 100,000 articles it would need about 23 GiB);
- the index size, and in Chromium (Playwright, a cold browser cache, the output served by
  `python -m http.server --protocol HTTP/1.1` in its own process on 127.0.0.1) the time to
  the first results of a query on /search/ and the bytes the browser fetched for it, beside
  the same query through Pagefind's own JS API on the single index;
- with --lighthouse CLI: Lighthouse (mobile, its default simulated throttling) on
  /search/?q=… : performance, total blocking time, largest contentful paint, layout shift,
  accessibility (median of --runs).

No measured build runs right after a large deletion (see benchmarks/run.py's Trash).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))
from run import Trash  # noqa: E402  (the same care about deletions as the build benchmark)

QUERIES = ("tariff", "drought flood", "benchmark")  # two common words, and one only the added articles have
STEP = re.compile(r"(\w[\w ]*) (\d+\.\d\d)s")
UI_FILES = ("pagefind-ui", "pagefind-component-ui", "pagefind-modular-ui", "pagefind-highlight", "pagefind-worker")

WRAPPER = '''#!{python}
"""Runs Pagefind and logs its wall time, peak RSS (MiB) and --site folder."""
import os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen([{real!r}] + sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
with open({log!r}, "a") as log:
    log.write(f"{{time.perf_counter() - start:.3f}} {{usage.ru_maxrss / 1024:.1f}} "
              f"{{usage.ru_utime + usage.ru_stime:.3f}} {{sys.argv[2]}}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
'''


CPU = {}  # command → CPU seconds (user + system, every process) of its last run


def measure(command: list[str], env: dict) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB of the largest process, stdout) of one command; its CPU
    seconds (every process, user and system) go to CPU (on a busy machine the wall time
    measures the others too)."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "elapsed = time.perf_counter() - start\n"
               "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "sys.stderr.write(done.stderr)\n"
               "print(elapsed, usage.ru_maxrss / 1024, done.returncode, usage.ru_utime + usage.ru_stime)\n"
               "print(done.stdout)\n")
    finished = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, env=env)
    head, _, out = finished.stdout.partition("\n")
    seconds, peak, code, cpu = head.split()
    if code != "0":
        raise SystemExit(f"command failed ({code}): {' '.join(command)}\n{finished.stderr[-2000:]}")
    CPU["last"] = float(cpu)
    return float(seconds), float(peak), out


def steps(summary: str) -> dict[str, float]:
    inside = summary[summary.find(";") + 1: summary.find(")", summary.find(";"))]
    return {name.strip(): float(seconds) for name, seconds in STEP.findall(inside)}


class Runs:
    """The Pagefind runs the wrapper logged since the last read."""

    def __init__(self, work: Path):
        self.log = work / "pagefind-runs.log"
        self.wrapper = work / "pagefind-logged"
        from builder.search import pagefind_binary
        self.wrapper.write_text(WRAPPER.format(python=sys.executable, real=str(pagefind_binary()), log=str(self.log)))
        self.wrapper.chmod(0o755)

    def read(self) -> list[tuple[float, float, float]]:
        """(wall seconds, peak MiB, CPU seconds) of each run."""
        if not self.log.exists():
            return []
        runs = [(float(t), float(m), float(c))
                for t, m, c, _ in (line.split(" ", 3) for line in self.log.read_text().splitlines())]
        self.log.unlink()
        return runs


def builder_env(runs: Runs) -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO), PAGEFIND_BINARY_PATH=str(runs.wrapper),
                PAGEFIND_LOG=str(runs.log))


def build(site: Path, env: dict, *extra: str) -> tuple[float, float, dict]:
    seconds, peak, out = measure([sys.executable, "-m", "builder", "build", "--site", str(site), *extra], env)
    return seconds, peak, steps(out.strip().splitlines()[-1] if out.strip() else "")


def add_article(site: Path, number: int) -> Path:
    """A new article, dated a day before now (the newest published one)."""
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=1, minutes=number)
    path = site / "content" / f"{when:%Y}" / f"benchmark-added-{number}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: \"Benchmark Added Article {number}\"\ndate: {when:%Y-%m-%dT%H:%M:%SZ}\n"
                    f"summary: \"An added article.\"\ncountries: [Japan]\ntopics: [Trade]\n---\n\n"
                    f"Tariff talks resumed with a benchmark number {number} and new quota words.\n", encoding="utf-8")
    return path


def single_pagefind(output: Path, bundle: Path, cap_mib: float) -> dict:
    """One Pagefind process over every article page of ``output`` (stopped past ``cap_mib``)."""
    from builder.search import pagefind_binary
    bundle.mkdir(parents=True, exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    child = subprocess.Popen([str(pagefind_binary()), "--site", str(output), "--output-path", str(bundle),
                              "--force-language", "en", "--quiet"], cwd=bundle,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, stopped = 0.0, False
    while child.poll() is None:
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
            peak = max(peak, rss)
            if rss > cap_mib:
                child.kill()
                stopped = True
        except (OSError, AttributeError):
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu": after.ru_utime + after.ru_stime - cpu_before, "peak": peak, "completed": child.returncode == 0 and not stopped, "stopped": stopped}


def tree_size(folder: Path, skip=()) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(skip)]
    return sum(p.stat().st_size for p in files), len(files)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python -m http.server` (HTTP/1.1, keep-alive) in its own process, on 127.0.0.1."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "http.server", "--protocol", "HTTP/1.1",
                                         "--bind", "127.0.0.1", "--directory", str(folder), str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.origin = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def browser_queries(output: Path, single: Path | None) -> dict:
    """First results of each query on /search/ (cold cache) and through Pagefind's API on
    the single index, with the bytes fetched; then a second query on the same page (warm)."""
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    server = Server(output)
    prefix = "/"
    found = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            for query in QUERIES:
                context = browser.new_context()
                fetched = []
                context.on("requestfinished", lambda r: fetched.append(r))
                page = context.new_page()
                start = time.perf_counter()
                page.goto(f"{server.origin}{prefix}search/?q={query.replace(' ', '+')}")
                page.wait_for_selector("[data-search]:not([aria-busy]) [data-search-count] strong", timeout=120000)
                first = time.perf_counter() - start
                count = page.locator("[data-search-count] strong").inner_text()
                index_bytes = sum(_size(r) for r in fetched if f"{prefix}pagefind/" in r.url)
                all_bytes = sum(_size(r) for r in fetched)
                requests = len(fetched)
                # a second query on the same page: what a reader waits for after the first
                again = time.perf_counter()
                page.fill("#search-q", "harvest")
                page.locator(".search-form button").click()
                page.wait_for_selector("[data-search]:not([aria-busy]) [data-search-count]:has-text('harvest')",
                                       timeout=120000)
                second = time.perf_counter() - again
                entry = {"first": first, "second": second, "count": count, "index_bytes": index_bytes,
                         "page_bytes": all_bytes, "requests": requests}
                context.close()
                if single is not None:
                    context = browser.new_context()
                    fetched = []
                    context.on("requestfinished", lambda r: fetched.append(r))
                    page = context.new_page()
                    page.goto(f"{server.origin}{prefix}404.html")
                    start = time.perf_counter()
                    reference = page.evaluate("""async ([bundle, base, query]) => {
                      const pagefind = await import(bundle + 'pagefind.js');
                      await pagefind.options({ baseUrl: base });
                      await pagefind.filters();
                      const found = await pagefind.search(query);
                      await Promise.all(found.results.slice(0, 20).map((r) => r.data()));
                      return found.results.length;
                    }""", [f"{prefix}_single/pagefind/", prefix, query])
                    entry["single_first"] = time.perf_counter() - start
                    entry["single_count"] = reference
                    entry["single_bytes"] = sum(_size(r) for r in fetched if "/_single/" in r.url)
                    context.close()
                found[query] = entry
            browser.close()
    finally:
        server.stop()
    return found


def _size(request) -> int:
    try:
        sizes = request.sizes()
        return sizes["responseBodySize"] + sizes["responseHeadersSize"]
    except Exception:
        return 0


def lighthouse(cli: str, output: Path, runs: int, query: str) -> dict:
    server = Server(output)
    url = f"{server.origin}/search/?q={query}"
    results = []
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", shutil.which("chromium") or "/usr/bin/chromium"))
    try:
        for run in range(runs):
            report = output.parent / f"lighthouse-{count_of(output)}-{run}.json"
            subprocess.run(["node", cli, url, "--quiet", "--output=json", f"--output-path={report}",
                            "--only-categories=performance,accessibility",
                            "--chrome-flags=--headless=new --no-sandbox"], check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
            data = json.loads(report.read_text())
            audits = data["audits"]
            results.append({"performance": data["categories"]["performance"]["score"] * 100,
                            "accessibility": data["categories"]["accessibility"]["score"] * 100,
                            "tbt": audits["total-blocking-time"]["numericValue"],
                            "lcp": audits["largest-contentful-paint"]["numericValue"],
                            "fcp": audits["first-contentful-paint"]["numericValue"],
                            "cls": audits["cumulative-layout-shift"]["numericValue"]})
    finally:
        server.stop()
    return {key: statistics.median(r[key] for r in results) for key in results[0]} | {"runs": results}


def count_of(output: Path) -> str:
    return output.parent.name


def bench_size(count: int, args, work: Path, trash: Trash) -> dict:
    site = work / f"site{count}"
    if not (site / "content").is_dir():
        subprocess.run([sys.executable, str(BENCH / "gen_corpus.py"), "--articles", str(count),
                        "--out", str(site / "content")], check=True, capture_output=True)
    runs = Runs(work)
    env = builder_env(runs)
    for name in ("output", ".cache"):
        trash.move(site / name)
    runs.read()
    result = {"articles": count, "load": os.getloadavg()[0]}
    seconds, peak, timing = build(site, env)
    pagefind = runs.read()
    result["cold"] = {"seconds": seconds, "cpu": CPU["last"], "peak": peak, "search": timing.get("search", 0.0),
                      "runs": len(pagefind), "pagefind_peak": max((m for _, m, _ in pagefind), default=0),
                      "pagefind_seconds": sum(t for t, _, _ in pagefind), "pagefind_cpu": sum(c for *_, c in pagefind)}
    print(f"  cold build: {seconds:.1f} s, peak {peak:.0f} MiB, {len(pagefind)} Pagefind runs", flush=True)
    seconds, peak, timing = build(site, env)
    result["noop"] = {"seconds": seconds, "cpu": CPU["last"], "runs": len(runs.read())}
    added, adds = [], []
    for run in range(args.runs):
        added.append(add_article(site, run))
        seconds, peak, timing = build(site, env)
        pagefind = runs.read()
        adds.append({"seconds": seconds, "cpu": CPU["last"], "peak": peak, "search": timing.get("search", 0.0),
                     "runs": len(pagefind), "load": os.getloadavg()[0],
                     "pagefind_seconds": sum(t for t, _, _ in pagefind), "pagefind_cpu": sum(c for *_, c in pagefind)})
        print(f"  one article added: {seconds:.2f} s ({len(pagefind)} Pagefind runs)", flush=True)
    result["add"] = {key: statistics.median(a[key] for a in adds) for key in adds[0]}
    output = site / "output"
    result["index"] = dict(zip(("bytes", "files"), tree_size(output / "pagefind")))
    single = output / "_single" / "pagefind"
    result["single"] = single_pagefind(output, single, args.cap)
    if result["single"]["completed"]:
        result["single"]["bytes"], result["single"]["files"] = tree_size(single, UI_FILES)
    print(f"  one Pagefind run: {result['single']}", flush=True)
    result["browser"] = browser_queries(output, single if result["single"]["completed"] else None)
    print(f"  browser: {result['browser']}", flush=True)
    if args.lighthouse:
        result["lighthouse"] = lighthouse(args.lighthouse, output, args.runs, QUERIES[0])
        print(f"  lighthouse: {result['lighthouse']}", flush=True)
    trash.move(single.parent)
    # The same added article without search (the rest of the pipeline's share): switching to
    # --no-search rebuilds everything first (not measured).
    build(site, env, "--no-search")
    plain = []
    for run in range(args.runs):
        added.append(add_article(site, 100 + run))
        seconds, peak, timing = build(site, env, "--no-search")
        plain.append({"seconds": seconds, "cpu": CPU["last"]})
    result["add_no_search"] = {key: statistics.median(a[key] for a in plain) for key in plain[0]}
    print(f"  one article added, build --no-search: {result['add_no_search']}", flush=True)
    for path in added:
        trash.move(path)
    return result


def print_tables(results: list[dict]) -> None:
    def mib(value):
        return f"{value:,.0f} MiB"

    print("\n| articles | load | full build with search (CPU) | peak (largest process) | search step | Pagefind runs "
          "(largest peak) | one Pagefind run over the site (CPU) | no-op build | one article added, then build (CPU) "
          "| of which search |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c, s, a = r["cold"], r["single"], r["add"]
        single = (f"{s['seconds']:.1f} s ({s.get('cpu', 0):.1f} s), {mib(s['peak'])}" if s["completed"]
                  else f"stopped at {mib(s['peak'])} after {s['seconds']:.0f} s")
        plain = r.get("add_no_search", {})
        print(f"| {r['articles']:,} | {r.get('load', 0):.1f} | {c['seconds']:.1f} s ({c.get('cpu', 0):.1f} s) "
              f"| {mib(c['peak'])} | {c['search']:.1f} s (Pagefind CPU {c.get('pagefind_cpu', 0):.1f} s) "
              f"| {c['runs']} ({mib(c['pagefind_peak'])}) | {single} | {r['noop']['seconds']:.2f} s "
              f"| {a['seconds']:.2f} s ({a.get('cpu', 0):.2f} s; {a['runs']:.0f} Pagefind run, CPU "
              f"{a.get('pagefind_cpu', 0):.2f} s) | {a['search']:.2f} s; without search: "
              f"{plain.get('seconds', 0):.2f} s ({plain.get('cpu', 0):.2f} s) |")
    print("\n| articles | index size (files) | one Pagefind index (files) | query | first results | bytes fetched "
          "for it (index / page) | requests | second query | one index: first results, bytes |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        s = r["single"]
        single_size = f"{s['bytes'] / 1e6:.1f} MB ({s['files']:,})" if s.get("bytes") else "–"
        for query, b in r["browser"].items():
            ref = (f"{b['single_first']:.2f} s, {b['single_bytes'] / 1e3:,.0f} kB" if "single_first" in b else "–")
            print(f"| {r['articles']:,} | {r['index']['bytes'] / 1e6:.1f} MB ({r['index']['files']:,}) | {single_size} "
                  f"| {query} ({b['count']}) | {b['first']:.2f} s | {b['index_bytes'] / 1e3:,.0f} kB / "
                  f"{b['page_bytes'] / 1e3:,.0f} kB | {b['requests']} | {b['second']:.2f} s | {ref} |")
    lighthouses = [r for r in results if "lighthouse" in r]
    if lighthouses:
        print("\n| articles | Lighthouse performance | total blocking time | largest contentful paint "
              "| first contentful paint | layout shift | accessibility |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in lighthouses:
            lh = r["lighthouse"]
            print(f"| {r['articles']:,} | {lh['performance']:.0f} | {lh['tbt']:.0f} ms | {lh['lcp'] / 1000:.2f} s "
                  f"| {lh['fcp'] / 1000:.2f} s | {lh['cls']:.3f} | {lh['accessibility']:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cap", type=float, default=6144, help="MiB at which the single Pagefind run is stopped")
    parser.add_argument("--lighthouse", help="path to Lighthouse's cli/index.js (npm install lighthouse@12.2.3)")
    parser.add_argument("--work", type=Path, help="folder for the generated archives (kept between runs)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="builder-search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(int(time.time())))
    from builder.search import MAX_SHARD_PAGES, pagefind_version
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"Pagefind {pagefind_version()}, shards of at most {MAX_SHARD_PAGES:,} articles; load average "
          f"{os.getloadavg()[0]:.1f} at start", flush=True)
    trash = Trash(work)
    results = []
    try:
        for count in (int(s) for s in args.sizes.split(",")):
            print(f"{count:,} articles", flush=True)
            results.append(bench_size(count, args, work, trash))
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    finally:
        print_tables(results)
        trash.empty()
    return 0


if __name__ == "__main__":
    sys.exit(main())
