"""The publishing lifecycle: "now" from SOURCE_DATE_EPOCH, scheduled articles held back
until their time (and published by a later build with no file changed)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import article, counts, run_cli, write_files

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


def epoch(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


SITE = {
    "content/a.md": article("Alpha talks", "2026-11-30", countries="[Japan]", topics="[Trade]",
                            related="[later]", body="Alpha body."),
    "content/later.md": article("Later talks", "2026-12-24T09:00:00", countries="[Japan, Chile]",
                                topics="[Trade, Energy]", body="The embargoed body."),
    "content/z.md": article("Far future", "2027-03-01", body="Even later."),
}


@pytest.fixture
def site(make_site, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(NOW))
    return make_site(SITE)


def everything_in(folder) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*"))
                     if p.is_file() and p.suffix in (".html", ".xml", ".json", ".txt"))


def test_an_article_dated_after_now_is_in_no_page_feed_sitemap_index_or_count(site):
    result = run_cli("build", "--site", str(site), check=True)
    assert counts(result.stdout)["articles"] == 1
    assert "; 2 scheduled articles held back, the next due 2026-12-24T09:00:00Z;" in result.stdout
    out = site / "output"
    text = everything_in(out)
    for held in ("Later talks", "later/", "The embargoed body", "Far future", "Energy", "Chile"):
        assert held not in text, held
    assert not (out / "2026/12").exists() and not (out / "topics/energy").exists()
    assert "1 article" in (out / "index.html").read_text()
    from builder.pagefind_files import unpack
    fragments = b"".join(unpack(p) for p in (out / "pagefind").rglob("*.pf_fragment"))
    assert b"embargoed" not in fragments and b"Alpha body" in fragments
    # The related link to the scheduled article is left out, without a problem.
    assert "Related" not in (out / "2026/11/a/index.html").read_text()
    schedule = json.loads((site / ".cache/schedule.json").read_text())
    assert schedule == {"scheduled": 2, "next_due": "2026-12-24T09:00:00+00:00",
                        "next_change": "2026-12-02T00:00:00+00:00"}  # a's day-old date leaves the news sitemap


def test_future_publishes_them_and_check_and_report_agree(site):
    checked = run_cli("check", "--site", str(site), check=True).stdout
    assert checked.startswith("ok: 1 article, ") and "2 scheduled articles held back" in checked
    assert counts(run_cli("check", "--future", "--site", str(site), check=True).stdout)["articles"] == 3
    report = json.loads(run_cli("report", "--json", "--site", str(site), check=True).stdout)
    assert report["articles"] == 1
    assert [(s["slug"], s["date"]) for s in report["scheduled"]] == [
        ("later", "2026-12-24T09:00:00+00:00"), ("z", "2027-03-01T00:00:00+00:00")]
    text = run_cli("report", "--site", str(site), check=True).stdout
    assert "Scheduled articles (held back until their date) (2)\n  2026-12-24 09:00:00+00:00  content/later.md  Later talks" in text
    run_cli("build", "--future", "--site", str(site), check=True)
    page = (site / "output/2026/11/a/index.html").read_text()
    assert 'href="/2026/12/later/"' in page and (site / "output/2027/03/z/index.html").is_file()


def test_the_clock_alone_publishes_a_scheduled_article(site, monkeypatch, tmp_path):
    run_cli("build", "--site", str(site), check=True)
    assert counts(run_cli("build", "--site", str(site), check=True).stdout)["written"] == 0  # nothing due yet
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(dt.datetime(2026, 12, 24, 9, 0, tzinfo=dt.timezone.utc)))
    result = run_cli("build", "-v", "--site", str(site), check=True)
    assert "whole site rebuilt: a scheduled article is due (since 2026-12-24T09:00:00+00:00)" in result.stderr
    assert counts(result.stdout)["articles"] == 2
    assert "; 1 scheduled article held back, the next due 2027-03-01T00:00:00Z;" in result.stdout
    out = site / "output"
    assert "Later talks" in (out / "index.html").read_text() and (out / "topics/energy/index.html").is_file()
    assert 'href="/2026/12/later/"' in (out / "2026/11/a/index.html").read_text()
    cold = tmp_path / "cold"
    run_cli("build", "--no-cache", "--site", str(site), "--out", str(cold), check=True)
    ours = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    theirs = {p.relative_to(cold): p.read_bytes() for p in cold.rglob("*") if p.is_file()}
    assert ours == theirs


def test_an_edit_that_moves_a_published_article_into_the_future_holds_it_back(site):
    run_cli("build", "--site", str(site), check=True)
    (site / "content/a.md").write_text(article("Alpha talks", "2026-12-02", countries="[Japan]", topics="[Trade]"))
    result = run_cli("build", "--site", str(site), check=True)
    assert counts(result.stdout)["articles"] == 0 and "3 scheduled articles held back" in result.stdout
    assert "Alpha talks" not in everything_in(site / "output")


def test_a_source_date_epoch_that_is_not_a_time_is_one_line(site, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == ("error: SOURCE_DATE_EPOCH='yesterday' is not a time: give whole "
                                              "seconds since 1970-01-01 UTC (such as 1781337600), or unset it to "
                                              "use the clock")


def test_duplicate_slugs_count_scheduled_articles_too(make_site, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(NOW))
    site = write_files(make_site({}), {"content/a.md": article("Alpha", "2026-11-30"),
                                       "content/b.md": article("Beta", "2027-01-01", slug="a")})
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1 and "duplicate slug 'a': also used by content/a.md" in result.stderr


# -- aliases and rename --------------------------------------------------------------------------

ARCHIVE = {
    "content/a.md": article("Alpha talks", "2025-06-13", countries="[Japan]", aliases='["/2025/05/alpha-old/", /old-alpha.html]'),
    "content/b.md": article("Beta talks", "2025-06-20", related="[a]"),
    "content/c.md": "---\ntitle: Gamma talks\ndate: 2025-06-25\n# kept as written\nrelated:\n  - a  # the talks\n"
                    "  - title: A headline without a link\n---\n\nGamma body.\n",
}


def test_aliases_are_small_redirect_pages_outside_the_sitemap(make_site):
    site = make_site({**ARCHIVE, "site.toml": 'base_url = "https://user.github.io/archive/"\n'
                                               "[aliases]\nredirects_file = true\n"})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    out = site / "output"
    page = (out / "2025/05/alpha-old/index.html").read_text()
    target = "https://user.github.io/archive/2025/06/a/"
    assert f'<meta http-equiv="refresh" content="0; url={target}">' in page
    assert f'<link rel="canonical" href="{target}">' in page
    assert '<meta name="robots" content="noindex">' in page
    assert '<a href="/archive/2025/06/a/">Alpha talks</a>' in page
    assert (out / "old-alpha.html").is_file()
    sitemap = (out / "sitemap.xml").read_text()
    assert "alpha-old" not in sitemap and "old-alpha" not in sitemap and "/archive/2025/06/a/" in sitemap
    assert (out / "_redirects").read_text().splitlines() == [
        "/archive/2025/05/alpha-old/ /archive/2025/06/a/ 301", "/archive/old-alpha.html /archive/2025/06/a/ 301"]


@pytest.mark.parametrize("files, problems", [
    ({"content/b.md": article("Beta talks", "2025-06-20", aliases='["/2025/06/a/"]')},
     ["content/b.md: alias '/2025/06/a/' is the address of the article content/a.md: remove it from aliases"]),
    ({"content/b.md": article("Beta talks", "2025-06-20", aliases='["/2025/05/alpha-old/"]')},
     ["content/a.md: alias '/2025/05/alpha-old/' is the address of an alias of content/b.md: remove it from aliases",
      "content/b.md: alias '/2025/05/alpha-old/' is the address of an alias of content/a.md: remove it from aliases"]),
    ({"content/b.md": article("Beta talks", "2025-06-20", aliases='["/countries/"]')},
     ["content/b.md: alias '/countries/' is the address of the site's terms page /countries/: remove it from aliases"]),
    ({"content/b.md": article("Beta talks", "2025-06-20", aliases='["https://example.org/x/", "/a/../b/"]')},
     ["content/b.md:4: alias '/a/../b/' is not a site path: write it as the old address without the host, such as "
      "'/2024/05/old-slug/'",
      "content/b.md:4: alias 'https://example.org/x/' is not a site path: write it as the old address without "
      "the host, such as '/2024/05/old-slug/'"]),
])
def test_an_alias_that_clashes_or_is_no_site_path_is_an_error_naming_the_files(make_site, files, problems):
    site = make_site({**ARCHIVE, **files})
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("content/")] == problems


def test_rename_rewrites_the_slug_the_alias_and_every_related_list_then_builds_with_no_broken_links(make_site):
    from linkcheck import crawl
    site = make_site(ARCHIVE)
    run_cli("build", "--no-search", "--site", str(site), check=True)
    result = run_cli("rename", "a", "alpha-deal", "--site", str(site), check=True)
    assert result.stdout.splitlines() == ["content/a.md", "content/b.md", "content/c.md"]
    a = (site / "content/a.md").read_text()
    assert "slug: alpha-deal\n" in a and 'aliases: ["/2025/05/alpha-old/", /old-alpha.html, "/2025/06/a/"]' in a
    assert "related: [alpha-deal]" in (site / "content/b.md").read_text()
    c = (site / "content/c.md").read_text()
    assert "# kept as written\n" in c and "  - alpha-deal  # the talks\n" in c
    built = run_cli("build", "--no-search", "--site", str(site), check=True)
    assert "moved from" not in built.stderr  # the alias covers the old address
    out = site / "output"
    assert 'url=/2025/06/alpha-deal/' in (out / "2025/06/a/index.html").read_text()
    assert 'href="/2025/06/alpha-deal/"' in (out / "2025/06/b/index.html").read_text()
    report = crawl(out)
    assert report.pages > 10 and report.broken == []


@pytest.mark.parametrize("old, new, message", [
    ("nowhere", "x", "no article has the slug 'nowhere' (builder report lists the archive)"),
    ("a", "b", "the slug 'b' is taken by content/b.md"),
    ("a", "Not A Slug", "'Not A Slug' is not a slug: use lowercase letters, digits and hyphens (such as 'not-a-slug')"),
])
def test_rename_refuses_and_changes_nothing(make_site, old, new, message):
    site = make_site(ARCHIVE)
    before = {p: p.read_text() for p in (site / "content").iterdir()}
    result = run_cli("rename", old, new, "--site", str(site))
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {message}")
    assert {p: p.read_text() for p in (site / "content").iterdir()} == before


def test_rename_writes_all_files_or_none(make_site, monkeypatch):
    import os
    site = make_site(ARCHIVE)
    before = {p.name: p.read_text() for p in (site / "content").iterdir()}
    real = os.replace
    calls = []

    def failing(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(target))
        return real(source, target)

    monkeypatch.setattr("builder.rename.os.replace", failing)
    assert run_cli("rename", "a", "alpha-deal", "--site", str(site)).returncode == 3
    assert {p.name: p.read_text() for p in (site / "content").iterdir()} == before


# -- vanished addresses ---------------------------------------------------------------------------

def test_an_address_that_vanishes_is_named_with_the_alias_that_keeps_it(make_site):
    site = make_site(ARCHIVE)
    run_cli("build", "--no-search", "--site", str(site), check=True)
    (site / "content/b.md").write_text(article("Beta talks", "2025-07-02", related="[a]"))  # a date change moves it
    (site / "content/c.md").unlink()
    checked = run_cli("check", "--site", str(site), check=True)
    built = run_cli("build", "--no-search", "--site", str(site), check=True)
    expected = ['note: content/b.md moved from /2025/06/b/ to /2025/07/b/: add aliases: ["/2025/06/b/"] to its '
                'front matter to keep its old address working',
                "note: the article published at /2025/06/c/ (content/c.md) is gone: its address now answers "
                "'not found'; to send readers elsewhere, add \"/2025/06/c/\" to another article's aliases"]
    for result in (checked, built):
        assert [line for line in result.stderr.splitlines() if line.startswith("note: ")] == expected
    again = run_cli("build", "--no-search", "--site", str(site), check=True)
    assert "note: " not in again.stderr  # said once, at the build that moved them


# -- corrections ----------------------------------------------------------------------------------

CORRECTED = article("Alpha talks", "2025-06-13", updated="2025-06-14",
                    corrections='[{date: 2025-06-16, text: "An earlier version gave the wrong round."}, '
                                '{date: 2025-06-15T08:30:00, text: "The minister\'s name is spelled Akazawa."}]')


def test_corrections_are_shown_dated_in_order_and_reach_metadata_feeds_and_their_page(make_site):
    import feedparser
    site = make_site({"content/a.md": CORRECTED, "content/b.md": article("Beta talks", "2025-06-20"),
                      "site.toml": 'base_url = "https://example.org/"\n'})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    out = site / "output"
    page = (out / "2025/06/a/index.html").read_text()
    notices = page[page.index('class="corrections"'):]
    assert notices.index("15 June 2025, 08:30") < notices.index("16 June 2025")
    assert "The minister&#39;s name is spelled Akazawa." in notices
    data = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert data["dateModified"] == "2025-06-16T00:00:00+00:00"
    assert data["correction"] == [
        {"@type": "CorrectionComment", "datePublished": "2025-06-15T08:30:00+00:00",
         "text": "The minister's name is spelled Akazawa."},
        {"@type": "CorrectionComment", "datePublished": "2025-06-16T00:00:00+00:00",
         "text": "An earlier version gave the wrong round."}]
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo
    entry = next(e for e in feed.entries if e.title == "Alpha talks")
    assert entry.updated == "2025-06-16T00:00:00+00:00"
    listing = (out / "corrections/index.html").read_text()
    assert listing.index("wrong round") < listing.index("Akazawa")  # newest first
    corrections = feedparser.parse((out / "corrections/feed.xml").read_bytes())
    assert not corrections.bozo and [e.title for e in corrections.entries] == ["Correction: Alpha talks"] * 2
    assert "corrections/" in (out / "sitemap.xml").read_text()


def test_a_site_without_corrections_has_no_corrections_page(make_site):
    site = make_site({"content/b.md": article("Beta talks", "2025-06-20")})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    assert not (site / "output/corrections").exists()


@pytest.mark.parametrize("value, message", [
    ('[{text: "No date."}]', "correction 1 has no date (such as date: 2025-06-14)"),
    ('[{date: 2025-06-01, text: "Too early."}]', "correction 1 is dated 2025-06-01, before the article itself"),
    ('[{date: 2025-06-14, text: "  "}]', "correction 1 has no text: say what was corrected"),
    ('[{date: 2025-06-14, text: "Fine."}, "just text"]', "correction 2 must be {date, text}"),
    ("yesterday", "'corrections' must be a list of {date, text}"),
])
def test_a_bad_correction_is_an_error_at_its_line(make_site, value, message):
    site = make_site({"content/a.md": article("Alpha talks", "2025-06-13", corrections=value)})
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1 and f"content/a.md:4: {message}" in result.stderr.splitlines()


# -- duplicates -----------------------------------------------------------------------------------

BODY = " ".join(f"word{n}" for n in range(80)) + "."


def test_check_and_import_warn_about_articles_that_look_like_the_same_story(make_site, tmp_path):
    site = make_site({
        "content/a.md": article("Talks resume in Geneva", "2025-06-13", body=BODY),
        "content/b.md": article("Talks Resume in Geneva!", "2025-06-13T18:00:00", body="Another text entirely."),
        "content/c.md": article("A different headline", "2025-07-01", body=BODY.replace("word40", "changed")),
        "content/d.md": article("Unrelated", "2025-08-01", body=" ".join(f"other{n}" for n in range(80))),
    })
    notes = [line for line in run_cli("check", "--site", str(site), check=True).stderr.splitlines()
             if line.startswith("note: ")]
    assert notes == [
        "note: content/a.md and content/b.md have the same title and date: one may be a duplicate of the other",
        "note: content/a.md and content/c.md have nearly the same text: one may be a duplicate of the other"]
    plain = tmp_path / "story.txt"
    plain.write_text("Title: Yet another headline\nDate: 2025-09-01\n\n" + BODY + "\n")
    result = run_cli("import", str(plain), "--dry-run", "--site", str(site), check=True)
    assert ("  warning: content/2025/a.md and content/2025/yet-another-headline.md have nearly the same text"
            not in result.stderr)  # paths as they are:
    assert "content/2025/yet-another-headline.md and content/a.md have nearly the same text" in result.stderr


def test_a_browser_follows_an_alias_under_a_subpath(make_site, browser, tmp_path):
    import shutil

    from conftest import serve_static
    site = make_site(ARCHIVE)
    run_cli("build", "--no-search", "--base-url", "/archive/", "--site", str(site), check=True)
    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(site / "output", root / "archive")
    with serve_static(root) as origin:
        page = browser.new_page()
        try:
            page.goto(f"{origin}/archive/2025/05/alpha-old/")
            page.wait_for_url(f"{origin}/archive/2025/06/a/", timeout=10_000)
            assert page.locator("h1").inner_text() == "Alpha talks"
        finally:
            page.close()
