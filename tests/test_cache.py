"""The cache and incremental builds never change what is built.

The strongest check is used throughout: after edits, an incremental build's
output is byte-identical to a cold build (no cache, fresh folder) of the same input.
"""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

import pytest

from conftest import article, counts, run_cli, write_files


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def build(site: Path, *args: str) -> str:
    return run_cli("build", "--site", str(site), "--no-search", *args, check=True).stdout


def assert_same_as_cold(site: Path, tmp_path: Path) -> None:
    cold = tmp_path / "cold-output"
    shutil.rmtree(cold, ignore_errors=True)
    build(site, "--no-cache", "--out", str(cold))
    assert tree(site / "output") == tree(cold)


def test_output_identical_whatever_cache_state_and_jobs(corpus, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(corpus, site)
    outputs = {}
    for name, args in (("cold-1", ("--no-cache", "--jobs", "1")), ("cold-2", ("--no-cache", "--jobs", "2")),
                       ("warm-2", ("--jobs", "2")), ("warm-again-1", ("--jobs", "1"))):
        out = tmp_path / name
        build(site, "--out", str(out), *args)
        outputs[name] = tree(out)
    first = outputs.pop("cold-1")
    assert len(first) > 700
    for name, files in outputs.items():
        assert files == first, name


def test_a_first_build_keeps_the_same_page_records_with_any_number_of_jobs(corpus, tmp_path):
    """With two workers a first build fingerprints the pages in the parent while the workers
    render, and the workers that parse hand back the articles pickled for their rows; with
    one, each page is fingerprinted just before it is rendered and the save pickles the
    articles. The cache must not tell them apart."""
    import sqlite3
    rows, articles = {}, {}
    for jobs in ("1", "2"):
        site = Path(shutil.copytree(corpus, tmp_path / f"site-{jobs}", ignore=shutil.ignore_patterns("output", ".cache")))
        build(site, "--jobs", jobs)
        with sqlite3.connect(site / ".cache" / "cache.sqlite") as database:
            rows[jobs] = sorted(database.execute("SELECT * FROM pages")) + sorted(
                database.execute("SELECT * FROM page_refs"))
            articles[jobs] = sorted(database.execute("SELECT * FROM articles"))
        # and what was kept is right: nothing to do on the next build
        assert counts(build(site, "--jobs", jobs))["written"] == 0
    assert len(rows["1"]) > 1400 and rows["1"] == rows["2"]
    assert len(articles["1"]) == 500 and articles["1"] == articles["2"]
    assert {pickle.loads(row[-1]).path for row in articles["2"]} == {row[0] for row in articles["2"]}


def test_second_build_writes_nothing(corpus, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(corpus, site)
    build(site)
    before = mtimes(site / "output")
    summary = build(site)
    assert counts(summary)["written"] == 0 and counts(summary)["removed"] == 0
    assert mtimes(site / "output") == before


def test_body_edit_rewrites_only_what_shows_it(corpus, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(corpus, site)
    build(site)
    before = mtimes(site / "output")
    path = sorted((site / "content").rglob("*.md"))[100]
    path.write_text(path.read_text() + "\nA new closing paragraph.\n")
    summary = build(site)
    after = mtimes(site / "output")
    changed = {name for name in after if after[name] != before.get(name)}
    assert any(name.endswith("/index.html") for name in changed)
    assert len(changed) < 5, changed  # the article page (summary is explicit in the corpus)
    # Only pages that show bodies (its own, its neighbours', feeds) were even rendered,
    # not the listing pages it appears on.
    rendered = int(summary.split("(", 1)[1].split(" rendered")[0].replace(",", ""))
    assert 1 <= rendered < 30, summary
    assert_same_as_cold(site, tmp_path)


SMALL = {
    "content/a.md": article("Alpha talks", "2025-06-13", countries="[Japan]", topics="[Trade]"),
    "content/b.md": article("Beta talks", "2025-06-20", countries="[Japan, US]", topics="[Trade]",
                            related="[a]"),
    "content/c.md": article("Gamma talks", "2025-06-25", countries="[Japan]", topics="[Trade]"),
}


def test_title_edit_reaches_every_page_that_shows_it(make_site, tmp_path):
    site = make_site(SMALL)
    build(site)
    (site / "content/a.md").write_text(article("Alpha deal", "2025-06-13", countries="[Japan]",
                                               topics="[Trade]"))
    build(site)
    out = site / "output"
    for page in ("index.html", "countries/japan/index.html", "topics/trade/index.html",
                 "2025/06/index.html", "2025/06/b/index.html", "2025/06/c/index.html"):
        text = (out / page).read_text()
        assert "Alpha deal" in text and "Alpha talks" not in text, page
    assert_same_as_cold(site, tmp_path)


def test_deleted_article_vanishes_everywhere(make_site, tmp_path):
    site = make_site(SMALL)
    build(site)
    (site / "content/c.md").unlink()
    build(site)
    assert not (site / "output/2025/06/c").exists()
    assert not any("Gamma talks" in p.read_text() for p in (site / "output").rglob("*.html"))
    assert_same_as_cold(site, tmp_path)


def test_renamed_slug_and_country_change_leave_nothing_stale(make_site, tmp_path):
    site = make_site(SMALL)
    build(site)
    (site / "content/b.md").write_text(article("Beta talks", "2025-06-20", slug="beta-renamed",
                                               countries="[Japan]", topics="[Trade]", related="[a]"))
    build(site)
    assert not (site / "output/2025/06/b").exists()
    assert not (site / "output/countries/united-states").exists()
    assert_same_as_cold(site, tmp_path)


@pytest.mark.parametrize("damage", [b"", b"garbage", pickle.dumps(("builder-cache", 999, "x"))])
def test_corrupted_or_foreign_cache_is_discarded_with_a_note(make_site, tmp_path, damage):
    site = make_site(SMALL)
    build(site)
    for name in ("state.pickle", "cache.sqlite"):
        (site / ".cache" / name).write_bytes(damage)
    (site / "content/a.md").write_text(article("Alpha deal", "2025-06-13", countries="[Japan]"))
    result = run_cli("build", "--site", str(site), "--no-search", check=True)
    assert "note: cache" in result.stderr
    assert_same_as_cold(site, tmp_path)
    assert "note" not in run_cli("build", "--site", str(site), "--no-search", check=True).stderr


def test_config_and_template_changes_rebuild_what_they_shape(make_site, tmp_path):
    site = make_site({**SMALL, "site.toml": 'title = "First Name"\n'})
    build(site)
    (site / "site.toml").write_text('title = "Second Name"\n')
    build(site)
    assert all("Second Name" in p.read_text() for p in (site / "output").rglob("*.html"))
    assert_same_as_cold(site, tmp_path)
    write_files(site, {"templates/404.html": '{% extends "base.html" %}{% block main %}<h1>Gone</h1>'
                                            '{% endblock %}\n'})
    build(site)
    assert "<h1>Gone</h1>" in (site / "output/404.html").read_text()
    assert_same_as_cold(site, tmp_path)


def test_deleting_the_cache_changes_nothing(make_site, tmp_path):
    site = make_site(SMALL)
    build(site)
    first = tree(site / "output")
    stamps = mtimes(site / "output")
    assert run_cli("clean", "--site", str(site), check=True).stdout.startswith("removed")
    assert not (site / ".cache").exists()
    build(site)
    assert tree(site / "output") == first
    assert mtimes(site / "output") == stamps  # same bytes are not rewritten


def test_edits_with_a_corrupted_body_file_in_the_cache(make_site, tmp_path):
    site = make_site(SMALL)
    build(site)
    import sqlite3
    with sqlite3.connect(site / ".cache/cache.sqlite") as store:
        store.execute("DELETE FROM bodies")
    (site / "content/a.md").write_text(article("Alpha deal", "2025-06-13", countries="[Japan]",
                                               topics="[Trade]"))
    build(site)
    assert_same_as_cold(site, tmp_path)


@pytest.mark.parametrize("also_state", [False, True])
def test_a_damaged_database_is_discarded_with_a_note(make_site, tmp_path, also_state):
    site = make_site(SMALL)
    build(site)
    (site / ".cache/cache.sqlite").write_bytes(b"SQLite format 3\0" + b"\xff" * 5000)
    if also_state:  # no state vouches for the database: it is dropped unread
        (site / ".cache/state.pickle").unlink()
    (site / "content/a.md").write_text(article("Alpha deal", "2025-06-13", countries="[Japan]",
                                               topics="[Trade]"))
    result = run_cli("build", "--site", str(site), "--no-search", check=True)
    if not also_state:
        assert "note: cache file" in result.stderr and "cache.sqlite" in result.stderr
    assert_same_as_cold(site, tmp_path)


def test_a_template_reading_the_whole_archive_stays_right(make_site, tmp_path):
    site = make_site({**SMALL, "templates/_footer.html":
                      '<footer class="site-footer"><p>{{ archive.articles | length }} stories</p></footer>\n'})
    build(site)
    assert "3 stories" in (site / "output/2025/06/a/index.html").read_text()
    write_files(site, {"content/d.md": article("Delta talks", "2025-05-01", countries="[Japan]")})
    build(site)
    assert all("4 stories" in p.read_text() for p in (site / "output").rglob("index.html"))
    assert_same_as_cold(site, tmp_path)


def test_a_fragment_reading_the_whole_archive_stays_right(make_site, tmp_path):
    # Only the fragment reads `archive`: the pages that render it must count as reading it too,
    # or a patched edit would leave "latest" stale on pages that do not show the edited article.
    site = make_site({**SMALL,
                      "content/d.md": article("Delta games", "2025-06-01", countries="[Brazil]",
                                              topics="[Sports]", related="[a]"),
                      "templates/_headline.html": '<a href="{{ url.article(article) }}">{{ article.title }}</a>'
                                                  " (latest: {{ archive.articles[0].title }})"})
    build(site)
    assert "(latest: Gamma talks)" in (site / "output/2025/06/d/index.html").read_text()
    (site / "content/c.md").write_text(article("Gamma deal", "2025-06-25", countries="[Japan]", topics="[Trade]"))
    build(site)
    assert "(latest: Gamma deal)" in (site / "output/2025/06/d/index.html").read_text()
    assert_same_as_cold(site, tmp_path)


def test_pages_with_finds_exactly_the_pages_that_refer_to_a_slug_even_when_tokens_collide(tmp_path, monkeypatch):
    from builder import cache as cache_module
    from builder.cache import PageRecord, Store

    def pages(store: Store, slugs: list[str]) -> list[str]:
        return [output for output, _full, _keys, _fingerprint in store.pages_with(slugs)]
    for colliding in (False, True):
        if colliding:  # every slug the same token: the real keys must still decide
            monkeypatch.setattr(cache_module, "_token", lambda slug: "00000000")
        store = Store(tmp_path / f"cache-{colliding}.sqlite")
        store.write([], [], {"a.html": PageRecord("f1", True, ("alpha", "beta"), b""),
                             "b.html": PageRecord("f2", False, ("beta",), b""),
                             "c.html": PageRecord("f3", False, ("alphabet", "*"), b"")}, [])
        assert pages(store, ["alpha"]) == ["a.html"]  # not c.html, whose slug only begins alike
        assert pages(store, ["beta", "*"]) == ["a.html", "b.html", "c.html"]
        assert pages(store, ["gamma"]) == []
        store.write([], [], {"b.html": PageRecord("f4", False, ("gamma",), b"")}, ["a.html"])
        assert pages(store, ["beta"]) == [] and pages(store, ["gamma"]) == ["b.html"]
        assert store.pages_with(["gamma"]) == [("b.html", False, ("gamma",), "f4")]
        store.close()


def test_stored_plans_name_their_classes_by_code_and_everything_else_reads_without_them(make_site):
    """Page plans name their classes by copyreg extension codes (builder.fingerprints); the
    state and the article rows never do, so a process that has not loaded the fingerprints
    (a build with nothing to do, `report`) reads them."""
    import pickletools
    import sqlite3
    import subprocess
    import sys

    site = make_site({
        "content/2025/one.md": article("One", countries="[Japan]", topics="[Trade]", related="[two]"),
        "content/2025/two.md": article("Two", date="2025-06-14", countries="[Japan]"),
    })
    build(site)

    def codes(data: bytes) -> set:
        return {arg for op, arg, _ in pickletools.genops(data) if op.name.startswith("EXT")}

    with sqlite3.connect(site / ".cache" / "cache.sqlite") as database:
        plans = dict(database.execute("SELECT output, plan FROM pages"))
        rows = [row for row, in database.execute("SELECT record FROM articles")]
    page = "2025/06/one/index.html"
    assert codes(plans[page]) and all(not codes(row) for row in rows)
    from builder.fingerprints import read_plan
    from builder.model import Article
    two = pickle.loads(next(row for row in rows if b"two" in row))
    assert isinstance(two, Article)
    plan = read_plan(plans[page], {"one": pickle.loads(next(row for row in rows if b"One" in row)), "two": two})
    assert plan.output == page and plan.context.article.title == "One"
    assert plan.context.links.related[0].article is two
    with pytest.raises(RuntimeError):
        pickle.loads(plans[page])  # only read_plan knows the articles
    reader = (
        "import pickle, sqlite3, sys\n"
        "database = sqlite3.connect(sys.argv[1] + '/cache.sqlite')\n"
        "titles = sorted(pickle.loads(r).title for r, in database.execute('SELECT record FROM articles'))\n"
        "with open(sys.argv[1] + '/state.pickle', 'rb') as handle:\n"
        "    pickle.load(handle)\n"
        "    pickle.load(handle)\n"
        "assert 'builder.fingerprints' not in sys.modules\n"
        "print(titles)\n")
    out = subprocess.run([sys.executable, "-c", reader, str(site / ".cache")], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.strip() == "['One', 'Two']"


def test_the_narrow_table_keeps_every_pages_fingerprint_through_patches_and_whole_builds(corpus_copy):
    """Whole-site builds read the pages' fingerprints from page_refs (not through the plans):
    after a first build, a patch and a whole-site build, both tables agree on every page."""
    import sqlite3

    def both() -> tuple[dict, dict]:
        with sqlite3.connect(corpus_copy / ".cache" / "cache.sqlite") as database:
            return (dict(database.execute("SELECT output, fingerprint FROM pages")),
                    dict(database.execute("SELECT output, fingerprint FROM page_refs")))

    build(corpus_copy)
    first, narrow = both()
    assert len(first) > 700 and first == narrow
    path = sorted((corpus_copy / "content").rglob("*.md"))[100]
    path.write_text(path.read_text().replace("title: ", "title: Edited ", 1))
    assert re.search(r"\bpatch \d", build(corpus_copy))  # the patch step ran
    patched, narrow = both()
    assert patched == narrow and patched != first
    (corpus_copy / "content" / "2025" / "added-one.md").write_text(article("An added one", date="2025-06-20"))
    build(corpus_copy)
    whole, narrow = both()
    assert whole == narrow and set(whole) - set(patched)


def test_the_folder_times_a_build_keeps_are_the_outputs_own_after_additions_and_removals(make_site):
    """A whole-site build reads again only the times of the folders its moves touched
    (builder.output.snapshot); what it keeps must still be what listing the output gives,
    or the next build lists all of it again (or, kept too new, misses a change there)."""
    from builder.build import BuildOptions, build as build_site
    from builder.cache import Cache
    from builder.options import cache_key, site_config
    from builder.output import scan

    site = make_site({"content/2025/a.md": article("A", countries="[Japan]"),
                      "content/2025/b.md": article("B", date="2025-06-14", countries="[Peru]"),
                      "site.toml": "page_size = 1\n[search]\nenabled = false\n"})
    config = site_config(BuildOptions(site=site))

    def kept() -> dict[str, int]:
        cache = Cache.open(config.cache_dir, cache_key(config))
        try:
            return dict(cache.state.output.folder_times)
        finally:
            cache.close()

    def listed() -> dict[str, int]:
        found = scan(site / "output")[1]
        # Folders the build emptied stay on disk: scan sees them, no file is in them.
        return {folder: time for folder, time in found.items() if any((site / "output" / folder).rglob("*.*"))}

    build_site(BuildOptions(site=site))
    assert kept() == listed()
    steps = [("content/2025/c.md", article("C", date="2025-07-01", countries="[Chile]")),  # new folders
             ("content/2025/d.md", article("D", date="2025-07-02", countries="[Japan]")),
             ("content/2025/b.md", None),  # a removal: Peru's pages go
             ("content/2025/a.md", article("A, renamed", countries="[Japan]"))]
    for name, text in steps:
        if text is None:
            (site / name).unlink()
        else:
            (site / name).write_text(text)
        result = build_site(BuildOptions(site=site))
        assert result.written or result.removed
        assert kept() == listed(), name
