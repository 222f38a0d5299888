"""Feeds, sitemap, robots.txt and article metadata, read back the way feed readers,
crawlers and link previews read them, and cross-checked against the built pages."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET

import feedparser
import pytest

from conftest import CORPUS_SIZE, REPO, article, run_cli, write_files
from publishing import ATOM, SITEMAP, file_for, head, html_pages, sitemap_entries

BASE = "https://example.org/archive/"  # a project site: origin plus a base path
ARTICLE_PATH = re.compile(r"/archive/\d{4}/\d{2}/[^/]+/")  # an article's root-relative URL under BASE

HOSTILE_TITLE = """</script><script>alert(1)</script> "Quoted" & 'single' <b>bold</b> &amp; done"""
HOSTILE_SUMMARY = 'Summary with </script><script>alert(2)</script>, "quotes" & <i>tags</i>'
HOSTILE_AUTHOR = "O'Brien & \"Sons\" </script>"
HOSTILE_TOPIC = "Q&A </script>"
HOSTILE_SOURCE = {"name": 'Wire "X" & <Y>', "url": 'https://example.org/story?a=1&b="2"&c=</script>'}
HOSTILE_ALT = 'Alt "text" & </script><script>alert(3)</script>'


def yaml_value(value) -> str:
    """A front-matter value as YAML text (JSON is YAML)."""
    return json.dumps(value)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """A small site whose newest article has hostile text in every front-matter field."""
    site = tmp_path_factory.mktemp("hostile") / "site"
    files = {
        "site.toml": f'title = "Hostile & <Test> \\"Archive\\""\nbase_url = "{BASE}"\n'
                     '[search]\nenabled = false\n[feeds]\nsize = 2\n',
        "content/plain.md": article("A plain article", "2025-06-10", "Plain body.", slug="plain",
                                    countries="[Japan]", topics="[Trade]"),
        "content/older.md": article("An older article", "2025-06-01", "Older body.", slug="older",
                                    countries="[Japan]", topics="[Trade]"),
        "content/hostile.md": article(
            yaml_value(HOSTILE_TITLE), "2025-06-13T09:30:00", "Body with <script>alert(4)</script> & more.",
            slug="hostile", updated="2025-06-14T08:00:00", summary=yaml_value(HOSTILE_SUMMARY),
            author=yaml_value([HOSTILE_AUTHOR]), countries="[Japan, France]",
            topics=yaml_value(["Trade", HOSTILE_TOPIC]), source=yaml_value(HOSTILE_SOURCE),
            image=yaml_value({"src": "https://cdn.example.org/images/a.jpg", "alt": HOSTILE_ALT})),
    }
    write_files(site, files)
    run_cli("build", "--site", str(site), check=True)
    return site / "output"


def test_hostile_front_matter_escapes_nowhere_in_the_article_page(hostile_site):
    plain, page = head(hostile_site / "2025/06/plain/index.html"), head(hostile_site / "2025/06/hostile/index.html")
    # Only the JSON-LD script: nothing in the front matter opened or closed a script element.
    assert [s["type"] for s in page.scripts] == [s["type"] for s in plain.scripts]
    assert [s["type"] for s in page.scripts].count("application/ld+json") == 1
    assert page.title == f'{HOSTILE_TITLE} · Hostile & <Test> "Archive"'
    assert page.h1 == HOSTILE_TITLE
    assert page.one("og:title") == page.one("twitter:title") == HOSTILE_TITLE
    assert page.one("description") == page.one("og:description") == HOSTILE_SUMMARY
    assert page.one("og:image:alt") == page.one("twitter:image:alt") == HOSTILE_ALT
    assert page.meta["article:tag"] == ["Japan", "France", "Trade", HOSTILE_TOPIC]  # countries, then topics
    (data,) = page.json_ld()
    assert data["headline"] == HOSTILE_TITLE
    assert data["description"] == HOSTILE_SUMMARY
    assert data["author"] == [{"@type": "Person", "name": HOSTILE_AUTHOR,
                               "url": "https://example.org/archive/authors/o-brien-sons-script/"}]
    assert data["isBasedOn"] == HOSTILE_SOURCE["url"]
    assert HOSTILE_TOPIC in data["keywords"]
    assert data["publisher"] == {"@type": "Organization", "name": 'Hostile & <Test> "Archive"'}
    # tojson escapes <, >, & and ' inside the script, so no literal '</' can end it early.
    script = page.scripts[0]["text"]
    assert "</" not in script and "<script" not in script


@pytest.mark.parametrize("value", ["plain", "", "</script><!-- & 'q' \"d\" \\ \u2028 \x00 é 😀",
                                   ["a<b", "c&d"], []])
def test_json_ld_values_are_written_as_tojson_writes_them(value):
    # builder.metadata writes the JSON-LD in Python: each value must be what the tojson filter gave.
    from jinja2.utils import htmlsafe_json_dumps
    from builder.metadata import _json, _json_list
    written = _json_list(value) if isinstance(value, list) else _json(value)
    assert written == htmlsafe_json_dumps(value, json.dumps, sort_keys=True)


def test_article_metadata_fields(hostile_site):
    page = head(hostile_site / "2025/06/hostile/index.html")
    link = BASE + "2025/06/hostile/"
    assert page.link("canonical") == [link]
    assert page.one("og:type") == "article"
    assert page.one("og:url") == link
    assert page.one("og:image") == page.one("twitter:image") == "https://cdn.example.org/images/a.jpg"
    assert page.one("twitter:card") == "summary_large_image"
    assert page.one("article:published_time") == "2025-06-13T09:30:00+00:00"
    assert page.one("article:modified_time") == "2025-06-14T08:00:00+00:00"
    assert page.one("article:section") == "Trade"
    (data,) = page.json_ld()
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    assert data["datePublished"] == "2025-06-13T09:30:00+00:00"
    assert data["dateModified"] == "2025-06-14T08:00:00+00:00"
    assert data["url"] == data["mainEntityOfPage"] == link
    assert data["image"] == ["https://cdn.example.org/images/a.jpg"]
    plain = head(hostile_site / "2025/06/plain/index.html")
    (plain_data,) = plain.json_ld()
    assert "isBasedOn" not in plain_data and "image" not in plain_data
    assert plain_data["author"] == [{"@type": "Organization", "name": 'Hostile & <Test> "Archive"'}]
    assert plain.one("twitter:card") == "summary"


def test_hostile_text_round_trips_through_the_feeds(hostile_site):
    parsed = feedparser.parse((hostile_site / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == 'Hostile & <Test> "Archive"'
    # XML, read without feedparser's clean-ups: the exact strings come back.
    root = ET.parse(hostile_site / "feed.xml").getroot()
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == HOSTILE_TITLE
    assert entry.findtext(f"{ATOM}summary") == HOSTILE_SUMMARY
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == HOSTILE_AUTHOR
    assert HOSTILE_TOPIC in [c.get("term") for c in entry.findall(f"{ATOM}category")]
    assert "<script>alert(4)</script>" not in entry.findtext(f"{ATOM}content")  # the body's HTML is escaped
    items = json.loads((hostile_site / "feed.json").read_text())["items"]
    assert items[0]["title"] == HOSTILE_TITLE
    assert items[0]["summary"] == HOSTILE_SUMMARY
    assert items[0]["authors"] == [{"name": HOSTILE_AUTHOR,
                                    "url": "https://example.org/archive/authors/o-brien-sons-script/"}]
    assert items[0]["external_url"] == HOSTILE_SOURCE["url"]
    assert HOSTILE_TOPIC in items[0]["tags"]


def test_site_feed_entries_dates_and_categories(hostile_site):
    parsed = feedparser.parse((hostile_site / "feed.xml").read_bytes())
    assert not parsed.bozo
    # [feeds] size = 2: the two newest by date, newest first.
    assert [e.link for e in parsed.entries] == [BASE + "2025/06/hostile/", BASE + "2025/06/plain/"]
    first = parsed.entries[0]
    assert first.id == BASE + "2025/06/hostile/"
    assert first.published == "2025-06-13T09:30:00+00:00"
    assert first.updated == "2025-06-14T08:00:00+00:00"
    assert parsed.feed.updated == "2025-06-14T08:00:00+00:00"  # the latest change among the entries
    # One category per country and topic; the scheme tells which taxonomy it is.
    assert [(t.term, t.scheme) for t in first.tags] == [
        ("Japan", BASE + "countries/"), ("France", BASE + "countries/"),
        ("Trade", BASE + "topics/"), (HOSTILE_TOPIC, BASE + "topics/")]
    assert parsed.feed.links[0].href == BASE + "feed.xml" and parsed.feed.links[0].rel == "self"
    feed_json = json.loads((hostile_site / "feed.json").read_text())
    assert feed_json["version"] == "https://jsonfeed.org/version/1.1"
    assert feed_json["feed_url"] == BASE + "feed.json" and feed_json["home_page_url"] == BASE
    assert [i["url"] for i in feed_json["items"]] == [e.link for e in parsed.entries]
    assert feed_json["items"][0]["date_published"] == "2025-06-13T09:30:00+00:00"
    assert feed_json["items"][0]["date_modified"] == "2025-06-14T08:00:00+00:00"


def test_term_feeds_and_autodiscovery(hostile_site):
    japan = feedparser.parse((hostile_site / "countries/japan/feed.xml").read_bytes())
    assert not japan.bozo
    assert japan.feed.title.startswith("Japan · ")
    assert [e.link for e in japan.entries] == [BASE + "2025/06/hostile/", BASE + "2025/06/plain/"]
    france = feedparser.parse((hostile_site / "countries/france/feed.xml").read_bytes())
    assert not france.bozo and [e.link for e in france.entries] == [BASE + "2025/06/hostile/"]
    hostile_topic = next(p for p in (hostile_site / "topics").iterdir() if p.name.startswith("q-a"))
    topic = feedparser.parse((hostile_topic / "feed.xml").read_bytes())
    assert not topic.bozo and topic.feed.title.startswith(HOSTILE_TOPIC)
    topic_page, plain_topic = head(hostile_topic / "index.html"), head(hostile_site / "topics/trade/index.html")
    assert len(topic_page.scripts) == len(plain_topic.scripts)
    term_links = [l for l in topic_page.links if l.get("href", "").endswith(f"{hostile_topic.name}/feed.xml")]
    assert [l["title"] for l in term_links] == [f'{HOSTILE_TOPIC} · Hostile & <Test> "Archive"']

    home = head(hostile_site / "index.html")
    assert home.link("alternate", "application/atom+xml") == [BASE + "feed.xml"]
    assert home.link("alternate", "application/feed+json") == [BASE + "feed.json"]
    term_page = head(hostile_site / "countries/japan/index.html")
    assert term_page.link("alternate", "application/atom+xml") == [BASE + "feed.xml",
                                                                   BASE + "countries/japan/feed.xml"]
    assert term_page.link("canonical") == [BASE + "countries/japan/"]
    assert head(hostile_site / "404.html").link("canonical") == []


def test_robots_points_to_the_sitemap(hostile_site):
    lines = (hostile_site / "robots.txt").read_text().splitlines()
    assert f"Sitemap: {BASE}sitemap.xml" in lines
    assert "User-agent: *" in lines


def check_sitemap_against_pages(out, base):
    """Every article and listing page is in the sitemap, and every sitemap URL is a built page."""
    entries = sitemap_entries(out / "sitemap.xml")
    pages = {base + url for url in html_pages(out) if url != "search/"}
    assert set(entries) == pages
    for loc, lastmod in entries.items():
        assert lastmod, loc
    return entries


def test_sitemap_lists_every_page_with_lastmod(hostile_site):
    entries = check_sitemap_against_pages(hostile_site, BASE)
    assert entries[BASE + "2025/06/hostile/"] == "2025-06-14T08:00:00+00:00"
    assert entries[BASE + "2025/06/plain/"] == "2025-06-10T00:00:00+00:00"
    assert entries[BASE] == "2025-06-14T08:00:00+00:00"
    assert entries[BASE + "countries/france/"] == "2025-06-14T08:00:00+00:00"
    assert BASE + "404.html" not in entries


@pytest.fixture(scope="module")
def generated_site(corpus, tmp_path_factory):
    """The shared generated archive built for a project site, feeds of 10."""
    site = tmp_path_factory.mktemp("generated") / "site"
    shutil.copytree(corpus / "content", site / "content")
    (site / "site.toml").write_text(f'base_url = "{BASE}"\n[search]\nenabled = false\n[feeds]\nsize = 10\n')
    run_cli("build", "--site", str(site), check=True)
    return site / "output"


def test_json_ld_parses_on_every_article_of_a_generated_archive(generated_site):
    entries = check_sitemap_against_pages(generated_site, BASE)
    article_url = re.compile(re.escape(BASE) + r"\d{4}/\d{2}/(?!page/)[^/]+/$")  # BASE + YYYY/MM/slug/
    articles = [url for url in entries if article_url.match(url)]
    assert len(articles) == CORPUS_SIZE
    for url in articles:
        page = head(file_for(generated_site, url, BASE))
        (data,) = page.json_ld()
        assert data["@type"] == "NewsArticle" and data["url"] == url
        assert data["headline"] == page.one("og:title") == page.h1
        assert data["dateModified"] == page.one("article:modified_time") == entries[url]
        assert data["keywords"] == page.meta.get("article:tag", [])


def test_generated_feeds_follow_their_listing_pages(generated_site):
    feeds = [generated_site / "feed.xml", *sorted(generated_site.glob("countries/*/feed.xml")),
             *sorted(generated_site.glob("topics/*/feed.xml"))]
    assert len(feeds) > 10
    for feed in feeds:
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
        # The feed's entries are the first ten articles of its HTML listing, in order.
        listing_links = _article_links(feed.parent / "index.html")
        assert [e.link for e in parsed.entries] == [BASE.removesuffix("/archive/") + h for h in listing_links[:10]]
        for entry in parsed.entries:
            article = head(file_for(generated_site, entry.link, BASE))
            (data,) = article.json_ld()
            assert entry.published == data["datePublished"] and entry.updated == data["dateModified"]
            assert sorted(t.term for t in entry.tags) == sorted(data["keywords"])


def _article_links(path) -> list[str]:
    """Article URLs linked from a listing page, in order of first appearance (whatever the theme's markup)."""
    hrefs = [l for l in re.findall(r'href="([^"]+)"', path.read_text()) if ARTICLE_PATH.fullmatch(l)]
    return list(dict.fromkeys(hrefs))


def test_sample_site_json_ld_and_feeds(tmp_path):
    out = tmp_path / "out"
    run_cli("build", "--site", str(REPO), "--out", str(out), "--base-url", "https://user.github.io/repo",
            "--no-search", check=True)
    base = "https://user.github.io/repo/"
    entries = check_sitemap_against_pages(out, base)
    for url in entries:
        page = head(file_for(out, url, base))
        assert page.link("canonical") == [url]
        if url.count("/") == 7:
            (data,) = page.json_ld()
            assert data["headline"] == page.h1
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 1


def test_sitemap_index_past_the_url_limit(make_site, monkeypatch):
    from builder import sitemap
    from builder.build import BuildOptions, build
    monkeypatch.setattr(sitemap, "URLS_PER_SITEMAP", 5)
    site = make_site({"site.toml": f'base_url = "{BASE}"\n[search]\nenabled = false\n',
                      **{f"content/a{n}.md": article(f"Article {n}", f"2025-06-{n + 1:02d}", topics="[Trade]")
                         for n in range(8)}})
    build(BuildOptions(site=site))
    out = site / "output"
    root = ET.parse(out / "sitemap.xml").getroot()
    assert root.tag == f"{SITEMAP}sitemapindex"
    parts = [s.findtext(f"{SITEMAP}loc") for s in root.iter(f"{SITEMAP}sitemap")]
    assert parts == [f"{BASE}sitemap-{n}.xml" for n in range(1, len(parts) + 1)]
    listed = {}
    for part in parts:
        part_entries = sitemap_entries(file_for(out, part, BASE))
        assert 0 < len(part_entries) <= 5
        listed.update(part_entries)
    assert set(listed) == {BASE + url for url in html_pages(out) if url != "search/"}
    assert (out / "robots.txt").read_text().count(f"Sitemap: {BASE}sitemap.xml") == 1


def test_feed_size_comes_from_site_toml(make_site):
    site = make_site({"site.toml": '[feeds]\nsize = 3\n[search]\nenabled = false\n',
                      **{f"content/a{n}.md": article(f"Article {n}", f"2025-06-{n + 1:02d}") for n in range(5)}})
    run_cli("build", "--site", str(site), check=True)
    parsed = feedparser.parse((site / "output/feed.xml").read_bytes())
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == ["Article 4", "Article 3", "Article 2"]


def test_a_path_only_base_url_keeps_urls_root_relative(make_site):
    site = make_site({"content/a.md": article("A", countries="[Japan]"), "site.toml": '[search]\nenabled = false\n'})
    result = run_cli("build", "--site", str(site), check=True)
    assert "note" not in result.stderr  # a local build with the default '/' is normal (deploy warns)
    assert result.stdout.rstrip().endswith(
        "; base_url has no host, so canonical links and robots.txt's Sitemap lines were left out")
    out = site / "output"
    # What must be absolute is left out rather than pointing at a made-up host or a relative URL.
    assert head(out / "2025/06/a/index.html").link("canonical") == []
    assert "Sitemap:" not in (out / "robots.txt").read_text()
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo and parsed.entries[0].id == "/2025/06/a/"
    assert "/2025/06/a/" in sitemap_entries(out / "sitemap.xml")


def test_size_note_near_and_over_the_pages_limit(make_site, monkeypatch):
    from builder import hosting
    from builder.build import BuildOptions, build
    assert hosting.size_note(100) == ""
    limit = hosting.PAGES_SIZE_LIMIT
    assert hosting.size_note(int(limit * 0.79)) == ""
    assert "close to GitHub Pages' 1 GB limit" in hosting.size_note(int(limit * 0.85))
    assert "over GitHub Pages' 1 GB limit" in hosting.size_note(int(limit * 1.2))
    site = make_site({"content/a.md": article("A"), "site.toml": 'base_url = "https://e.org/"\n'
                                                                 '[search]\nenabled = false\n'})
    assert build(BuildOptions(site=site)).notes == []
    monkeypatch.setattr(hosting, "PAGES_SIZE_LIMIT", 1000)  # the tiny site is now "over"
    size = hosting.folder_size(site / "output")
    assert size > 1000
    notes = build(BuildOptions(site=site)).notes
    assert len(notes) == 1 and "over GitHub Pages' 1 GB limit" in notes[0]
