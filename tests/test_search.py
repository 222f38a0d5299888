"""Search: Pagefind indexes every build, and /search/ works in a real browser.

Sites are built through the CLI, served by a real http.server on 127.0.0.1 (at the
root, or under /archive/ for a site built with that base URL) and searched with
Debian's chromium. The fixture site's articles are test data, not news.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import REPO, article, run_cli, write_files
from conftest import serve_static as serve

SAMPLE_TITLE = "Japan Reports Progress in Fifth Round of Tariff Talks With the U.S."
SAMPLE_PATH = "2025/06/japan-us-tariff-talks-fifth-round/"

# Five articles: four mention tariffs; Japan is on two of them, 2025 on two.
FIXTURE = {
    "content/a.md": article("Alpha tariff talks", "2025-06-13", "Talks on the tariff schedule went on.",
                            countries="[Japan, US]", topics="[Trade, Tariffs]"),
    "content/b.md": article("Bravo tariff rates", "2024-03-02", "A tariff rate table was published.",
                            countries="[Japan]", topics="[Tariffs]"),
    "content/c.md": article("Charlie steel tariff", "2023-11-20", "A tariff on steel was disputed.",
                            countries="[Germany]", topics="[Trade]"),
    "content/d.md": article("Delta harvest report", "2025-01-10", "The harvest report covered wheat.",
                            countries="[Brazil]", topics="[Agriculture]"),
    "content/e.md": article("Echo tariff deadline", "2025-09-01T10:00:00", "The tariff deadline moved.",
                            countries="[Canada, US]", topics="[Tariffs]"),
}
TARIFF_TITLES = {"Alpha tariff talks", "Bravo tariff rates", "Charlie steel tariff", "Echo tariff deadline"}
BASES = ["/", "/archive/"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """served(site, base) → the URL of the site's base path, built and served once per module."""
    started, stack = {}, []

    def get(site: str, base: str) -> str:
        if (site, base) not in started:
            root = tmp_path_factory.mktemp(f"{site}-served")
            folder = REPO if site == "sample" else write_files(root / "site", FIXTURE)
            out = root / "www" / base.strip("/") if base != "/" else root / "www"
            run_cli("build", "--site", str(folder), "--out", str(out), "--base-url", base, check=True)
            server = serve(root / "www")
            stack.append(server)
            started[(site, base)] = server.__enter__().rstrip("/") + base
        return started[(site, base)]

    yield get
    for server in reversed(stack):
        server.__exit__(None, None, None)


# The page's own UI (templates/search.html, static/search.js) replaced Pagefind's Component UI
# when the index was split into shards: these selectors follow it.
RESULT_LINKS = ".search-result-title a"


def result_titles(page, count: int) -> set[str]:
    links = page.locator(RESULT_LINKS)
    expect(links).to_have_count(count)
    return set(links.all_inner_texts())


def facet_count(page, name: str, value: str) -> str:
    expect(page.locator(".search-filters")).not_to_have_attribute("aria-busy", "true")  # counts follow results
    row = page.locator(".facet-values li", has=page.locator(f'input[name="{name}"][value="{value}"]'))
    return row.locator(".facet-count").inner_text()


@pytest.mark.parametrize("base", BASES)
def test_searching_tariff_lists_the_japan_article(page, served, base):
    url = served("sample", base)
    page.goto(url + "search/?q=tariff")
    assert result_titles(page, 1) == {SAMPLE_TITLE}
    link = page.locator(RESULT_LINKS)
    assert link.get_attribute("href") == base + SAMPLE_PATH
    expect(page.locator(".search-result-date time")).to_have_text("13 June 2025")
    expect(page.locator(".search-result-date time")).to_have_attribute("datetime", "2025-06-13T00:00:00+00:00")
    expect(page.locator("#search-q")).to_have_value("tariff")
    link.click()
    expect(page.locator("h1")).to_have_text(SAMPLE_TITLE)
    assert page.url == url + SAMPLE_PATH
    assert page.failed == []


@pytest.mark.parametrize("base", BASES)
def test_country_facet_narrows_results_with_the_right_count(page, served, base):
    page.goto(served("fixture", base) + "search/?q=tariff")
    assert result_titles(page, 4) == TARIFF_TITLES
    assert facet_count(page, "country", "Japan") == "2"
    assert facet_count(page, "country", "Germany") == "1"
    page.check('input[name="country"][value="Japan"]')
    assert result_titles(page, 2) == {"Alpha tariff talks", "Bravo tariff rates"}
    expect(page).to_have_url(re.compile(r"\?q=tariff&country=Japan$"))
    assert page.failed == []


