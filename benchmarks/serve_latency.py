#!/usr/bin/env python3
"""Save-to-reload latency of `python -m builder serve` in a large generated archive.

    python benchmarks/serve_latency.py --articles 10000 --edits 7

Starts the real server (search off: indexing is excluded from the target),
then repeatedly edits one article — its body, then its title — and measures
the time from the file write to the reload signal (the long-poll answer the
open pages wait on). Prints the median and the spread of each.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--log", type=Path, help="write the server's log here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="builder-latency-"))
    site = work / f"site{args.articles}"
    if not (site / "content").is_dir():
        subprocess.run([sys.executable, str(BENCH / "gen_corpus.py"), "--articles", str(args.articles),
                        "--out", str(site / "content")], check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    server = subprocess.Popen([sys.executable, "-m", "builder", "serve", "--site", str(site), "--port", "0",
                               "--no-search"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        origin = None
        for line in server.stderr:
            match = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
            if match:
                origin = match.group(1)
                break
        assert origin, "server did not start"
        log = open(args.log, "w", encoding="utf-8") if args.log else None
        threading.Thread(target=lambda: [log and (log.write(line), log.flush()) for line in server.stderr],
                         daemon=True).start()
        article = sorted((site / "content").rglob("*.md"))[args.articles // 2]
        original = article.read_text(encoding="utf-8")

        def epoch() -> int:
            with urllib.request.urlopen(origin + "/__builder/wait?epoch=-1") as response:
                return json.load(response)["epoch"]

        def timed_edit(text: str) -> float:
            seen = epoch()
            answer: dict = {}

            def wait() -> None:
                with urllib.request.urlopen(f"{origin}/__builder/wait?epoch={seen}", timeout=60) as response:
                    answer.update(json.load(response))
                answer["at"] = time.perf_counter()

            waiter = threading.Thread(target=wait)
            waiter.start()
            time.sleep(0.2)  # the long-poll is parked on the server
            start = time.perf_counter()
            article.write_text(text, encoding="utf-8")
            waiter.join()
            assert answer["epoch"] != seen and not answer["problems"], answer
            return answer["at"] - start

        body, title = [], []
        current = original
        for run in range(args.edits):
            # Each edit changes one thing: the body (the title as it is), then the title.
            current += f"\nLatency edit {run}.\n"
            body.append(timed_edit(current))
            time.sleep(0.3)
            current = re.sub(r"^title: .*$", f'title: "Latency title {run}"', current, count=1, flags=re.M)
            title.append(timed_edit(current))
            time.sleep(0.3)
        article.write_text(original, encoding="utf-8")
        print(f"{args.articles:,} articles, {args.edits} edits each, file write to reload signal:")
        print("| edit | median | min | max |")
        print("|---|---:|---:|---:|")
        for name, values in (("body", body), ("title", title)):
            print(f"| {name} | {statistics.median(values):.3f} s | {min(values):.3f} s | {max(values):.3f} s |")
    finally:
        server.terminate()
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
