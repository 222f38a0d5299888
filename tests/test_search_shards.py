"""The search index in shards (builder/search.py): how pages are split by date, that a
build indexes only the shards whose pages changed (counted by a Pagefind that logs its
runs), that the output is the same bytes whichever shards were redone, and the manifest
the search page reads."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from builder.pages import Page
from builder.search import MAX_SHARD_PAGES, plan_shards, shard_of, unit_name
from conftest import REPO, article, run_cli, write_files
from test_search import FIXTURE

UTC = dt.timezone.utc


def fake_page(when: dt.datetime, n: int) -> Page:
    return Page(kind="article", url=f"/a{n}/", output=f"a{n}/index.html", template="article.html",
                context=SimpleNamespace(article=SimpleNamespace(date=when)), indexed=True)


def days(start: dt.datetime, count: int, step: dt.timedelta = dt.timedelta(days=1)) -> list[dt.datetime]:
    return [start + i * step for i in range(count)]


def names(shards) -> list[str]:
    return [s.name for s in shards]


# -- how pages are split ------------------------------------------------------------------

def test_one_shard_per_year_and_the_newest_month_apart_newest_first_with_disjoint_date_ranges():
    pages = [fake_page(d, i) for i, d in enumerate(days(dt.datetime(2023, 12, 25, tzinfo=UTC), 500))]
    shards = plan_shards(pages)  # the last day is 2025-05-07
    assert names(shards) == ["2025-05", "2025", "2024", "2023"]
    assert [len(s.pages) for s in shards] == [7, 120, 366, 7]
    assert sum(len(s.pages) for s in shards) == 500
    for newer, older in zip(shards, shards[1:]):
        assert older.last < newer.first  # "newest first" over the archive is the shards in this order
    for shard in shards:
        keys = [p.context.article.date for p in shard.pages]
        assert keys == sorted(keys) and len({k.year for k in keys}) == 1


def test_a_large_year_is_split_by_calendar_units_down_to_days():
    # 2024: 20 a day in January (620), 1 a day from February on; limit 100.
    january = [d for day in days(dt.datetime(2024, 1, 1, tzinfo=UTC), 31)
               for d in days(day, 20, dt.timedelta(minutes=30))]
    rest = days(dt.datetime(2024, 2, 1, tzinfo=UTC), 300)
    pages = [fake_page(d, i) for i, d in enumerate(january + rest)]
    shards = plan_shards(pages, limit=100)
    assert all(len(s.pages) <= 100 for s in shards)
    # January is split into days (a third of it is 200 > 100); February–March stay a quarter's
    # months (29 and 31), each later quarter is whole (a half of 184 days is not).
    # November (the newest month, 26 days) stands apart; October is left of the fourth quarter.
    assert names(shards)[:5] == ["2024-11", "2024-q4", "2024-q3", "2024-q2", "2024-03"]
    assert "2024-02" in names(shards) and "2024-01-31" in names(shards) and "2024-01-01" in names(shards)
    assert len(names(shards)) == len(set(names(shards)))


def test_shard_boundaries_do_not_move_when_an_article_is_added():
    base = [fake_page(d, i) for i, d in enumerate(days(dt.datetime(2024, 1, 1, tzinfo=UTC), 366))]
    before = {s.name: [p.output for p in s.pages] for s in plan_shards(base, limit=100)}
    added = base + [fake_page(dt.datetime(2024, 5, 5, 12, tzinfo=UTC), 999)]
    after = {s.name: [p.output for p in s.pages] for s in plan_shards(added, limit=100)}
    changed = [name for name in after if after[name] != before.get(name)]
    assert changed == ["2024-q2"]  # only the quarter that got the article


def test_a_new_article_changes_only_the_newest_month_until_a_later_month_begins():
    base = [fake_page(d, i) for i, d in enumerate(days(dt.datetime(2024, 1, 1, tzinfo=UTC), 330))]  # to 25 Nov
    before = {s.name: [p.output for p in s.pages] for s in plan_shards(base)}
    assert list(before) == ["2024-11", "2024"]
    added = base + [fake_page(dt.datetime(2024, 11, 30, 12, tzinfo=UTC), 999)]
    after = {s.name: [p.output for p in s.pages] for s in plan_shards(added)}
    assert [name for name in after if after[name] != before.get(name)] == ["2024-11"]
    # The first article of December: November goes back into the year, December stands apart.
    later = added + [fake_page(dt.datetime(2024, 12, 1, 8, tzinfo=UTC), 1000)]
    shards = plan_shards(later)
    assert names(shards) == ["2024-12", "2024"] and [len(s.pages) for s in shards] == [1, 331]
    assert shards[1].last < shards[0].first


def test_a_single_day_over_the_limit_stays_one_shard():
    pages = [fake_page(d, i) for i, d in enumerate(days(dt.datetime(2025, 3, 3, tzinfo=UTC), 50,
                                                        dt.timedelta(minutes=1)))]
    assert names(plan_shards(pages, limit=10)) == ["2025-03-03"]


def test_shard_of_finds_the_unit_that_exists():
    assert unit_name(4, "2025-07-14T09:00:00Z") == "2025-07-b"
    assert unit_name(1, "2025-07-14T09:00:00Z") == "2025-h2"
    assert shard_of("2025-07-14T09:00:00Z", {"2025-q3", "2024"}) == "2025-q3"
    assert shard_of("2025-07-31T23:00:00Z", {"2025-07-c"}) == "2025-07-c"
    assert shard_of("2026-01-01T00:00:00Z", {"2025"}) == ""
    # the newest month beside the rest of its year
    assert shard_of("2025-11-03T10:00:00Z", {"2025", "2025-11"}) == "2025-11"
    assert shard_of("2025-03-01T10:00:00Z", {"2025", "2025-11"}) == "2025"


def test_shards_are_bounded_so_a_pagefind_run_stays_well_under_a_gibibyte():
    assert MAX_SHARD_PAGES * 0.23 < 700  # MiB: Pagefind's measured growth per page


# -- builds index only what changed -------------------------------------------------------

SITE = {name: text for name, text in FIXTURE.items() if name != "content/e.md"}  # four of its five


@pytest.fixture
def logged_pagefind(tmp_path, monkeypatch):
    """Pagefind behind a wrapper that logs the folder of each run: runs() → the shard names."""
    from builder.search import pagefind_binary
    log = tmp_path / "pagefind-runs.log"
    wrapper = tmp_path / "pagefind"
    wrapper.write_text(f"#!/bin/sh\necho \"$2\" >> {log}\nexec {pagefind_binary()} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(wrapper))

    def runs() -> list[str]:
        found = sorted(Path(line).parent.name for line in log.read_text().split()) if log.exists() else []
        log.unlink(missing_ok=True)
        return found
    return runs


def index_files(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_ino)
            for p in sorted((out / "pagefind").rglob("*")) if p.is_file()}


def test_builds_index_only_the_shards_whose_pages_changed(make_site, logged_pagefind):
    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    assert logged_pagefind() == ["2023", "2024", "2025", "2025-06"]  # the newest month apart
    before = index_files(site / "output")

    run_cli("build", "--site", str(site), check=True)  # nothing changed
    assert logged_pagefind() == []
    assert index_files(site / "output") == before

    # an old article's body: its year only; the other shards' files stay as they were
    write_files(site, {"content/c.md": article("Charlie steel tariff", "2023-11-20", "A zanzibarian steel levy.",
                                               countries="[Germany]", topics="[Trade]")})
    run_cli("build", "--site", str(site), check=True)
    assert logged_pagefind() == ["2023"]
    after = index_files(site / "output")
    untouched = {n: v for n, v in before.items() if n.startswith(("pagefind/shards/2024/", "pagefind/shards/2025"))}
    assert {n: after[n] for n in untouched} == untouched

    # a new article in the newest month: older pages list it ("More on this story", "Newer"),
    # outside what Pagefind reads of them, so only the newest month's shard is indexed again
    b_page = site / "output/2024/03/b/index.html"
    assert "Echo" not in b_page.read_text()
    write_files(site, {"content/e.md": article("Echo tariff deadline", "2025-06-20", "The deadline moved.",
                                               countries="[Japan]", topics="[Tariffs]")})
    run_cli("build", "--site", str(site), check=True)
    assert "Echo tariff deadline" in b_page.read_text()  # the 2024 page changed…
    assert logged_pagefind() == ["2025-06"]  # …but not its indexed part
    manifest = json.loads((site / "output/pagefind/shards.json").read_text())
    assert [(s["name"], s["pages"]) for s in manifest["shards"]] == [
        ("2025-06", 2), ("2025", 1), ("2024", 1), ("2023", 1)]

    # a later month begins: June goes back into its year, September stands apart
    write_files(site, {"content/f.md": article("Foxtrot tariff review", "2025-09-01", "A review began.",
                                               countries="[Japan]", topics="[Tariffs]")})
    run_cli("build", "--site", str(site), check=True)
    assert logged_pagefind() == ["2025", "2025-09"]
    assert not (site / "output/pagefind/shards/2025-06").exists()
    (site / "content/f.md").unlink()
    run_cli("build", "--site", str(site), check=True)
    assert logged_pagefind() == ["2025", "2025-06"]

    # a year's only article goes: its shard goes too, without indexing anything
    (site / "content/b.md").unlink()
    run_cli("build", "--site", str(site), check=True)
    runs = logged_pagefind()
    assert "2024" not in runs
    assert not (site / "output/pagefind/shards/2024").exists()
    manifest = json.loads((site / "output/pagefind/shards.json").read_text())
    assert [s["name"] for s in manifest["shards"]] == ["2025-06", "2025", "2023"]


def test_an_index_redone_shard_by_shard_equals_a_cold_one(make_site, tmp_path, logged_pagefind):
    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    write_files(site, {"content/a.md": article("Alpha tariff talks", "2025-06-13", "New words about quotas.",
                                               countries="[Japan, US]", topics="[Trade, Tariffs]")})
    run_cli("build", "--site", str(site), check=True)
    cold = tmp_path / "cold"
    run_cli("build", "--site", str(site), "--out", str(cold), "--no-cache", check=True)

    def tree(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
                if p.is_file() and p.name != ".builder-output"}
    assert tree(site / "output") == tree(cold)


def test_missing_shard_files_are_made_again(make_site, logged_pagefind):
    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    logged_pagefind()
    fragment = next((site / "output/pagefind/shards/2024/fragment").iterdir())
    fragment.unlink()
    run_cli("build", "--site", str(site), check=True)
    assert logged_pagefind() == ["2024"]
    assert fragment.is_file()


def test_the_manifest_lists_shards_filters_and_the_runtime(make_site):
    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    out = site / "output/pagefind"
    manifest = json.loads((out / "shards.json").read_text())
    assert manifest["pages"] == 4 and manifest["language"] == "en" and manifest["wasm"] == "en"
    assert [(s["name"], s["first"], s["last"]) for s in manifest["shards"]] == [
        ("2025-06", "2025-06-13T00:00:00Z", "2025-06-13T00:00:00Z"),
        ("2025", "2025-01-10T00:00:00Z", "2025-01-10T00:00:00Z"),
        ("2024", "2024-03-02T00:00:00Z", "2024-03-02T00:00:00Z"),
        ("2023", "2023-11-20T00:00:00Z", "2023-11-20T00:00:00Z")]
    assert manifest["filters"]["country"] == {"Brazil": 1, "Germany": 1, "Japan": 2, "United States": 1}
    assert manifest["filters"]["year"] == {"2023": 1, "2024": 1, "2025": 2}
    for shard in manifest["shards"]:
        entry = json.loads((out / shard["path"] / "pagefind-entry.json").read_text())
        assert entry["languages"] == shard["languages"]  # the page reads it from here
        assert (out / shard["path"] / f"pagefind.{entry['languages']['en']['hash']}.pf_meta").is_file()
        assert not (out / shard["path"] / "pagefind.js").exists()  # the runtime is shared, not per shard
    # Pagefind's own UI is not shipped: the search page has its own.
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "pagefind.js", "shards.json", "wasm.en.pagefind", "wasm.unknown.pagefind"]
    assert "export{PagefindInstance," in (out / "pagefind.js").read_text()


def test_excerpts_come_from_the_body_not_the_headline(make_site):
    from builder.pagefind_files import unpack
    site = make_site({"content/a.md": article("Headline words here", "2025-06-13", "Body text begins here.")})
    run_cli("build", "--site", str(site), check=True)
    fragments = [json.loads(unpack(p)) for p in (site / "output/pagefind").rglob("*.pf_fragment")]
    assert len(fragments) == 1
    assert fragments[0]["content"].startswith("Body text begins here.")
    assert fragments[0]["meta"]["title"] == "Headline words here"
    assert fragments[0]["meta"]["datetime"] == "2025-06-13T00:00:00+00:00"


def test_a_template_without_the_datetime_meta_fails_the_build(make_site):
    theme = (REPO / "templates/article.html").read_text()
    broken = theme.replace('data-pagefind-meta="datetime"', 'data-x="datetime"')
    site = make_site({**SITE, "templates/article.html": broken})
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 1
    assert "search index: no 'datetime' meta (data-pagefind-meta=\"datetime\"): pages /2025/06/a/, " \
           "/2025/01/d/, /2024/03/b/, /2023/11/c/" in result.stderr


def test_serve_refreshes_only_the_edited_articles_shard(make_site, logged_pagefind):
    """serve's rebuild does not index (the reload must not wait); the background refresh
    is a build that indexes the shards the edit made stale, here the edited year's."""
    from builder.build import BuildOptions, build
    from builder.cache import Cache
    from builder.config import load_config
    from builder.options import cache_key

    site = make_site(SITE)
    run_cli("build", "--site", str(site), check=True)
    logged_pagefind()
    config = load_config(site, None)
    cache = Cache.open(config.cache_dir, cache_key(config))
    try:
        write_files(site, {"content/b.md": article("Bravo tariff rates", "2024-03-02", "Quokkaesque rates.",
                                                   countries="[Japan]", topics="[Tariffs]")})
        result = build(BuildOptions(site=site, index_search=False), cache=cache)
        assert result.patched
        assert cache.state.search_index.behind
        assert dict(cache.state.search_index.shards)["2024"] == ""
        assert logged_pagefind() == []
        build(BuildOptions(site=site, index_search=True), cache=cache)
        assert logged_pagefind() == ["2024"]
        assert not cache.state.search_index.behind
    finally:
        cache.close()


def test_the_index_view_is_what_pagefind_reads():
    from builder.search import index_view
    page = (b'<html><head><title>T</title></head><body><nav>Newer: X</nav>'
            b'<article class="a" data-pagefind-body><h1>T</h1><article>nested</article><p>Body</p></article>'
            b'<aside>More: Y</aside>%s</body></html>')
    plain = page % b""
    assert index_view(plain) == index_view(plain.replace(b"Newer: X", b"Newer: Z").replace(b"More: Y", b"More: Q"))
    assert index_view(plain) != index_view(plain.replace(b"<p>Body</p>", b"<p>Body!</p>"))
    assert index_view(plain) != index_view(plain.replace(b"nested", b"nested too"))  # the inner article counts
    outside = page % b'<span data-pagefind-meta="image">a.png</span>'
    assert index_view(outside) != index_view(outside.replace(b"a.png", b"b.png"))  # meta anywhere counts
    assert index_view(b"<p>no body</p>") == b"<p>no body</p>"
