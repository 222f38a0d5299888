"""Helpers for the publishing tests: read built pages the way crawlers and readers do."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class Head(HTMLParser):
    """What a crawler reads from a page: title, meta, links, scripts, h1."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.meta: dict[str, list[str]] = {}  # name or property -> contents, in order
        self.links: list[dict] = []
        self.scripts: list[dict] = []  # {"type": …, "text": …}
        self._in = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            self.meta.setdefault(attrs.get("property") or attrs["name"], []).append(attrs.get("content", ""))
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "script":
            self.scripts.append({"type": attrs.get("type", ""), "text": ""})
            self._in = "script"
        elif tag in ("title", "h1"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1]["text"] += data
        elif self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, f"{key}: {values}"
        return values[0]

    def json_ld(self) -> list:
        return [json.loads(s["text"]) for s in self.scripts if s["type"] == "application/ld+json"]

    def link(self, rel: str, type_: str = "") -> list[str]:
        return [l["href"] for l in self.links if l.get("rel") == rel and (not type_ or l.get("type") == type_)]


def head(path: Path) -> Head:
    return Head(path.read_text(encoding="utf-8"))


def file_for(out: Path, url: str, base: str) -> Path:
    """The output file that serves an absolute ``url`` of a site published at ``base``."""
    assert url.startswith(base), (url, base)
    relative = url[len(base):]
    return out / (relative + "index.html" if relative.endswith("/") or not relative else relative)


def html_pages(out: Path) -> dict[str, Path]:
    """Every built HTML page by its URL path relative to the site root ('' for home)."""
    pages = {}
    for path in out.rglob("index.html"):
        relative = path.parent.relative_to(out).as_posix()
        pages["" if relative == "." else relative + "/"] = path
    return pages


def sitemap_entries(path: Path) -> dict[str, str]:
    """loc -> lastmod of a sitemap file (asserting the sitemap namespace)."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SITEMAP}urlset"
    return {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in root.iter(f"{SITEMAP}url")}
