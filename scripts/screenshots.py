"""Screenshots of the default theme for docs/templates.md.

Builds an archive of the sample site's article plus 1,000 generated ones (made-up text and
generated pictures from benchmarks/gen_corpus.py --images, so the pages look like a real
archive's without inventing news), serves it on 127.0.0.1 and photographs home, an article
with its lead picture, a country page, a year page, search and the 404 page with the real
browser (Debian's chromium through Playwright) at a phone and a desktop width, in light and
dark mode.

    python scripts/screenshots.py [--out docs/screenshots] [--articles 1000] [--work DIR]

Pictures show the fonts installed on the machine that takes them (the theme uses system
font stacks only; flags are SVG files of the theme).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SITE_TOML = """title = "Curated News Archive"
description = "The sample article and 1,000 generated ones (made-up text, for screenshots)."
base_url = "https://news.example.org/"
[footer]
links = {"About this archive" = "/about/"}
"""
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
SCHEMES = ("light", "dark")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a browser that drops a connection it no longer needs (Lighthouse does) is no news


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (any free port); yields the origin."""
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("chromium not found: apt-get install -y --no-install-recommends chromium")


def build_archive(site: Path, articles: int) -> Path:
    """The sample article and ``articles`` generated ones with pictures, built; the output
    folder. A ``site`` folder kept from an earlier run is built again with its cache (the
    pictures take most of a first build)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if not (site / "content").is_dir():
        shutil.copytree(REPO / "content", site / "content")
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "gen_corpus.py"), "--articles", str(articles),
                        "--out", str(site / "content" / "generated"), "--images"], check=True,
                       stdout=subprocess.DEVNULL)
    (site / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "builder", "build", "--site", str(site), "-q"], cwd=REPO, env=env, check=True)
    return site / "output"


def pages_of(output: Path) -> dict[str, str]:
    """File name stem → URL path: the newest article with a lead picture, the country with
    the most articles' page, the newest year, a search and a missing page."""
    import re
    home = (output / "index.html").read_text(encoding="utf-8")
    articles = re.findall(r'<a href="(/\d{4}/\d{2}/[^"/]+/)"', home)
    article = next(path for path in articles if "<picture" in (output / path.strip("/") / "index.html")
                   .read_text(encoding="utf-8"))
    countries = (output / "countries/index.html").read_text(encoding="utf-8")
    counted = re.findall(r'<a href="(/countries/[^"/]+/)"[^>]*>.*?</a>\s*<span[^>]*>([\d,]+)', countries, re.S)
    country = max(counted, key=lambda pair: int(pair[1].replace(",", "")))[0] if counted else \
        re.findall(r'href="(/countries/[^"/]+/)"', countries)[0]
    year = max(path.name for path in output.iterdir() if path.name.isdigit())
    return {"home": "/", "article": article, "country": country, "year": f"/{year}/",
            "search": "/search/?q=tariff", "404": "/404.html"}


def shrink(path: Path) -> None:
    """Rewrite a screenshot with a 256-colour palette: a third of the bytes in git, and the
    text stays sharp (a page holds few colours besides its pictures)."""
    from PIL import Image
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    small.save(path, optimize=True)


def take_screenshots(origin: str, pages: dict[str, str], folder: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        for width_name, (width, height) in WIDTHS.items():
            for scheme in SCHEMES:
                context = browser.new_context(viewport={"width": width, "height": height},
                                              color_scheme=scheme, device_scale_factor=1)
                page = context.new_page()
                for name, path in pages.items():
                    page.goto(origin + path)
                    # Pictures below the first screen load lazily: load them all for a full-page picture.
                    page.evaluate("""async () => { for (const img of document.images) img.loading = "eager";
                        await Promise.all([...document.images].map(img => img.complete ? null :
                            new Promise(done => { img.onload = img.onerror = done; }))); }""")
                    if name == "search":  # the results and their counts arrive after the page has loaded
                        page.locator(".search-result-title a").first.wait_for()
                        page.locator(".search-filters:not([aria-busy])").wait_for()
                        page.wait_for_timeout(300)
                    target = folder / f"{name}-{width_name}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=True)
                    shrink(target)
                    written.append(target)
                context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--articles", type=int, default=1000, help="generated articles beside the sample's")
    parser.add_argument("--work", type=Path, help="a folder to keep the archive in between runs (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        output = build_archive((args.work or Path(temp)) / "site", args.articles)
        pages = pages_of(output)
        print(pages)
        with serve(output) as origin:
            for path in take_screenshots(origin, pages, args.out):
                print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