@pytest.mark.parametrize("base", BASES)
def test_year_facet_narrows_results(page, served, base):
    page.goto(served("fixture", base) + "search/?q=tariff")
    result_titles(page, 4)
    assert facet_count(page, "year", "2025") == "2"
    page.check('input[name="year"][value="2025"]')
    assert result_titles(page, 2) == {"Alpha tariff talks", "Echo tariff deadline"}
    expect(page).to_have_url(re.compile(r"\?q=tariff&year=2025$"))
    assert page.failed == []


@pytest.mark.parametrize("base", BASES)
def test_a_shared_address_restores_query_filters_and_sort(page, served, base):
    page.goto(served("fixture", base) + "search/?q=tariff&country=United+States&year=2025&sort=oldest")
    links = page.locator(RESULT_LINKS)
    expect(links).to_have_text(["Alpha tariff talks", "Echo tariff deadline"])
    expect(page.locator('input[name="country"][value="United States"]')).to_be_checked()
    expect(page.locator('input[name="year"][value="2025"]')).to_be_checked()
    expect(page.locator("#search-sort")).to_have_value("oldest")
    assert page.failed == []


def test_sort_by_date_orders_results_and_is_kept_in_the_address(page, served):
    page.goto(served("fixture", "/") + "search/?q=tariff")
    result_titles(page, 4)
    page.select_option("#search-sort", "newest")
    links = page.locator(RESULT_LINKS)
    expect(links).to_have_text(["Echo tariff deadline", "Alpha tariff talks", "Bravo tariff rates",
                                "Charlie steel tariff"])
    expect(page).to_have_url(re.compile(r"\?q=tariff&sort=newest$"))
    page.select_option("#search-sort", "oldest")
    expect(links).to_have_text(["Charlie steel tariff", "Bravo tariff rates", "Alpha tariff talks",
                                "Echo tariff deadline"])


def test_browsing_without_a_query_lists_every_article_newest_first(page, served):
    page.goto(served("fixture", "/archive/") + "search/")
    links = page.locator(RESULT_LINKS)
    expect(links).to_have_text(["Echo tariff deadline", "Alpha tariff talks", "Delta harvest report",
                                "Bravo tariff rates", "Charlie steel tariff"])
    page.check('input[name="country"][value="Brazil"]')
    expect(links).to_have_text(["Delta harvest report"])
    assert page.failed == []


def test_search_page_has_no_axe_violations(page, served):
    from axe_playwright_python.sync_playwright import Axe
    page.goto(served("fixture", "/") + "search/?q=tariff&country=Japan")
    result_titles(page, 2)
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


@pytest.mark.parametrize("base", BASES)
def test_header_form_searches_without_javascript(browser, served, base):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served("sample", base))
        page.fill("#site-search-q", "tariff")
        page.locator(".site-search button").click()
        page.wait_for_load_state()
        assert page.url == served("sample", base) + "search/?q=tariff"
        expect(page.locator("noscript")).to_have_count(1)
    finally:
        context.close()


def test_exclude_selectors_and_language_reach_the_index(make_site, browser):
    site = make_site({
        "site.toml": '[search]\nexclude_selectors = [".article-body blockquote"]\nlanguage = "en"\n',
        "content/a.md": article("Quoted piece", "2025-02-01", "Plain words here.\n\n> zebrafish quoted\n"),
    })
    run_cli("build", "--site", str(site), check=True)
    entry = json.loads((site / "output/pagefind/shards/2025-02/pagefind-entry.json").read_text())  # its one month
    assert list(entry["languages"]) == ["en"]
    context = browser.new_context()
    try:
        page = context.new_page()
        with serve(site / "output") as url:
            page.goto(url + "/search/?q=plain")
            assert result_titles(page, 1) == {"Quoted piece"}
            page.goto(url + "/search/?q=zebrafish")
            expect(page.locator("[data-search-count]")).to_have_text("0 articles match \u201czebrafish\u201d")
            expect(page.locator(RESULT_LINKS)).to_have_count(0)
    finally:
        context.close()


# Without a browser: the build step itself.

