"""The default theme, checked on every page type of the sample site and of a small
paginated site: axe-core in a real browser (light and dark), the Nu HTML Checker,
keyboard use (skip link, visible focus, heading order), narrow screens, print,
page weight, and theme overriding."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from conftest import REPO, article, run_cli, write_files
from conftest import serve_static as serve

VNU_JAR = REPO / ".ci" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SAMPLE_ARTICLE = "/2025/06/japan-us-tariff-talks-fifth-round/"

# Every page type of the sample site (URL path → what it is).
SAMPLE_PAGES = {
    "home": "/",
    "article": SAMPLE_ARTICLE,
    "countries": "/countries/",
    "country": "/countries/japan/",
    "topics": "/topics/",
    "topic": "/topics/trade/",
    "archive": "/archive/",
    "year": "/2025/",
    "month": "/2025/06/",
    "search": "/search/",
    "404": "/404.html",
}

def picture_bytes(width: int, height: int, kind: str) -> bytes:
    """A made-up picture (a few coloured bands), so that pages carry real images."""
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGB", (width, height), (60, 90, 140))
    draw = ImageDraw.Draw(image)
    for band in range(0, width, width // 8):
        draw.rectangle((band, 0, band + width // 16, height), fill=(200, band % 255, 80))
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return buffer.getvalue()


# A small site with what the sample lacks: several pages of listings, related
# articles with backlinks, "More on this story", authors, a source, a body link.
PAGED_FILES = {
    "site.toml": 'title = "Paged Test Archive"\npage_size = 2\n',
    **{f"content/2025/story-{n}.md": article(
        f"Story number {n}", f"2025-0{1 + n % 3}-{10 + n:02d}T0{n}:30:00",
        body=f"Paragraph {n} with [a link](https://example.org/{n}).\n\n## A section\n\nMore text.",
        countries="[Japan, Kenya]", topics="[Trade]", author='["A. Writer", "B. Writer"]',
        source='{name: Example Wire, url: "https://example.org/wire"}',
        # story-8 relates to nothing, so it is "More on this story" for story-1
        # (which lists the others under "Referenced by").
        related=("[story-1]" if 1 < n < 8 else "[]") if n > 1 else "[{title: Outside, url: 'https://example.org/x'}]")
        for n in range(1, 9)},
    # What the newsroom features add: a running story, a correction, an old address.
    "content/2025/part-1.md": article("Talks open in Geneva", "2025-04-01", author="A. Writer",
                                      story="Geneva talks", corrections='[{date: 2025-04-02, text: "The venue was wrong."}]',
                                      aliases='["/2025/04/geneva-opens/"]',
                                      image='{src: geneva.jpg, alt: "Delegates in a hall", caption: "The opening session.", '
                                            'credit: "Generated picture"}',
                                      body="The talks opened.\n\n![A map of the venue](venue.png)\n\nMore text."),
    "content/2025/geneva.jpg": picture_bytes(1600, 1000, "JPEG"),
    "content/2025/venue.png": picture_bytes(700, 500, "PNG"),
    "content/2025/part-2.md": article("Talks stall in Geneva", "2025-04-08", author="A. Writer", story="Geneva talks"),
}
PAGED_PAGES = {
    "home page 2": "/page/2/",
    "article with links": "/2025/02/story-4/",
    "article referenced by others": "/2025/02/story-1/",
    "country page 3": "/countries/kenya/page/3/",
    "article in a story, corrected": "/2025/04/part-1/",
    "authors": "/authors/",
    "author": "/authors/a-writer/",
    "stories": "/stories/",
    "story": "/stories/geneva-talks/",
    "corrections": "/corrections/",
}


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "output"
    run_cli("build", "--site", str(REPO), "--out", str(out), check=True)
    return out


@pytest.fixture(scope="module")
def paged_out(tmp_path_factory) -> Path:
    site = write_files(tmp_path_factory.mktemp("paged") / "site", PAGED_FILES)
    run_cli("build", "--site", str(site), check=True)
    return site / "output"


@pytest.fixture(scope="module")
def sample_origin(sample_out):
    with serve(sample_out) as origin:
        yield origin


@pytest.fixture(scope="module")
def paged_origin(paged_out):
    with serve(paged_out) as origin:
        yield origin


@pytest.fixture(scope="module", params=["light", "dark"])
def context(request, browser):
    """A browser context in one colour scheme (pages are opened per test)."""
    ctx = browser.new_context(color_scheme=request.param, viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def open_page(context, url: str):
    page = context.new_page()
    response = page.goto(url)
    assert response is not None and response.ok, url
    return page


def page_url(name: str, sample_origin: str, paged_origin: str) -> str:
    """The full URL of a named page of the sample or the paged site."""
    if name in SAMPLE_PAGES:
        return sample_origin + SAMPLE_PAGES[name]
    return paged_origin + PAGED_PAGES[name]


# --- axe-core -------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(SAMPLE_PAGES) + list(PAGED_PAGES))
def test_axe_finds_no_violations(name, context, sample_origin, paged_origin):
    from axe_playwright_python.sync_playwright import Axe
    url = page_url(name, sample_origin, paged_origin)
    page = open_page(context, url)
    try:
        results = Axe().run(page)
        # axe runs every non-experimental rule, best practices included.
        assert results.violations_count == 0, results.generate_report()
        assert len(results.response["passes"]) > 10  # the rules really ran on this page
    finally:
        page.close()


# --- Nu HTML Checker ----------------------------------------------------------------

def run_vnu(files: list[Path]) -> list[dict]:
    """The Nu HTML Checker's error messages for ``files`` (one Java start for all)."""
    java = shutil.which("java")
    if not java:
        pytest.fail("java not found: .ci/setup installs it (the Nu HTML Checker needs Java)")
    if not VNU_JAR.is_file():
        pytest.fail(f"{VNU_JAR} missing: run bash .ci/setup (npm package vnu-jar)")
    result = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
                             *map(str, files)], capture_output=True, text=True, timeout=300)
    return json.loads(result.stderr or result.stdout)["messages"]


