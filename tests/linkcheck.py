"""A link-integrity crawler for a built site: every internal href, src, srcset and form
action of every .html file must resolve to a built file, and fragments to an id.

Used by tests/test_links.py (and usable by other tests that build a site).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

LINK_ATTRIBUTES = {"href", "src", "action", "poster", "data"}


@dataclass
class PageLinks:
    """What one HTML file links to, and which fragment targets it offers."""

    links: list[tuple[str, str]] = field(default_factory=list)  # (tag.attribute, URL)
    ids: set[str] = field(default_factory=set)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = PageLinks()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in LINK_ATTRIBUTES:
                self.page.links.append((f"{tag}.{name}", value.strip()))
            elif name in ("srcset", "imagesrcset"):
                for candidate in value.split(","):
                    if candidate.strip():
                        self.page.links.append((f"{tag}.{name}", candidate.split()[0]))
            elif name == "id" or (name == "name" and tag == "a"):
                self.page.ids.add(value)

    handle_startendtag = handle_starttag


def parse_page(path: Path) -> PageLinks:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    collector.close()
    return collector.page


def page_url(output: Path, path: Path, base_path: str) -> str:
    """The URL a built file is served at ('…/index.html' is served as its folder)."""
    relative = path.relative_to(output).as_posix()
    if relative == "index.html":
        relative = ""
    elif relative.endswith("/index.html"):
        relative = relative[: -len("index.html")]
    return base_path + relative


def target_file(output: Path, path: str, base_path: str) -> Path | None:
    """The built file serving URL path ``path`` (None when it is outside the base path)."""
    if not path.startswith(base_path):
        return None
    relative = unquote(path[len(base_path):])
    candidate = output / relative
    if relative == "" or relative.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate


@dataclass
class Report:
    """The crawl's result: counts and every broken link, each with the page it is on."""

    pages: int = 0
    internal_links: int = 0
    external_links: int = 0
    broken: list[str] = field(default_factory=list)


def crawl(output: Path, base_url: str = "/", check_fragments: bool = True) -> Report:
    """Check every .html file under ``output`` as published at ``base_url``."""
    base = urlsplit(base_url)
    base_path = "/" + base.path.strip("/") + "/" if base.path.strip("/") else "/"
    origin = (base.scheme, base.netloc) if base.netloc else None
    report = Report()
    pages = {path: parse_page(path) for path in sorted(output.rglob("*.html"))}
    ids_by_file = {path.resolve(): page.ids for path, page in pages.items()}
    for path, page in pages.items():
        report.pages += 1
        here = page_url(output, path, base_path)
        where = path.relative_to(output).as_posix()
        for attribute, link in page.links:
            if not link or link.startswith(("mailto:", "tel:", "data:", "javascript:")):
                continue
            parts = urlsplit(urljoin("http://site.invalid" + here, link))
            absolute = urlsplit(link)
            if absolute.scheme or absolute.netloc:
                if origin is None or (absolute.scheme, absolute.netloc) != origin:
                    report.external_links += 1
                    continue
            report.internal_links += 1
            if not link.startswith(("#", "?")) and not absolute.netloc and link.startswith("/") \
                    and not link.startswith(base_path):
                report.broken.append(f"{where}: {attribute}={link!r} is outside the base path {base_path}")
                continue
            target = target_file(output, parts.path, base_path)
            if target is None:
                report.broken.append(f"{where}: {attribute}={link!r} is outside the base path {base_path}")
            elif not target.is_file():
                report.broken.append(f"{where}: {attribute}={link!r} -> no file {target.relative_to(output)}")
            elif check_fragments and parts.fragment and target.suffix == ".html":
                fragment = unquote(parts.fragment)
                if fragment not in ids_by_file.get(target.resolve(), set()):
                    report.broken.append(f"{where}: {attribute}={link!r} -> no id {fragment!r} "
                                         f"in {target.relative_to(output)}")
    return report
