"""`python -m builder report`: counts cross-checked against the files, editorial checks, output size."""

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS_SIZE, article, run_cli
from builder.countries import country_index
from builder.report import duplicate_topics
from builder.topics import free_topic


def report_json(site: Path, *args: str) -> dict:
    return json.loads(run_cli("report", "--json", "--site", str(site), *args, check=True).stdout)


def test_counts_match_the_generated_files(corpus):
    metas = [yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1])
             for p in (corpus / "content").rglob("*.md")]
    index = country_index()
    countries = Counter(index.resolve(name).name for meta in metas for name in meta["countries"])
    topics = Counter(name for meta in metas for name in meta["topics"])
    years = Counter(str(meta["date"].year) for meta in metas)  # the site's time zone is UTC
    dates = {meta["slug"]: meta["date"] for meta in metas}
    newer = {(meta["slug"], item) for meta in metas for item in meta.get("related") or []
             if isinstance(item, str) and dates[item] > meta["date"]}

    report = report_json(corpus)
    assert report["articles"] == len(metas) == CORPUS_SIZE
    assert {c["name"]: c["count"] for c in report["countries"]} == countries
    assert {t["name"]: t["count"] for t in report["topics"]} == topics
    assert {y["name"]: y["count"] for y in report["years"]} == years
    assert [c["count"] for c in report["countries"]] == sorted(countries.values(), reverse=True)
    assert [int(y["name"]) for y in report["years"]] == sorted(map(int, years), reverse=True)
    assert {(n["slug"], n["related_slug"]) for n in report["related_to_newer"]} == newer
    assert len(newer) > 50  # the generator relates to earlier *files*, whatever their dates
    assert report["without_country"] == [] and report["without_topic"] == []
    assert report["duplicate_topics"] == []  # the generator's topics are all distinct
    assert report["output"]["built"] is False


def test_text_report_on_the_generated_archive(corpus):
    text = run_cli("report", "--site", str(corpus), check=True).stdout
    assert text.startswith(f"{CORPUS_SIZE} articles\n")
    assert "\nTopics that look like duplicates (0)\n" in text
    assert "Related links to newer articles (" in text and "… and " in text  # long lists are cut
    assert "not built (run `python -m builder build` to measure page sizes)" in text


EDITORIAL_SITE = {
    "content/2025/a.md": article("Tariff talks", "2025-06-13", countries="[Japan]", topics="[Tariff]",
                                 related="[c]"),
    "content/2025/b.md": article("Tariffs rise", "2025-06-10", countries="[U.S.]",
                                 topics="[Tariffs, AI, Labour]"),
    "content/2024/c.md": article("Chips", "2024-12-01", countries="[Japan, US]",
                                 topics="[Artificial Intelligence, Labor, Trade]", related="[a, b]"),
    "content/2024/d.md": article("No country", "2024-03-01", topics="[Trade]"),
    "content/2023/e.md": article("No topic", "2023-03-01", countries="[Russia]"),
    "content/2023/f.md": article("A draft", "2023-04-01", countries="[Russia]", draft="true"),
}


def test_editorial_checks_on_a_fixture_archive(make_site):
    site = make_site(EDITORIAL_SITE)
    report = report_json(site)
    assert report["articles"] == 5 and report["drafts_left_out"] == 1
    assert [(c["name"], c["count"]) for c in report["countries"]] == \
        [("Japan", 2), ("United States", 2), ("Russia", 1)]
    assert [(y["name"], y["count"]) for y in report["years"]] == [("2025", 2), ("2024", 2), ("2023", 1)]
    assert [a["path"] for a in report["without_country"]] == ["content/2024/d.md"]
    assert [a["path"] for a in report["without_topic"]] == ["content/2023/e.md"]
    assert {(p["first"], p["second"], p["reason"]) for p in report["duplicate_topics"]} == {
        ("AI", "Artificial Intelligence", "acronym"), ("Labor", "Labour", "spelling"),
        ("Tariff", "Tariffs", "plural")}
    assert [(n["path"], n["related_slug"]) for n in report["related_to_newer"]] == \
        [("content/2024/c.md", "a"), ("content/2024/c.md", "b")]  # a → c: c is older, fine
    assert report_json(site, "--drafts")["articles"] == 6

    text = run_cli("report", "--site", str(site), check=True).stdout
    assert text.startswith("5 articles (1 draft left out)\n")
    assert "  'Tariff' / 'Tariffs' (plural)\n" in text
    assert "  'AI' / 'Artificial Intelligence' (acronym)\n" in text
    assert "  content/2024/c.md (2024-12-01) -> b (2025-06-10)\n" in text
    assert "Articles without a country (1)\n  content/2024/d.md  No country\n" in text


def test_output_size_and_largest_pages(make_site):
    site = make_site(EDITORIAL_SITE)
    run_cli("build", "--site", str(site), "--no-search", check=True)
    files = [p for p in (site / "output").rglob("*") if p.is_file()]
    pages = sorted(((p.stat().st_size, p.relative_to(site / "output").as_posix())
                    for p in files if p.suffix == ".html"), key=lambda item: (-item[0], item[1]))
    output = report_json(site)["output"]
    assert output["built"] is True
    assert output["total_bytes"] == sum(p.stat().st_size for p in files)
    assert output["limit_bytes"] == 1024 ** 3
    assert output["share"] == pytest.approx(output["total_bytes"] / 1024 ** 3, abs=1e-6)
    assert [(p["bytes"], p["path"]) for p in output["largest"]] == pages[:10]
    text = run_cli("report", "--site", str(site), check=True).stdout
    assert f"of GitHub Pages' 1 GB limit ({output['share']:.2%})" in text and f"  {pages[0][1]}" in text
    elsewhere = report_json(site, "--out", str(site / "missing"))["output"]
    assert elsewhere["built"] is False and elsewhere["total_bytes"] == 0


def test_report_stops_on_what_a_build_would_reject(make_site):
    site = make_site({"content/a.md": article("A", "2025-01-01", countries="[Atlantis]"),
                      "content/b.md": article("B", "2025-01-02", related="[nowhere]")})
    result = run_cli("report", "--site", str(site))
    assert result.returncode == 1
    assert "content/a.md:4: unknown country 'Atlantis'" in result.stderr
    assert "content/b.md:4: related slug 'nowhere' matches no article in the archive" in result.stderr


def test_duplicate_topic_rules():
    def pairs(*names):
        return {(p.first, p.second, p.reason) for p in duplicate_topics([free_topic(n) for n in names])}
    assert pairs("Central Bank", "Central Banks", "Policy", "Policies", "Tax", "Taxes", "Course",
                 "Courses") == {
        ("Central Bank", "Central Banks", "plural"), ("Policies", "Policy", "plural"),
        ("Tax", "Taxes", "plural"), ("Course", "Courses", "plural")}
    assert pairs("EU", "European Union", "OG", "Oil and Gas", "Defence", "Defense") == {
        ("EU", "European Union", "acronym"), ("OG", "Oil and Gas", "acronym"),
        ("Defence", "Defense", "spelling")}
    assert pairs("Trade", "Tariffs", "Space", "Sport", "Gas", "Health", "Wealth", "News", "Courts") == \
        {("Health", "Wealth", "spelling")}  # one letter apart: flagged for a human to judge
