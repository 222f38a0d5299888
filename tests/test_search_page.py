"""The search page at archive size, in a real browser: a generated archive of 2,000
articles (benchmarks/gen_corpus.py, 21 years) with a few made-up words written into
chosen articles, built with search and served by http.server on 127.0.0.1, at the root
(one shard a year) and under /archive/ (shards cut down to 40 articles, so every year is
split into halves or quarters: 60-odd shards). What the page shows is checked against the content:
the articles that hold a word, their dates, their countries, topics and years.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import generate_corpus, run_cli
from conftest import serve_static as serve

pytestmark = pytest.mark.slow

ARTICLES = 2000
ONCE = "tradezyxquorbian"  # written into one article; its prefix "trade" is in every shard (Pagefind falls
# back to a missing word's longest prefix: without care the other shards would answer with "trade")
SPREAD = "qwzarkian"  # written into SPREAD_COUNT articles across the years
SPREAD_COUNT = 31  # more than a page of results (20)
SMALL_SHARDS = 40
COMMON = "blorvexian"  # four times in 40 articles of one year, once in one article of another
STEM = "plexorian"  # in STEM_COUNT articles across the years, and in one more as LONGER only
LONGER = "plexorianzq"  # a word extending STEM, in one shard: that shard matches two words, the others one
STEM_COUNT = 12
RESULT_LINKS = ".search-result-title a"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The archive, its articles as the builder reads them, and the two served builds."""
    root = tmp_path_factory.mktemp("search-archive")
    site = generate_corpus(ARTICLES, root / "site", seed=11)
    files = sorted((site / "content").rglob("*.md"))
    once = files[137]
    spread = files[5::len(files) // SPREAD_COUNT][:SPREAD_COUNT]
    assert once not in spread
    _append(once, f"A lone {ONCE} remark.")
    for path in spread:
        _append(path, f"The {SPREAD} proposal came up again.")
    common = [p for p in sorted((site / "content/2019").glob("*.md")) if p not in spread and p != once][:40]
    lone = next(p for p in sorted((site / "content/2008").glob("*.md")) if p not in spread and p != once)
    for path in common:
        _append(path, f"{COMMON.title()} plans, {COMMON} talks, {COMMON} deals and {COMMON} rules.")
    _append(lone, f"One {COMMON} aside.")
    taken = {*spread, once, *common, lone}
    stems = [p for p in files[11::len(files) // STEM_COUNT] if p not in taken][:STEM_COUNT]
    longer = next(p for p in files[::-1] if p not in taken and p not in stems)
    for path in stems:
        _append(path, f"The {STEM} draft.")
    _append(longer, f"The {LONGER} draft.")
    articles = _articles(site)
    by_path = {a.path: a for a in articles}
    www = root / "www"
    run_cli("build", "--site", str(site), "--out", str(www / "root"), "--base-url", "/", check=True)
    import builder.search
    saved = builder.search.MAX_SHARD_PAGES
    builder.search.MAX_SHARD_PAGES = SMALL_SHARDS
    try:
        run_cli("build", "--site", str(site), "--out", str(www / "sub" / "archive"), "--base-url", "/archive/",
                "--no-cache", check=True)
    finally:
        builder.search.MAX_SHARD_PAGES = saved
    with serve(www / "root") as origin_root, serve(www / "sub") as origin_sub:
        yield {
            "articles": articles,
            "once": by_path[once.relative_to(site).as_posix()],
            "spread": [by_path[p.relative_to(site).as_posix()] for p in spread],
            "lone": by_path[lone.relative_to(site).as_posix()],
            "stems": [by_path[p.relative_to(site).as_posix()] for p in [*stems, longer]],
            "www": www,
            "bases": {"/": origin_root + "/", "/archive/": origin_sub + "/archive/"},
            "manifests": {"/": json.loads((www / "root/pagefind/shards.json").read_text()),
                          "/archive/": json.loads((www / "sub/archive/pagefind/shards.json").read_text())},
        }


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")


def _articles(site: Path):
    """The published articles as the builder reads them (the same Site a build renders)."""
    from builder.cache import Cache
    from builder.options import BuildOptions, cache_key, site_config
    from builder.pipeline import load_site
    from builder.result import Timer
    config = site_config(BuildOptions(site=site))
    return list(load_site(config, BuildOptions(site=site), Cache.none(cache_key(config)), Timer()).archive.articles)


def article_url(base: str, article) -> str:
    return f"{base}{article.date:%Y}/{article.date:%m}/{article.slug}/"


def utc(article) -> dt.datetime:
    return article.date.astimezone(dt.timezone.utc)


def shown_count(page) -> int:
    """The number the page says match (the first thing in its data-search-count element)."""
    count = page.locator("[data-search-count]")
    expect(count).to_have_text(re.compile(r"^[\d,]+ articles?\b"))
    return int(count.inner_text().split()[0].replace(",", ""))


def wait_for_results(page):
    # (The first search of a page loads every shard's metadata from a server that runs in
    # this test process, beside the browser's driver: generous.)
    expect(page.locator("[data-search]")).not_to_have_attribute("aria-busy", "true", timeout=30000)
    expect(page.locator("[data-search-count]")).to_have_text(re.compile(r"^[\d,]+ articles?\b"))


def wait_for_counts(page):
    """The filter counts come after the first results (every shard's filter files)."""
    expect(page.locator(".search-filters")).not_to_have_attribute("aria-busy", "true", timeout=30000)


def result_times(page) -> list[dt.datetime]:
    stamps = page.locator(".search-result time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
    return [dt.datetime.fromisoformat(s).astimezone(dt.timezone.utc) for s in stamps]


def all_pages(page) -> tuple[list[str], list[dt.datetime]]:
    """Every result's URL path and time, following the pages of results to the end."""
    urls, times = [], []
    while True:
        wait_for_results(page)
        urls += page.locator(RESULT_LINKS).evaluate_all("as => as.map(a => a.getAttribute('href'))")
        times += result_times(page)
        following = page.locator(".search-pages a[rel=next]")
        if not following.count():
            return urls, times
        before = page.locator(RESULT_LINKS).first.get_attribute("href")
        following.click()
        expect(page.locator(RESULT_LINKS).first).not_to_have_attribute("href", before)


BASES = ["/", "/archive/"]


def test_the_archives_are_spread_over_many_shards(archive):
    root, sub = archive["manifests"]["/"], archive["manifests"]["/archive/"]
    assert root["pages"] == sub["pages"] == len(archive["articles"])
    # a shard a year, and the newest month apart from its year
    assert len(root["shards"]) == 22 and [s["name"] for s in root["shards"]][:3] == ["2026-12", "2026", "2025"]
    assert len(sub["shards"]) > 50 and max(s["pages"] for s in sub["shards"]) <= SMALL_SHARDS
    assert any(s["name"][-3:] in ("-q1", "-q2", "-q3", "-q4") for s in sub["shards"])


@pytest.mark.parametrize("base", BASES)
def test_a_word_in_one_article_finds_it(page, archive, base):
    url = archive["bases"][base]
    page.goto(url + f"search/?q={ONCE}")
    wait_for_results(page)
    assert shown_count(page) == 1
    link = page.locator(RESULT_LINKS)
    expect(link).to_have_count(1)
    once = archive["once"]
    expect(link).to_have_text(once.title)
    path = article_url(base, once)
    assert link.get_attribute("href") == path
    assert result_times(page) == [utc(once)]
    expect(page.locator(".search-result-excerpt mark")).to_have_text(ONCE)
    link.click()
    expect(page.locator("h1")).to_have_text(once.title)
    assert page.failed == []


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_order_over_the_whole_archive(page, archive, base, sort):
    url = archive["bases"][base]
    page.goto(url + f"search/?q={SPREAD}&sort={sort}")
    wait_for_results(page)
    assert shown_count(page) == SPREAD_COUNT
    urls, times = all_pages(page)
    expected = sorted(archive["spread"], key=utc, reverse=sort == "newest")
    assert times == [utc(a) for a in expected]  # starts at the newest (oldest) matching article
    assert urls == [article_url(base, a) for a in expected]
    expect(page).to_have_url(re.compile(rf"\?q={SPREAD}&sort={sort}&page=2$"))
    assert page.failed == []


@pytest.mark.parametrize("base", BASES)
def test_browsing_lists_the_archive_newest_first(page, archive, base):
    page.goto(archive["bases"][base] + "search/")
    wait_for_results(page)
    assert shown_count(page) == len(archive["articles"])
    newest = sorted(archive["articles"], key=utc, reverse=True)[:20]
    assert result_times(page) == [utc(a) for a in newest]
    assert page.locator(RESULT_LINKS).all_inner_texts() == [a.title for a in newest]


def expected_facets(articles) -> dict[str, dict[str, int]]:
    counts = {"country": {}, "topic": {}, "year": {}}
    for a in articles:
        for name, values in (("country", [c.name for c in a.countries]), ("topic", [t.name for t in a.topics]),
                             ("year", [str(a.year)])):
            for value in values:
                counts[name][value] = counts[name].get(value, 0) + 1
    return counts


def shown_facets(page) -> dict[str, dict[str, int]]:
    """Every value of every facet with its count (long facets opened with "Show all")."""
    wait_for_counts(page)
    for more in page.locator(".facet-more:visible").all():
        if more.get_attribute("aria-expanded") == "false":
            more.click()
    return page.evaluate("""() => {
      const out = {};
      for (const fieldset of document.querySelectorAll('.facet')) {
        const name = fieldset.dataset.facet, values = out[name] = {};
        for (const li of fieldset.querySelectorAll('.facet-values li')) {
          values[li.querySelector('input').value] = Number(li.querySelector('.facet-count').textContent.replace(/,/g, ''));
        }
      }
      return out;
    }""")


@pytest.mark.parametrize("base", BASES)
def test_facet_counts_equal_the_counts_in_the_content(page, archive, base):
    url = archive["bases"][base]
    page.goto(url + f"search/?q={SPREAD}")
    wait_for_results(page)
    assert shown_facets(page) == expected_facets(archive["spread"])
    page.goto(url + "search/")
    wait_for_results(page)
    assert shown_facets(page) == expected_facets(archive["articles"])
    # narrowed by a country: the total and every other count follow
    japan = [a for a in archive["articles"] if "Japan" in [c.name for c in a.countries]]
    page.goto(url + "search/?country=Japan")
    wait_for_results(page)
    assert shown_count(page) == len(japan)
    assert shown_facets(page) == expected_facets(japan)
    assert page.failed == []


def test_a_query_typed_while_the_last_one_is_searched_or_counted_shows_its_own_answer(page, archive):
    """The worker drops the work of a search overtaken by a newer one (its fragments, its
    counts): the page still ends with the newer query's results and every count of them."""
    url = archive["bases"]["/archive/"]  # 60-odd shards: counting takes a while
    page.goto(url + "search/?q=tariff")
    wait_for_results(page)  # the first results are out; their counts are still being made
    page.fill("#search-q", SPREAD)
    page.locator(".search-form button").click()
    wait_for_results(page)
    assert shown_count(page) == SPREAD_COUNT
    assert shown_facets(page) == expected_facets(archive["spread"])
    # overtaken before its first results: "tariff" is still being searched when ONCE is asked
    page.goto(url + "search/?q=tariff")
    page.fill("#search-q", ONCE)
    page.locator(".search-form button").click()
    wait_for_results(page)
    assert shown_count(page) == 1
    assert page.locator(RESULT_LINKS).evaluate_all("as => as.map(a => a.getAttribute('href'))") == [
        article_url("/archive/", archive["once"])]
    assert shown_facets(page) == expected_facets([archive["once"]])
    assert page.failed == []


def test_long_facets_collapse_filter_and_show_what_is_active(page, archive):
    url = archive["bases"]["/"]
    page.goto(url + "search/?q=tariff")
    wait_for_results(page)
    wait_for_counts(page)
    countries = page.locator('.facet[data-facet="country"]')
    values = countries.locator(".facet-values li")
    expect(values).to_have_count(8)  # collapsed
    more = countries.locator(".facet-more")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_have_text(re.compile(r"^Show all \d+ countries$"))
    find = countries.get_by_label("Type to find a country")
    find.fill("jap")
    expect(values).to_have_count(1)
    expect(values.locator("label")).to_contain_text("Japan")
    total = shown_count(page)
    japan_count = int(values.locator(".facet-count").inner_text())
    values.locator("input").check()
    expect(page).to_have_url(re.compile(r"\?q=tariff&country=Japan$"))
    wait_for_results(page)
    assert shown_count(page) == japan_count < total
    chip = page.get_by_role("button", name="Remove filter Country: Japan")
    expect(chip).to_be_visible()
    chip.click()
    expect(page).to_have_url(re.compile(r"\?q=tariff$"))
    wait_for_results(page)
    assert shown_count(page) == total
    expect(page.locator(".search-active")).to_be_hidden()
    find.fill("")
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    assert values.count() > 8
    assert page.failed == []


def test_results_come_in_pages_with_excerpts_from_the_body(page, archive):
    url = archive["bases"]["/"]
    page.goto(url + "search/?q=tariff")
    wait_for_results(page)
    total = shown_count(page)
    assert total > 40
    expect(page.locator(RESULT_LINKS)).to_have_count(20)
    expect(page.locator("[data-search-count]")).to_contain_text(f"page 1 of {-(-total // 20)}")
    titles = {a.title: a for a in archive["articles"]}
    for item in page.locator(".search-result").all():
        title = item.locator(RESULT_LINKS).inner_text()
        excerpt = item.locator(".search-result-excerpt").inner_text()
        # not the headline minus its first word, as when the h1 was indexed
        assert not excerpt.startswith(" ".join(title.split()[1:4])), (title, excerpt)
        assert title in titles
    def hrefs():
        return page.locator(RESULT_LINKS).evaluate_all("as => as.map(a => a.getAttribute('href'))")
    first = hrefs()
    page.locator(".search-pages a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"\?q=tariff&page=2$"))
    expect(page.locator(RESULT_LINKS).first).not_to_have_attribute("href", first[0])
    assert len(hrefs()) == 20 and not set(hrefs()) & set(first)
    expect(page.locator("[data-search-count]")).to_be_focused()
    page.go_back()
    expect(page.locator(RESULT_LINKS).first).to_have_attribute("href", first[0])
    assert hrefs() == first


def test_the_search_page_at_archive_size_has_no_axe_violations(page, archive):
    from axe_playwright_python.sync_playwright import Axe
    page.goto(archive["bases"]["/"] + "search/?q=tariff&country=Japan&sort=newest")
    wait_for_results(page)
    wait_for_counts(page)
    page.locator('.facet[data-facet="topic"] .facet-more').click()
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_the_keyboard_reaches_results_filters_and_pages(page, archive):
    page.goto(archive["bases"]["/"] + "search/?q=tariff")
    wait_for_results(page)
    wait_for_counts(page)
    page.locator("#search-q").focus()
    seen = []
    for _ in range(80):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("""() => { const e = document.activeElement;
            return e.matches('.search-result-title a') ? 'result' : e.matches('.facet-values input') ? 'filter'
                 : e.matches('.search-pages a') ? 'pages' : e.matches('.facet-find') ? 'find' : e.tagName; }"""))
    assert {"result", "filter", "pages", "find"} <= set(seen)
    assert seen.index("result") < seen.index("pages") < seen.index("find")  # the order on the screen


def test_relevance_does_not_favour_one_shard(page, archive, tmp_path):
    """A word in 40 articles of 2019 (four times each) and in one of 2008 (once): each
    shard alone would rank its own matches by its own statistics, and the 2008 article,
    the only one in its shard, would come first (its word is rare there). Over the whole
    archive, as one Pagefind index ranks it, it comes last; so it does here."""
    url = archive["bases"]["/"]
    page.goto(url + f"search/?q={COMMON}")
    wait_for_results(page)
    assert shown_count(page) == 41
    sharded, _ = all_pages(page)
    single = _single_index_ranking(page, archive, tmp_path, COMMON, 41)
    lone = article_url("/", archive["lone"])
    assert single.index(lone) == 40  # the reference
    assert sharded.index(lone) == 40
    assert sorted(sharded) == sorted(single)


@pytest.mark.parametrize("base", BASES)
def test_a_word_extended_in_one_shard_only_finds_every_shard(page, archive, base, tmp_path):
    """Pagefind matches every word that extends a query word ("plexorian" finds
    "plexorianzq"); the one shard that also has the longer word must not make the others
    look as if they had fallen back to a prefix."""
    url = archive["bases"][base]
    page.goto(url + f"search/?q={STEM}")
    wait_for_results(page)
    assert shown_count(page) == STEM_COUNT + 1
    urls, _ = all_pages(page)
    assert sorted(urls) == sorted(article_url(base, a) for a in archive["stems"])
    if base == "/":
        assert sorted(_single_index_ranking(page, archive, tmp_path, STEM, 50)) == sorted(urls)
    assert page.failed == []


def _single_index_ranking(page, archive, tmp_path, query: str, count: int = 10) -> list[str]:
    """The first results of one Pagefind index over every article page of the root build,
    through Pagefind's own JS API (the reference the shards are measured against)."""
    import subprocess
    from builder.search import pagefind_binary
    www = archive["www"] / "root"
    bundle = www / "single" / "pagefind"
    if not bundle.is_dir():
        subprocess.run([str(pagefind_binary()), "--site", str(www), "--output-path", str(bundle),
                        "--force-language", "en", "--quiet"], check=True, cwd=tmp_path, capture_output=True)
    return page.evaluate("""async ([query, count]) => {
      const pagefind = await import('/single/pagefind/pagefind.js');
      await pagefind.options({ baseUrl: '/' });
      const found = await pagefind.search(query);
      const data = await Promise.all(found.results.slice(0, count).map((r) => r.data()));
      return data.map((d) => d.url);
    }""", [query, count])
