"""Who wrote it and which story it belongs to: the author registry, author pages and feeds,
running stories, the Google News sitemap and OpenSearch."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ElementTree

import feedparser
import pytest

from conftest import article, run_cli, write_files
from linkcheck import crawl

REGISTRY = '''title = "Desk Archive"
publisher = "The Desk"
language = "en-GB"

[authors.a-reporter]
name = "A. Reporter"
bio = "Covers trade and the talks."
url = "https://example.org/people/a"

[authors.b-writer]
name = "B. Writer"
'''

SITE = {
    "site.toml": REGISTRY,
    "content/2025/p1.md": article("Talks open", "2025-06-01", author="a-reporter", story="Geneva Talks",
                                  countries="[Japan]", summary="The first round."),
    "content/2025/p2.md": article("Talks stall", "2025-06-08", author='["A. Reporter", "b-writer"]',
                                  story="geneva  talks", countries="[Japan]", summary="The second round."),
    "content/2025/p3.md": article("Talks end", "2025-06-15", author="B. Writer", story="Geneva talks",
                                  countries="[Chile]", summary="The last round."),
    "content/2025/other.md": article("Unrelated news", "2025-06-20", author="b-writer", countries="[Japan]"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = write_files(tmp_path_factory.mktemp("desk") / "site", SITE)
    run_cli("build", "--no-search", "--site", str(site), check=True)
    return site / "output"


def json_ld(page: str) -> dict:
    return json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])


def test_bylines_link_to_author_pages_and_json_ld_names_a_person_with_a_url(built):
    page = (built / "2025/06/p2/index.html").read_text()
    assert ('By <a href="/authors/a-reporter/" rel="author">A. Reporter</a> and '
            '<a href="/authors/b-writer/" rel="author">B. Writer</a>') in page
    assert json_ld(page)["author"] == [
        {"@type": "Person", "name": "A. Reporter", "url": "https://example.org/people/a"},  # the registry's url
        {"@type": "Person", "name": "B. Writer", "url": "/authors/b-writer/"}]  # the author page


def test_author_pages_list_their_articles_newest_first_with_bio_and_feed(built):
    index = (built / "authors/index.html").read_text()
    assert '<a href="/authors/a-reporter/">A. Reporter</a> <span class="count">2' in index
    assert '<a href="/authors/b-writer/">B. Writer</a> <span class="count">3' in index
    page = (built / "authors/b-writer/index.html").read_text()
    assert page.index("Unrelated news") < page.index("Talks end") < page.index("Talks stall")
    assert "Covers trade" in (built / "authors/a-reporter/index.html").read_text()
    assert ('<link rel="alternate" type="application/atom+xml" title="B. Writer · Desk Archive" '
            'href="/authors/b-writer/feed.xml">') in page
    feed = feedparser.parse((built / "authors/b-writer/feed.xml").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == ["Unrelated news", "Talks end", "Talks stall"]
    assert 'href="/authors/"' in (built / "index.html").read_text()  # in the navigation


def test_an_unknown_author_or_a_bad_registry_entry_is_an_error_at_its_line(make_site):
    site = make_site({**SITE, "content/2025/x.md": article("X", "2025-07-01", author="A. Reportr")})
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1
    assert ("content/2025/x.md:4: unknown author 'A. Reportr' (closest: A. Reporter); add them under "
            "[authors.<slug>] in site.toml") in result.stderr.splitlines()
    site = make_site({"site.toml": '[authors.a-reporter]\nbio = "No name."\n\n[authors."Not A Slug"]\nname = "X"\n'
                                   '\n[authors.c]\nname = "C"\nurl = "ftp://x"\nhandle = "@c"\n',
                      "content/a.md": article("A")}, name="bad-registry")
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("site.toml")] == [
        "site.toml:1: [authors.a-reporter] needs a name (name = \"A. Reporter\")",
        "site.toml:4: [authors.Not A Slug]: 'Not A Slug' is not a slug (lowercase letters, digits, hyphens): "
        "it names the author page",
        "site.toml:9: 'authors.c.url' must start with http://, https:// or /",
        "site.toml:10: unknown key 'authors.c.handle'"]


def test_without_a_registry_authors_are_free_text_with_pages(make_site):
    site = make_site({"content/a.md": article("A", author='["Free Lance", "free  lance"]')})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    assert (site / "output/authors/free-lance/index.html").is_file()


def test_a_three_part_story_shows_part_n_of_m_and_a_timeline(built):
    second = (built / "2025/06/p2/index.html").read_text()
    assert '<a href="/stories/geneva-talks/">Geneva Talks</a>: part 2 of 3' in second
    assert '<a rel="prev" href="/2025/06/p1/">Talks open</a>' in second
    assert '<a rel="next" href="/2025/06/p3/">Talks end</a>' in second
    assert "part 1 of 3" in (built / "2025/06/p1/index.html").read_text()
    assert json_ld(second)["isPartOf"] == {"@type": "CreativeWorkSeries", "name": "Geneva Talks",
                                           "url": "/stories/geneva-talks/"}
    timeline = (built / "stories/geneva-talks/index.html").read_text()
    assert timeline.index("Talks open") < timeline.index("Talks stall") < timeline.index("Talks end")
    assert "The second round." in timeline and '<time datetime="2025-06-08T00:00:00+00:00">' in timeline
    index = (built / "stories/index.html").read_text()
    assert ('<a href="/stories/geneva-talks/">Geneva Talks</a>\n    <span class="meta">3 parts, '
            '<time datetime="2025-06-01T00:00:00+00:00">1 June 2025</time> to '
            '<time datetime="2025-06-15T00:00:00+00:00">15 June 2025</time></span>') in index


def test_more_on_this_story_prefers_the_same_story(built):
    first = (built / "2025/06/p1/index.html").read_text()
    more = first[first.index('<section class="more">'):]
    # "Unrelated news" shares Japan with p1, as p2 does; p3 shares nothing but the story.
    assert more.index("Talks stall") < more.index("Talks end") < more.index("Unrelated news")


NOW = dt.datetime(2025, 6, 21, 12, 0, tzinfo=dt.timezone.utc)


def news_urls(path) -> list[tuple[str, str, str, str, str]]:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "n": "http://www.google.com/schemas/sitemap-news/0.9"}
    root = ElementTree.parse(path).getroot()
    return [(u.findtext("s:loc", namespaces=ns), u.findtext("n:news/n:publication/n:name", namespaces=ns),
             u.findtext("n:news/n:publication/n:language", namespaces=ns),
             u.findtext("n:news/n:publication_date", namespaces=ns), u.findtext("n:news/n:title", namespaces=ns))
            for u in root.findall("s:url", ns)]


def test_the_news_sitemap_holds_the_last_48_hours_and_moves_on_with_the_clock(make_site, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    site = make_site({**SITE, "site.toml": 'base_url = "https://news.example.org/"\n' + REGISTRY,
                      "content/2025/late.md": article("Late news", "2025-06-21T09:00:00")})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    out = site / "output"
    assert news_urls(out / "news-sitemap.xml") == [
        ("https://news.example.org/2025/06/late/", "The Desk", "en", "2025-06-21T09:00:00+00:00", "Late news"),
        ("https://news.example.org/2025/06/other/", "The Desk", "en", "2025-06-20T00:00:00+00:00",
         "Unrelated news")]
    assert "Sitemap: https://news.example.org/news-sitemap.xml" in (out / "robots.txt").read_text()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int((NOW + dt.timedelta(hours=13)).timestamp())))
    result = run_cli("build", "-v", "--no-search", "--site", str(site), check=True)
    assert "whole site rebuilt: the news sitemap's window moved on (since 2025-06-22T00:00:00+00:00)" in result.stderr
    assert [u[4] for u in news_urls(out / "news-sitemap.xml")] == ["Late news"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int((NOW + dt.timedelta(days=30)).timestamp())))
    run_cli("build", "--no-search", "--site", str(site), check=True)
    assert news_urls(out / "news-sitemap.xml") == []  # present, and valid when empty


def test_opensearch_is_described_and_linked_from_every_page(built, make_site):
    site = make_site(SITE)
    run_cli("build", "--site", str(site), "--base-url", "https://news.example.org/", check=True)
    out = site / "output"
    description = ElementTree.parse(out / "opensearch.xml").getroot()
    ns = {"o": "http://a9.com/-/spec/opensearch/1.1/"}
    assert description.findtext("o:ShortName", namespaces=ns) == "Desk Archive"
    assert description.find("o:Url", ns).get("template") == "https://news.example.org/search/?q={searchTerms}"
    for page in out.rglob("*.html"):
        if "refresh" not in page.read_text():
            assert ('<link rel="search" type="application/opensearchdescription+xml" title="Desk Archive" '
                    'href="/opensearch.xml">') in page.read_text(), page


def test_a_browser_finds_the_opensearch_description_and_its_search(make_site, browser):
    from conftest import serve_static
    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    with serve_static(site / "output") as origin:
        page = browser.new_page()
        try:
            page.goto(origin + "/2025/06/p2/")
            href = page.evaluate("document.querySelector('link[rel=search]').href")
            assert href == origin + "/opensearch.xml"
            template = page.evaluate("""async (href) => {
                const text = await (await fetch(href)).text();
                const xml = new DOMParser().parseFromString(text, 'application/xml');
                return xml.getElementsByTagName('Url')[0].getAttribute('template');
            }""", href)
            page.goto(origin + template.replace("{searchTerms}", "stall"))
            page.wait_for_selector("text=Talks stall", timeout=15_000)
        finally:
            page.close()


def test_report_counts_authors_and_stories_and_new_and_import_take_them(make_site, tmp_path):
    site = make_site(SITE)
    report = json.loads(run_cli("report", "--json", "--site", str(site), check=True).stdout)
    assert report["authors"] == [{"name": "B. Writer", "count": 3}, {"name": "A. Reporter", "count": 2}]
    assert report["stories"] == [{"name": "Geneva Talks", "count": 3}]
    made = run_cli("new", "Talks resume", "--author", "a-reporter", "--story", "Geneva talks", "--site", str(site),
                   check=True)
    text = open(made.stdout.strip(), encoding="utf-8").read()
    assert 'author: ["A. Reporter"]' in text and 'story: "Geneva talks"' in text
    bad = run_cli("new", "Talks resume", "--author", "Nobody", "--site", str(site))
    assert bad.returncode == 1 and "unknown author 'Nobody'" in bad.stderr
    plain = tmp_path / "plain.txt"
    plain.write_text("Title: Imported talks\nDate: 2025-06-30\n\nA body line about the talks.\n")
    imported = run_cli("import", str(plain), "--author", "B. Writer", "--story", "Geneva Talks", "--dry-run",
                       "--site", str(site), check=True).stdout
    assert 'author: ["B. Writer"]' in imported and 'story: "Geneva Talks"' in imported


@pytest.mark.parametrize("base_url", ["/", "https://user.github.io/archive/"])
def test_the_new_pages_have_no_broken_links(make_site, base_url):
    site = make_site({**SITE, "content/2025/p1.md": article(
        "Talks open", "2025-06-01", author="a-reporter", story="Geneva Talks", aliases='["/2025/05/early/"]',
        corrections='[{date: 2025-06-02, text: "A name was wrong."}]')})
    run_cli("build", "--site", str(site), "--base-url", base_url, check=True)
    report = crawl(site / "output", base_url)
    assert report.pages > 20 and report.broken == []