@pytest.fixture(scope="module")
def vnu_report(sample_out, paged_out, tmp_path_factory) -> dict[str, list[dict]]:
    """Messages per folder: the sample site, the paged site, and a known-bad page."""
    bad = tmp_path_factory.mktemp("invalid") / "bad.html"
    # A stray end tag: the check must be able to fail.
    bad.write_text("<!doctype html><html lang=en><title>x</title><p>a</div>")
    folders = {"sample": sample_out, "paged": paged_out, "bad": bad.parent}
    files = {name: sorted(folder.rglob("*.html")) for name, folder in folders.items()}
    messages = run_vnu([f for group in files.values() for f in group])
    report: dict[str, list[dict]] = {name: [] for name in folders}
    for message in messages:
        checked = Path(urllib.parse.unquote(message.get("url", "").removeprefix("file:")))
        name = next(n for n, f in folders.items() if checked.is_relative_to(f))
        report[name].append(message)
    report["files"] = files
    return report


def test_every_page_of_the_sample_site_is_valid_html(vnu_report):
    assert len(vnu_report["files"]["sample"]) == len(SAMPLE_PAGES) + 3  # plus 2 topics, 1 country
    assert vnu_report["sample"] == [], json.dumps(vnu_report["sample"], indent=1)


def test_every_page_of_the_paged_site_is_valid_html(vnu_report):
    assert len(vnu_report["files"]["paged"]) > 20
    assert vnu_report["paged"] == [], json.dumps(vnu_report["paged"], indent=1)


def test_the_checker_reports_invalid_html(vnu_report):
    assert any(m["type"] == "error" for m in vnu_report["bad"])


# --- keyboard -----------------------------------------------------------------------

def test_first_tab_reaches_a_visible_skip_link_that_moves_to_main(context, sample_origin):
    page = open_page(context, sample_origin + SAMPLE_ARTICLE)
    try:
        link = page.locator(".skip-link")
        box = link.bounding_box()
        assert box is None or box["y"] + box["height"] <= 0, "skip link visible before focus"
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.className")
        assert focused == "skip-link"
        box = link.bounding_box()
        assert box and box["y"] >= 0 and box["x"] >= 0 and box["width"] > 40 and box["height"] > 20
        assert link.is_visible()
        page.keyboard.press("Enter")
        page.wait_for_url("**#main")
        # The next Tab goes into the main content, past the header's links.
        page.keyboard.press("Tab")
        inside_main = page.evaluate("document.querySelector('main').contains(document.activeElement)")
        assert inside_main
    finally:
        page.close()