def test_build_indexes_articles_and_reports_the_search_time(make_site):
    site = make_site(FIXTURE)
    result = run_cli("build", "--site", str(site), check=True)
    assert re.search(r"search \d+\.\d\ds", result.stdout), result.stdout
    out = site / "output"
    manifest = json.loads((out / "pagefind/shards.json").read_text())
    assert manifest["pages"] == 5 and [s["name"] for s in manifest["shards"]] == ["2025-09", "2025", "2024", "2023"]
    entry = json.loads((out / "pagefind/shards/2025/pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == 2
    assert (out / "search/index.html").is_file()
    assert 'action="/search/"' in (out / "index.html").read_text()


def test_a_rebuild_carries_unchanged_index_files_over(make_site):
    """(Shards since the index is split by date: the other years' shards are not even indexed again.)"""
    site = make_site(FIXTURE)
    run_cli("build", "--site", str(site), check=True)

    def files():
        return {p.relative_to(site / "output/pagefind").as_posix(): p.stat().st_ino
                for p in (site / "output/pagefind").rglob("*") if p.is_file()}

    def fragments(found):
        return {name: inode for name, inode in found.items() if name.endswith(".pf_fragment")}

    before = files()
    write_files(site, {"content/f.md": article("Foxtrot tariff note", "2025-09-20")})  # the newest month
    result = run_cli("build", "--site", str(site), check=True)
    after = files()
    assert len(fragments(before)) == 5 and len(fragments(after)) == 6
    assert {name: after.get(name) for name in fragments(before)} == fragments(before)  # the same files, untouched
    assert {n: i for n, i in after.items() if not n.startswith("shards/2025-09/")} == \
        {n: i for n, i in before.items() if not n.startswith("shards/2025-09/") and n != "shards.json"} | \
        {"shards.json": after["shards.json"]}  # the older shards untouched, the runtime too
    entry = json.loads((site / "output/pagefind/shards/2025-09/pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == 2
    metas = [name for name in after if name.endswith(".pf_meta")]
    assert len(metas) == 4, metas  # the newest month's previous metadata file is gone
    assert "search" in result.stdout


def test_an_archive_without_articles_builds_without_an_index(make_site):
    site = make_site({"content/draft.md": article("Not yet", "2025-01-01", draft="true")})
    run_cli("build", "--site", str(site), check=True)
    assert (site / "output/search/index.html").is_file()
    assert not (site / "output/pagefind").exists()


@pytest.mark.parametrize("how", ["flag", "site.toml"])
def test_search_can_be_turned_off(make_site, how):
    site = make_site(FIXTURE)
    run_cli("build", "--site", str(site), check=True)
    assert (site / "output/pagefind/shards.json").is_file()
    if how == "site.toml":
        write_files(site, {"site.toml": "[search]\nenabled = false\n"})
    result = run_cli("build", "--site", str(site), *(["--no-search"] if how == "flag" else []), check=True)
    assert "search" not in result.stdout.split("(", 1)[1]
    out = site / "output"
    assert not (out / "pagefind").exists() and not (out / "search").exists()
    assert "/search/" not in (out / "index.html").read_text()


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("binary, message", [
    ("#!/bin/sh\necho 'pagefind exploded' >&2\nexit 1\n",
     r"Pagefind \(.*fake-pagefind\) failed with exit code 1; it said:\n  pagefind exploded"),
    ("not a program", r"Pagefind at .*fake-pagefind cannot be run: Permission denied"),
    (None, r"Pagefind not found at .*fake-pagefind"),
])
def test_pagefind_failing_is_a_clear_error_and_keeps_the_previous_output(make_site, tmp_path, binary, message):
    site = make_site(FIXTURE)
    run_cli("build", "--site", str(site), check=True)
    before = _snapshot(site / "output")
    fake = tmp_path / "fake-pagefind"
    if binary is not None:
        fake.write_text(binary)
        if binary.startswith("#!"):
            fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    write_files(site, {"content/f.md": article("Foxtrot", "2025-10-01")})
    env_before = os.environ.get("PAGEFIND_BINARY_PATH")
    os.environ["PAGEFIND_BINARY_PATH"] = str(fake)
    try:
        result = run_cli("build", "--site", str(site))
    finally:
        if env_before is None:
            del os.environ["PAGEFIND_BINARY_PATH"]
        else:
            os.environ["PAGEFIND_BINARY_PATH"] = env_before
    assert result.returncode == 3, result.stderr
    assert re.search("^error: " + message, result.stderr, re.MULTILINE), result.stderr
    assert "the output folder was left as it was" in result.stderr
    assert _snapshot(site / "output") == before
    assert [p.name for p in site.iterdir() if p.name.startswith(".output")] == []  # no staging left behind


def test_articles_missing_sort_key_or_filters_fail_the_build(make_site):
    theme = (REPO / "templates/article.html").read_text()
    broken = (theme.replace(' data-pagefind-sort="date:{{ article.date | sort_date }}"', "")
              .replace('<span data-pagefind-filter="topic">', "<span>"))
    site = make_site({**FIXTURE, "templates/article.html": broken})
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 1
    assert ("templates/article.html: search index: no 'date' sort key (data-pagefind-sort=\"date:…\"), "
            "so date-sorted results leave the page out: pages /2025/09/e/, /2025/06/a/, /2025/01/d/, "
            "/2024/03/b/, /2023/11/c/\n") in result.stderr
    assert ("templates/article.html: search index: topic filter values [], expected ['Tariffs', 'Trade'] "
            "(data-pagefind-filter=\"topic\"): page /2025/06/a/\n") in result.stderr
    assert not (site / "output").exists()
