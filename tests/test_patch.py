"""Patched rebuilds (builder.patch): an edit that keeps the archive's shape re-renders only
the pages that refer to the article, and the site is still exactly what a cold build makes.

Which way a build went shows in its summary: a patched build times a "patch" step and no
"archive" step.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import article, counts, run_cli, write_files
from test_cache import assert_same_as_cold, build, mtimes


def patched(summary: str) -> bool:
    return " patch " in summary and " archive " not in summary


def rendered(summary: str) -> int:
    return int(summary.split("(", 1)[1].split(" rendered")[0].replace(",", ""))


SITE = {
    "content/a.md": article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]"),
    "content/b.md": article("Beta talks", "2025-06-20", countries="[Japan, US]", topics="[Trade]",
                            related="[a]"),
    "content/c.md": article("Gamma talks", "2025-06-25", countries="[Japan]", topics="[TRADE, Energy]"),
    "content/d.md": article("Delta talks", "2025-05-02", countries="[Germany]", topics="[Energy]"),
}


def test_body_and_title_edits_in_a_large_archive_are_patched(corpus, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(corpus, site)
    build(site)
    path = sorted((site / "content").rglob("*.md"))[150]
    text = path.read_text()
    path.write_text(text + "\nA closing paragraph added later.\n")
    summary = build(site)
    assert patched(summary), summary
    assert 1 <= rendered(summary) < 30, summary
    assert_same_as_cold(site, tmp_path)

    lines = path.read_text().split("\n")
    title = next(line for line in lines if line.startswith("title:"))
    path.write_text("\n".join('title: "A Retitled Story"' if line == title else line for line in lines))
    before = mtimes(site / "output")
    summary = build(site)
    assert patched(summary), summary
    after = mtimes(site / "output")
    changed = [name for name in after if after[name] != before.get(name)]
    assert 3 <= len(changed) < 40, changed  # its page, its listings, the pages linking to it
    showing = [p for p in (site / "output").rglob("*.html") if "A Retitled Story" in p.read_text()]
    assert len(showing) >= 4  # its page, home or an older home page, its terms, its month
    assert_same_as_cold(site, tmp_path)


def test_title_edit_is_patched_into_listings_links_and_feeds(make_site, tmp_path):
    site = make_site(SITE)
    build(site)
    (site / "content/a.md").write_text(article("Alpha deal", "2025-06-13", countries="[Japan]",
                                               topics="[Trade]", body="A new body line."))
    summary = build(site)
    assert patched(summary), summary
    out = site / "output"
    for page in ("index.html", "countries/japan/index.html", "topics/trade/index.html",
                 "2025/06/index.html", "2025/06/b/index.html", "feed.xml", "countries/japan/feed.xml"):
        text = (out / page).read_text()
        assert "Alpha deal" in text and "Alpha talks" not in text, page
    assert "A new body line." in (out / "feed.xml").read_text()
    assert_same_as_cold(site, tmp_path)


def test_canonical_topic_names_survive_a_patch(make_site, tmp_path):
    site = make_site(SITE)
    build(site)
    # c spells its topic "TRADE"; the archive shows the most used spelling, "Trade".
    (site / "content/c.md").write_text(article("Gamma talks", "2025-06-25", countries="[Japan]",
                                               topics="[TRADE, Energy]", body="Edited body."))
    summary = build(site)
    assert patched(summary), summary
    page = (site / "output/2025/06/c/index.html").read_text()
    assert ">Trade<" in page and "TRADE" not in page
    assert_same_as_cold(site, tmp_path)


@pytest.mark.parametrize("edit", [
    article("Alpha talks", "2025-06-14", countries="[Japan]", topics="[Trade]"),  # date
    article("Alpha talks", "2025-06-13", countries="[Japan, China]", topics="[Trade]"),  # country
    article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade, Steel]"),  # topic
    article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[trade]"),  # topic spelling
    article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]", related="[d]"),
    article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]", slug="alpha"),
    article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]", draft="true"),
    article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]",
            updated="2025-07-01"),  # the sitemap's lastmod
])
def test_edits_that_change_the_archive_shape_take_the_full_build(make_site, tmp_path, edit):
    site = make_site({**SITE, "content/b.md": article("Beta talks", "2025-06-20", countries="[Japan, US]",
                                                      topics="[Trade]")})
    build(site)
    (site / "content/a.md").write_text(edit)
    summary = build(site)
    assert not patched(summary), summary
    assert_same_as_cold(site, tmp_path)


def test_added_and_removed_files_take_the_full_build(make_site, tmp_path):
    site = make_site(SITE)
    build(site)
    write_files(site, {"content/e.md": article("Epsilon talks", "2025-06-01", countries="[Japan]")})
    assert not patched(build(site))
    (site / "content/d.md").unlink()
    assert not patched(build(site))
    assert_same_as_cold(site, tmp_path)


def test_a_page_reading_the_whole_archive_is_never_patched_stale(make_site, tmp_path):
    site = make_site({**SITE, "templates/_footer.html":
                      '<footer class="site-footer"><p>Latest: {{ archive.articles[0].title }}</p></footer>\n'})
    build(site)
    (site / "content/c.md").write_text(article("Gamma deal", "2025-06-25", countries="[Japan]",
                                               topics="[TRADE, Energy]"))
    summary = build(site)
    assert not patched(summary), summary
    assert all("Latest: Gamma deal" in p.read_text() for p in (site / "output").rglob("index.html"))
    assert_same_as_cold(site, tmp_path)


def test_a_draft_edit_changes_nothing(make_site, tmp_path):
    site = make_site({**SITE, "content/e.md": article("Epsilon talks", "2025-06-01", draft="true")})
    build(site)
    before = mtimes(site / "output")
    (site / "content/e.md").write_text(article("Epsilon talks", "2025-06-01", draft="true", body="More."))
    summary = build(site)
    assert patched(summary) and counts(summary)["written"] == 0, summary
    assert mtimes(site / "output") == before
    assert_same_as_cold(site, tmp_path)


def test_a_broken_edit_is_reported_and_changes_nothing(make_site, tmp_path):
    site = make_site(SITE)
    build(site)
    before = mtimes(site / "output")
    (site / "content/a.md").write_text("---\ntitle: [unclosed\ndate: 2025-06-13\n---\nBody.\n")
    result = run_cli("build", "--site", str(site), "--no-search")
    assert result.returncode == 1
    assert "content/a.md:3: invalid YAML" in result.stderr
    assert mtimes(site / "output") == before
    (site / "content/a.md").write_text(article("Alpha talks", "2025-06-13", countries="[Japan]",
                                               topics="[Trade]", body="Fixed."))
    build(site)
    assert_same_as_cold(site, tmp_path)


def test_a_build_that_indexes_search_runs_the_whole_way(make_site, tmp_path):
    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    (site / "content/a.md").write_text(article("Alpha talks", "2025-06-13", countries="[Japan]",
                                               topics="[Trade]", body="Searchable new words."))
    summary = run_cli("build", "--site", str(site), check=True).stdout
    assert not patched(summary) and " search " in summary, summary


def test_many_patches_in_one_process_as_serve_makes_them(make_site, tmp_path):
    """serve keeps one Cache across rebuilds: patch after patch must stay patches and right
    (a partial view of the cache once pruned every other article's body)."""
    from builder.build import BuildOptions, build as build_site
    from builder.cache import Cache
    from builder.config import load_config
    from builder.options import cache_key

    site = make_site(SITE)
    build(site)  # the cache on disk comes from another process, as when serve starts
    options = BuildOptions(site=site, search=False, index_search=False)
    config = load_config(site, None)
    cache = Cache.open(config.cache_dir, cache_key(config))
    try:
        for round_, name in enumerate(["a", "a", "b", "c", "d", "b"]):
            text = (site / f"content/{name}.md").read_text()
            (site / f"content/{name}.md").write_text(text + f"\nEdit {round_}.\n")
            result = build_site(options, cache=cache)
            assert result.patched, (round_, result.full_because)
        cache.load_records()
        assert {r.article.body_digest for r in cache.articles.values()} <= cache.body_digests()
    finally:
        cache.close()
    assert_same_as_cold(site, tmp_path)


def test_a_draft_sharing_a_published_slug_never_shows(make_site, tmp_path):
    """A draft left out may carry a published article's slug; a patch must not mix them up."""
    site = make_site({**SITE, "content/z.md": article("Draft of alpha", "2025-06-13", slug="a",
                                                      draft="true", countries="[Japan]", topics="[Trade]")})
    build(site)
    (site / "content/z.md").write_text(article("Draft of alpha", "2025-06-13", slug="a", draft="true",
                                               countries="[Japan]", topics="[Trade]", body="Secret."))
    assert patched(build(site))
    (site / "content/b.md").write_text(article("Beta talks", "2025-06-20", countries="[Japan, US]",
                                               topics="[Trade]", related="[a]", body="Beta edited."))
    assert patched(build(site))
    assert not any("Draft of alpha" in p.read_text() or "Secret." in p.read_text()
                   for p in (site / "output").rglob("*.html"))
    assert_same_as_cold(site, tmp_path)


def test_files_removed_from_or_added_to_the_output_are_noticed(make_site, tmp_path):
    """The output is checked by folder times, not listed: a deleted page comes back and a
    stray file goes, with no input changed, and alongside a patchable edit."""
    site = make_site(SITE)
    build(site)
    (site / "output/2025/06/a/index.html").unlink()
    (site / "output/2025/06/stray.html").write_text("not ours")
    summary = build(site)
    assert (site / "output/2025/06/a/index.html").exists()
    assert not (site / "output/2025/06/stray.html").exists()
    assert counts(summary)["removed"] == 1, summary
    assert_same_as_cold(site, tmp_path)

    (site / "output/countries/japan/index.html").unlink()
    (site / "content/c.md").write_text(article("Gamma talks", "2025-06-25", countries="[Japan]",
                                               topics="[TRADE, Energy]", body="Edited again."))
    build(site)
    assert (site / "output/countries/japan/index.html").exists()
    assert_same_as_cold(site, tmp_path)