def test_focused_links_and_fields_show_an_outline(context, sample_origin):
    page = open_page(context, sample_origin + SAMPLE_ARTICLE)
    try:
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        seen = set()
        for _ in range(12):  # skip link, title, navigation, search box and button, …
            page.keyboard.press("Tab")
            style = page.evaluate("""() => { const e = document.activeElement;
                const s = getComputedStyle(e);
                return {tag: e.tagName, focusVisible: e.matches(':focus-visible'),
                        style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }""")
            assert style["focusVisible"], style
            assert style["style"] == "solid" and style["width"] >= 2, style
            assert style["color"] != background, style
            seen.add(style["tag"])
        assert {"A", "INPUT", "BUTTON"} <= seen
    finally:
        page.close()


HEADINGS_JS = "Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'), h => Number(h.tagName[1]))"


@pytest.mark.parametrize("name", list(SAMPLE_PAGES) + list(PAGED_PAGES))
def test_one_h1_first_and_no_skipped_heading_levels(name, browser, sample_origin, paged_origin):
    url = page_url(name, sample_origin, paged_origin)
    page = browser.new_page()
    try:
        assert page.goto(url).ok
        levels = page.evaluate(HEADINGS_JS)
        assert levels.count(1) == 1 and levels[0] == 1, levels
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, f"heading level jumps from h{before} to h{after}: {levels}"
    finally:
        page.close()


# --- layout, colour schemes, print ---------------------------------------------------

OUTSIDE_WRAP_JS = """() => Array.from(document.querySelectorAll('.wrap')).flatMap(wrap => {
    const box = wrap.getBoundingClientRect(), style = getComputedStyle(wrap);
    const left = box.left + parseFloat(style.paddingLeft), right = box.right - parseFloat(style.paddingRight);
    return Array.from(wrap.querySelectorAll('*')).filter(e => {
        const r = e.getBoundingClientRect();
        return r.width > 1 && (r.left < left - 1 || r.right > right + 1);
    }).map(e => e.tagName + '.' + e.className);
})"""


@pytest.mark.parametrize("name", list(SAMPLE_PAGES) + list(PAGED_PAGES))
def test_nothing_overflows_a_320px_screen(name, browser, sample_origin, paged_origin):
    url = page_url(name, sample_origin, paged_origin)
    page = browser.new_page(viewport={"width": 320, "height": 640})
    try:
        assert page.goto(url).ok
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        # Nor does anything poke out of its column into the page margin.
        outside = page.evaluate(OUTSIDE_WRAP_JS)
        assert outside == [], outside
    finally:
        page.close()


