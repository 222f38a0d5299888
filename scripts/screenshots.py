"""Screenshots of the search page for the README: the sample site, built and served
for real, searched for "tariff" in Debian's chromium at a desktop and a phone width.

    python scripts/screenshots.py            # writes docs/search-desktop.png, docs/search-phone.png
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
SHOTS = {"search-desktop.png": {"width": 1280, "height": 800},
         "search-phone.png": {"width": 390, "height": 844}}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> int:
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as temporary:
        out = Path(temporary) / "www"
        subprocess.run([sys.executable, "-m", "builder", "build", "--site", str(REPO), "--out", str(out)],
                       cwd=REPO, check=True)
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(out)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                for name, viewport in SHOTS.items():
                    page = browser.new_page(viewport=viewport, device_scale_factor=1)
                    page.goto(f"http://127.0.0.1:{server.server_port}/search/?q=tariff")
                    expect(page.locator("pagefind-results .pf-result-link")).to_have_count(1)
                    page.wait_for_timeout(300)  # let the result's excerpt settle
                    DOCS.mkdir(exist_ok=True)
                    page.screenshot(path=str(DOCS / name), full_page=True)
                    print(f"wrote docs/{name}")
                    page.close()
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
