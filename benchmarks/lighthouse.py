#!/usr/bin/env python3
"""Lighthouse on every page type of the default theme (search excepted: benchmarks/search.py).

    npm install --prefix /tmp/lh lighthouse@12.2.3
    python benchmarks/lighthouse.py --lighthouse /tmp/lh/node_modules/lighthouse/cli/index.js

Builds the archive the screenshots show (the sample article and 1,000 generated ones with
generated pictures, an absolute ``base_url``; scripts/screenshots.py), serves it on
127.0.0.1 and runs Lighthouse (mobile, its default simulated throttling, Debian's chromium)
on one page of each type. Prints a table of the four category scores and the audits that
cost points; exits 1 when a score is under --minimum (95).

The canonical links and sitemaps name https://news.example.org/, not the 127.0.0.1 origin
Lighthouse loads the pages from, as on a real deploy behind its own host name.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from screenshots import build_archive, serve  # noqa: E402  (the same archive as the screenshots)

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def page_types(output: Path) -> dict[str, str]:
    """Page type → URL path: one page of each type the theme has (search excepted)."""
    def first(page: str, pattern: str) -> str:
        return re.findall(pattern, (output / page).read_text(encoding="utf-8"))[0]

    article = first("index.html", r'<a href="(/\d{4}/\d{2}/[^"/]+/)"')
    year = max(path.name for path in output.iterdir() if path.name.isdigit())
    types = {
        "home": "/", "article": article, "sample article": "/2025/06/japan-us-tariff-talks-fifth-round/",
        "countries": "/countries/", "country": first("countries/index.html", r'href="(/countries/[^"/]+/)"'),
        "topics": "/topics/", "topic": first("topics/index.html", r'href="(/topics/[^"/]+/)"'),
        "archive": "/archive/", "year": f"/{year}/",
        "month": first(f"{year}/index.html", rf'href="(/{year}/\d{{2}}/)"'), "404": "/404.html",
    }
    for index, single in (("authors", "author"), ("stories", "story")):  # sections a site may not have
        if (output / index / "index.html").is_file():
            types[index] = f"/{index}/"
            types[single] = first(f"{index}/index.html", rf'href="(/{index}/[^"/]+/)"')
    if (output / "corrections/index.html").is_file():
        types["corrections"] = "/corrections/"
    return types


def lighthouse(cli: str, url: str, report: Path) -> dict:
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", shutil.which("chromium") or "/usr/bin/chromium"))
    subprocess.run(["node", cli, url, "--quiet", "--output=json", f"--output-path={report}",
                    f"--only-categories={','.join(CATEGORIES)}", "--chrome-flags=--headless=new --no-sandbox"],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    data = json.loads(report.read_text(encoding="utf-8"))
    scores = {name: round(data["categories"][name]["score"] * 100) for name in CATEGORIES}
    lost = sorted({ref["id"] for name in CATEGORIES for ref in data["categories"][name]["auditRefs"]
                   if ref["weight"] and (data["audits"][ref["id"]].get("score") or 0) < 0.9
                   and data["audits"][ref["id"]]["scoreDisplayMode"] in ("binary", "numeric", "metricSavings")})
    return scores | {"lost": lost}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lighthouse", required=True, help="path of lighthouse/cli/index.js")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--minimum", type=int, default=95)
    parser.add_argument("--work", type=Path, help="a folder to keep the archive in between runs "
                        "(scripts/screenshots.py --work takes the same)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        output = build_archive((args.work or Path(temp)) / "site", args.articles)
        rows = {}
        with serve(output) as origin:
            for name, path in page_types(output).items():
                rows[name] = lighthouse(args.lighthouse, origin + path, Path(temp) / "report.json") | {"path": path}
                print(f"  {name}: {rows[name]}", flush=True)
    print("\n| page | path | performance | accessibility | best practices | SEO | audits under 0.9 |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, row in rows.items():
        print(f"| {name} | `{row['path']}` | " + " | ".join(str(row[c]) for c in CATEGORIES)
              + f" | {', '.join(row['lost']) or '–'} |")
    low = [name for name, row in rows.items() if min(row[c] for c in CATEGORIES) < args.minimum]
    if low:
        print(f"\nunder {args.minimum}: {', '.join(low)}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