def luminance(css_color: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css_color)[:3])
    channel = lambda c: c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4  # noqa: E731
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_scheme_follows_the_reader_preference(scheme, browser, sample_origin):
    ctx = browser.new_context(color_scheme=scheme)
    try:
        page = open_page(ctx, sample_origin + SAMPLE_ARTICLE)
        colors = page.evaluate("[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
        background, text = (luminance(c) for c in colors)
        if scheme == "dark":
            assert background < 0.05 and text > 0.6, colors
        else:
            assert background > 0.9 and text < 0.05, colors
    finally:
        ctx.close()


def test_print_hides_navigation_and_shows_link_urls(browser, paged_origin):
    page = browser.new_page()
    try:
        page.goto(paged_origin + PAGED_PAGES["article with links"])
        page.emulate_media(media="print")
        for selector in (".site-nav", ".site-search", ".skip-link", ".article-nav", ".site-footer"):
            assert not page.locator(selector).is_visible(), selector
        after = page.evaluate("getComputedStyle(document.querySelector('.article-body a'), '::after').content")
        assert "https://example.org/4" in after
        page.emulate_media(media="screen")
        assert page.locator(".site-nav").is_visible()
        after = page.evaluate("getComputedStyle(document.querySelector('.article-body a'), '::after').content")
        assert "example.org" not in after
    finally:
        page.close()


# --- what the pages hold -------------------------------------------------------------

def test_article_page_with_its_css_stays_under_30_kb(sample_out):
    html = (sample_out / SAMPLE_ARTICLE.strip("/") / "index.html").read_bytes()
    css = (sample_out / "static" / "style.css").read_bytes()
    assert html.count(b'<li>') >= 16  # the sample article's 16 related headlines are all there
    assert len(html) + len(css) < 30 * 1024, (len(html), len(css))


def test_css_is_linked_with_its_content_hash(sample_out):
    css = (sample_out / "static" / "style.css").read_bytes()
    html = (sample_out / "index.html").read_text()
    version = re.search(r'href="/static/style\.css\?v=([0-9a-f]+)"', html).group(1)
    assert hashlib.sha256(css).hexdigest().startswith(version)


def test_pages_load_nothing_from_other_hosts_and_run_no_script(browser, sample_origin, sample_out):
    for path in sample_out.rglob("*.html"):
        if path.parent.name != "search":  # only the search page may run a script
            for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
                assert 'type="application/ld+json"' in tag, (path, tag)  # data, not code
    page = browser.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        for url in SAMPLE_PAGES.values():
            if url != "/search/":
                page.goto(sample_origin + url)
    finally:
        page.close()
    assert any(u.endswith(".css") or ".css?" in u for u in requested)
    assert all(u.startswith(sample_origin) for u in requested), requested


def test_header_navigation_marks_the_current_section(sample_out):
    countries = (sample_out / "countries" / "index.html").read_text()
    assert '<a href="/countries/" aria-current="page">Countries</a>' in countries
    japan = (sample_out / "countries" / "japan" / "index.html").read_text()
    assert '<a href="/countries/" aria-current="true">Countries</a>' in japan
    assert '<img class="flag" src="/static/flags/jp.svg" alt="" width="20" height="15" loading="lazy" decoding="async">Japan</h1>' in japan
    for name in ("Latest", "Countries", "Topics", "Archive", "Search"):
        assert f">{name}</a></li>" in japan
    assert 'role="search"' in japan and 'name="q"' in japan


def test_article_links_countries_topics_and_reading_on(paged_out):
    html = (paged_out / "2025/02/story-1/index.html").read_text()
    assert '<img class="flag" src="/static/flags/jp.svg" alt="" width="20" height="15" loading="lazy" decoding="async"><a href="/countries/japan/">Japan</a>' in html
    assert '<a href="/topics/trade/">Trade</a>' in html
    assert ('By <a href="/authors/a-writer/" rel="author">A. Writer</a> and '
            '<a href="/authors/b-writer/" rel="author">B. Writer</a>') in html
    assert ('<a href="https://example.org/wire" rel="external noopener" class="external">Example Wire'
            '<span class="visually-hidden" data-pagefind-ignore> (external site)</span></a>') in html
    for block in ("Related", "Referenced by", "More on this story"):
        assert f"<h2>{block}</h2>" in html


def test_pagination_links_previous_next_and_current_page(paged_out):
    # Ten articles, two a page: the newest page at /, then pages 4 to 1 (1 = the oldest).
    html = (paged_out / "page" / "2" / "index.html").read_text()
    assert '<a rel="prev" href="/page/3/">← Newer</a>' in html
    assert '<a rel="next" href="/page/1/">Older →</a>' in html
    assert '<a href="/page/2/" aria-current="page"><span class="visually-hidden">Page </span>2</a>' in html
    nav = html[html.index('<nav class="pagination"'):]
    assert re.findall(r'<li><a href="([^"]+)"', nav[:nav.index("</nav>")]) == ["/", "/page/4/", "/page/3/", "/page/2/", "/page/1/"]
    assert "<title>Latest, page 2 · Paged Test Archive</title>" in html
    oldest = (paged_out / "page" / "1" / "index.html").read_text()
    assert '<span class="pagination-off">Older →</span>' in oldest
    newest = (paged_out / "index.html").read_text()
    assert '<a href="/" aria-current="page">Latest</a>' in newest and '<a rel="next" href="/page/4/">' in newest
    assert not (paged_out / "page" / "5").exists()


def test_a_site_overrides_a_theme_template_and_the_css(make_site):
    site = make_site({
        "content/a.md": article("Only"),
        "templates/_footer.html": '<footer class="site-footer"><p>Our own footer</p></footer>\n',
        "templates/static/style.css": "body { color: rebeccapurple; }\n",
    })
    run_cli("build", "--site", str(site), check=True)
    out = site / "output"
    home = (out / "index.html").read_text()
    assert "Our own footer" in home and 'class="site-nav"' in home  # footer shadowed, header kept
    css = (out / "static" / "style.css").read_bytes()
    assert css == b"body { color: rebeccapurple; }\n"
    assert f"style.css?v={hashlib.sha256(css).hexdigest()[:10]}" in home


# -- a news archive's standard -------------------------------------------------------------------

REGIONAL_INDICATORS = re.compile("[\U0001F1E6-\U0001F1FF]")


def test_no_page_carries_a_regional_indicator_flag(sample_out, paged_out):
    for folder in (sample_out, paged_out):
        for path in folder.rglob("*"):
            if path.suffix in (".html", ".xml", ".json", ".txt", ".webmanifest"):
                assert not REGIONAL_INDICATORS.search(path.read_text(encoding="utf-8")), path
    assert (sample_out / "static/flags/jp.svg").is_file() and (sample_out / "static/flags/us.svg").is_file()
    assert len(list((sample_out / "static/flags").iterdir())) == 2  # the archive's countries only


def test_icons_and_the_manifest_resolve_from_every_page(sample_out):
    import json as json_module
    from PIL import Image
    home = (sample_out / "index.html").read_text()
    for tag in ('<link rel="icon" href="/favicon.ico" sizes="48x48">',
                '<link rel="icon" href="/favicon.svg" type="image/svg+xml">',
                '<link rel="apple-touch-icon" href="/apple-touch-icon.png">',
                '<link rel="manifest" href="/manifest.webmanifest">'):
        assert tag in home
    with Image.open(sample_out / "favicon.ico") as ico:
        assert ico.format == "ICO" and (48, 48) in ico.info["sizes"]
    with Image.open(sample_out / "apple-touch-icon.png") as touch:
        assert touch.size == (180, 180)
    manifest = json_module.loads((sample_out / "manifest.webmanifest").read_text())
    assert manifest["name"] == "Curated News Archive" and manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        with Image.open(sample_out / icon["src"].lstrip("/")) as image:
            assert "x".join(map(str, image.size)) == icon["sizes"]
    assert "<svg" in (sample_out / "favicon.svg").read_text() and ">CN<" in (sample_out / "favicon.svg").read_text()


def test_a_site_picture_makes_the_icons(make_site):
    from PIL import Image
    site = make_site({"content/a.md": article("A"), "site.toml": '[favicon]\nimage = "logo.png"\n'})
    Image.new("RGB", (300, 200), "#123456").save(site / "logo.png")
    run_cli("build", "--no-search", "--site", str(site), check=True)
    out = site / "output"
    assert not (out / "favicon.svg").exists() and 'type="image/svg+xml"' not in (out / "index.html").read_text()
    with Image.open(out / "icon-192.png") as icon:
        assert icon.size == (192, 192) and icon.getpixel((96, 96))[:3] == (0x12, 0x34, 0x56)
    # The cache keeps the icons with what they were made from: a new picture makes new ones,
    # and another full build (a new article) keeps them.
    Image.new("RGB", (300, 200), "#654321").save(site / "logo.png")
    run_cli("build", "--no-search", "--site", str(site), check=True)
    with Image.open(out / "icon-192.png") as icon:
        assert icon.getpixel((96, 96))[:3] == (0x65, 0x43, 0x21)
    icons = (out / "favicon.ico").read_bytes()
    (site / "content/b.md").write_text(article("B", "2025-06-14"), encoding="utf-8")
    run_cli("build", "--no-search", "--site", str(site), check=True)
    assert (out / "favicon.ico").read_bytes() == icons and (out / "2025/06/b/index.html").is_file()
    (site / "site.toml").write_text('[favicon]\n', encoding="utf-8")  # back to the initials
    run_cli("build", "--no-search", "--site", str(site), check=True)
    assert (out / "favicon.svg").is_file() and (out / "favicon.ico").read_bytes() != icons


def test_the_article_shows_its_standfirst_and_marks_external_links(paged_out, make_site):
    site = make_site({"content/a.md": article("A", summary="The standfirst, given.", related='[{title: Elsewhere, url: "https://example.org/x"}]'),
                      "content/b.md": article("B", "2025-06-14", body="A body whose first paragraph is the summary.")})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    a = (site / "output/2025/06/a/index.html").read_text()
    assert '<p class="standfirst" data-pagefind-ignore>The standfirst, given.</p>' in a
    assert ('<a href="https://example.org/x" rel="external noopener" class="external">Elsewhere'
            '<span class="visually-hidden" data-pagefind-ignore> (external site)</span></a>') in a
    assert 'class="standfirst"' not in (site / "output/2025/06/b/index.html").read_text()


def test_year_pages_list_their_articles_by_month_and_link_the_periods_around(make_site):
    site = make_site({"site.toml": "page_size = 2\n",
                      **{f"content/{y}-{m}.md": article(f"Story {y}-{m}", f"{y}-{m:02d}-10") for y in (2024, 2025)
                         for m in (1, 3, 7)}})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    out = site / "output"
    year = (out / "2025/index.html").read_text()
    assert year.index("July 2025</a></h2>") < year.index("Story 2025-7") < year.index("March 2025</a></h2>")
    # Three articles, two a page: the newest page takes the third rather than leave it alone on a page.
    assert "Story 2025-1" in year and not (out / "2025/page").exists()
    assert '<a class="period-older" href="/2024/"><span class="article-nav-label">Earlier</span> 2024</a>' in year
    assert "period-newer" not in year
    march = (out / "2025/03/index.html").read_text()
    assert '<a class="period-older" href="/2025/01/"><span class="article-nav-label">Earlier</span> January 2025</a>' in march
    assert '<a class="period-newer" href="/2025/07/"><span class="article-nav-label">Later</span> July 2025</a>' in march
    january = (out / "2025/01/index.html").read_text()
    assert 'href="/2024/07/"' in january  # across the turn of the year


def test_the_footer_links_feeds_indexes_search_and_the_sites_own_pages(make_site):
    site = make_site({"content/a.md": article("A"), "site.toml":
                      '[footer.links]\n"About" = "/about/"\n"Corrections policy" = "https://example.org/policy"\n'})
    run_cli("build", "--site", str(site), check=True)
    footer = (site / "output/index.html").read_text().split('<footer class="site-footer">')[1]
    for link in ('<a href="/countries/">Countries</a>', '<a href="/topics/">Topics</a>', '<a href="/archive/">Archive</a>',
                 '<a href="/search/">Search</a>', '<a href="/about/">About</a>',
                 '<a href="https://example.org/policy">Corrections policy</a>', '<a href="/feed.xml">Atom feed</a>'):
        assert link in footer, link


@pytest.mark.parametrize("width, columns", [(1280, 3), (800, 2)])
def test_no_card_is_left_alone_in_the_last_row_of_a_listing(browser, paged_origin, width, columns):
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        for path in ("/", "/page/2/", "/countries/kenya/", "/topics/trade/page/2/"):
            page.goto(paged_origin + path)
            gap = page.evaluate("""() => {
                const list = document.querySelector('.story-list');
                const last = list.lastElementChild.getBoundingClientRect();
                return (list.getBoundingClientRect().right - last.right) / list.getBoundingClientRect().width;
            }""")
            assert gap < 0.02, (path, gap)  # the last story ends at the list's right edge: its row is full
    finally:
        page.close()


def test_an_article_with_pictures_stays_under_the_size_budget_images_excluded(paged_out):
    html = (paged_out / "2025/04/part-1/index.html").read_bytes()
    css = (paged_out / "static" / "style.css").read_bytes()
    assert b"<picture" in html and b"body-picture" in html
    assert len(html) + len(css) < 30 * 1024, (len(html), len(css))


def test_template_calls_reach_plain_helpers_directly_and_context_helpers_with_their_context(tmp_path):
    # builder.templates calls plain helpers without Jinja's Context.call; the rest keep its way.
    import functools

    from jinja2 import pass_context

    from builder.templates import make_environment

    @pass_context
    def where(context, suffix):
        return context["name"] + suffix

    def loop_end():
        raise StopIteration

    env = make_environment((tmp_path,))
    env.globals.update(where=where, shout=str.upper, twice=functools.lru_cache()(lambda text: text * 2),
                       plain=lambda text: f"[{text}]", loop_end=loop_end)
    template = env.from_string(
        "{{ where('!') }} {{ shout(name) }} {{ twice(name) }} {{ plain(name) }}"
        "{% macro tag(x) %}<{{ x }}>{% endmacro %} {{ tag(name) }} "
        "{% for i in range(2) %}{{ loop.cycle('a', 'b') }}{{ plain(i) }}{% endfor %} {{ loop_end() is undefined }}")
    assert template.render(name="kyiv") == "kyiv! KYIV kyivkyiv [kyiv] <kyiv> a[0]b[1] True"
