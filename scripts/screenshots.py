"""Screenshots of the default theme for the README.

Builds the sample site into a temporary folder, serves it on 127.0.0.1 and photographs
home, the sample article, a country page and search with the real browser (Debian's
chromium through Playwright) at a phone and a desktop width, in light and dark mode.

    python scripts/screenshots.py [--out docs/screenshots]

Pictures show the fonts installed on the machine that takes them (the theme uses
system font stacks only); install fonts-noto-color-emoji to see the country flags.
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

PAGES = {  # file name stem → URL path on the sample site
    "home": "/",
    "article": "/2025/06/japan-us-tariff-talks-fifth-round/",
    "country": "/countries/japan/",
    "search": "/search/?q=tariff",
}
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
SCHEMES = ("light", "dark")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (any free port); yields the origin."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
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


def build_sample(out: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-m", "builder", "build", "--site", str(REPO), "--out", str(out)],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)


def take_screenshots(origin: str, folder: Path) -> list[Path]:
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
                for name, path in PAGES.items():
                    page.goto(origin + path)
                    if name == "search":  # the results and their counts arrive after the page has loaded
                        page.locator(".search-result-title a").first.wait_for()
                        page.locator(".search-filters:not([aria-busy])").wait_for()
                        page.wait_for_timeout(300)
                    target = folder / f"{name}-{width_name}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        site = Path(temp) / "output"
        build_sample(site)
        with serve(site) as origin:
            for path in take_screenshots(origin, args.out):
                print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
