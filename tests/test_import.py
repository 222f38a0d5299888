"""`python -m builder import`: plain text (the seed's form) to Markdown articles that build."""

import html
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS_SIZE, REPO, article, counts, run_cli
from builder.importer import detect_countries, escape_markdown, split_plain_text
from builder.markdown import render_markdown

# The seed article this project started from (the sample site's one article), as it was given.
SEED = REPO / "tests" / "fixtures" / "seed.txt"
SEED_TEXT = SEED.read_text(encoding="utf-8")
SEED_PARAGRAPHS = [line for line in SEED_TEXT.split("\n\n\n")[0].splitlines() if line.strip()]
SEED_HEADLINES = [line.strip() for line in SEED_TEXT.split("\n\n\n")[1].splitlines() if line.strip()]
TITLE = "Japan Reports Progress in Fifth Round of Tariff Talks With the U.S."


def parts(text: str) -> tuple[dict, str]:
    """Front matter and body of an article's source."""
    _, meta, body = text.split("---\n", 2)
    return yaml.safe_load(meta), body


def articles_in(site: Path) -> list[Path]:
    return sorted((site / "content").rglob("*.md"))


def test_the_seed_as_a_dry_run(make_site):
    site = make_site({"content/2024/other.md": article("Other", "2024-01-01")})
    result = run_cli("import", str(SEED), "--title", TITLE, "--date", "2025-06-13", "--dry-run",
                     "--site", str(site), check=True)
    assert result.stdout.startswith(
        "# content/2025/japan-reports-progress-in-fifth-round-of-tariff-talks-with-the-u-s.md\n")
    meta, body = parts(result.stdout.split("\n", 1)[1])
    assert meta["title"] == TITLE and str(meta["date"]) == "2025-06-13"
    assert meta["countries"] == ["United States", "Japan"]  # 6 and 5 mentions: most first
    assert meta["related"] == [{"title": headline} for headline in SEED_HEADLINES]
    assert len(meta["related"]) == 16
    assert "countries detected: United States (6), Japan (5)" in result.stderr
    assert "related: 16 headlines (0 linked to archive articles)" in result.stderr
    # The seed's body lines need no escaping: they come through unchanged.
    assert body.strip().split("\n\n") == SEED_PARAGRAPHS
    assert articles_in(site) == [site / "content/2024/other.md"]  # nothing written


def test_no_made_up_title_or_date(make_site):
    site = make_site({"content/.keep": ""})
    result = run_cli("import", str(SEED), "--site", str(site))
    assert result.returncode == 1
    assert f"{SEED}: no title: give one with --title \"…\" (or a 'Title: …' first line in the file)" \
        in result.stderr
    assert f"{SEED}: no date: give one with --date YYYY-MM-DD" in result.stderr
    bad_date = run_cli("import", str(SEED), "--title", "T", "--date", "13 June", "--site", str(site))
    assert bad_date.returncode == 1
    assert "date '13 June' is not a date: use YYYY-MM-DD" in bad_date.stderr
    assert articles_in(site) == []


def test_the_seed_imported_builds_with_its_text_intact(tmp_path):
    site = tmp_path / "sample"
    (site / "content").mkdir(parents=True)
    (site / "site.toml").write_bytes((REPO / "site.toml").read_bytes())
    result = run_cli("import", str(SEED), "--title", TITLE, "--date", "2025-06-13T09:30:00+09:00",
                     "--topic", "Trade", "--site", str(site), check=True)
    relative = "content/2025/japan-reports-progress-in-fifth-round-of-tariff-talks-with-the-u-s.md"
    assert result.stdout.strip() == relative
    run_cli("build", "--site", str(site), "--no-search", check=True)
    page = (site / "output/2025/06/japan-reports-progress-in-fifth-round-of-tariff-talks-with-the-u-s"
                   "/index.html").read_text(encoding="utf-8")
    for paragraph in SEED_PARAGRAPHS:  # quotes, apostrophes and dashes survive
        assert f"<p>{html.escape(paragraph, quote=False)}</p>" in page
    assert "“We want an agreement as soon as possible." in page and "aluminum—some" in page
    for headline in SEED_HEADLINES:
        assert html.escape(headline, quote=False) in page
    assert 'href="/countries/japan/"' in page and 'href="/countries/united-states/"' in page
    again = run_cli("import", str(SEED), "--title", TITLE, "--date", "2024-06-13", "--site", str(site))
    assert again.returncode == 1
    assert (f"slug 'japan-reports-progress-in-fifth-round-of-tariff-talks-with-the-u-s' is already used "
            f"by {relative}") in again.stderr


def test_headlines_matching_archive_titles_become_links(make_site):
    site = make_site({
        "content/2025/cuba.md": article('"U.S. accuses Cuba of harassing top diplomat, amid rising tensions!"',
                                        "2025-06-01", slug="cuba-diplomat"),
        "content/2025/gold-a.md": article("Gold and Asian stocks rebound as market volatility eases "
                                          "and global sentiment improves", "2025-06-02"),
        "content/2025/gold-b.md": article("GOLD AND ASIAN STOCKS REBOUND AS MARKET VOLATILITY EASES "
                                          "AND GLOBAL SENTIMENT IMPROVES", "2025-06-03"),
    })
    result = run_cli("import", str(SEED), "--title", TITLE, "--date", "2025-06-13", "--site", str(site),
                     check=True)
    meta, _ = parts((site / result.stdout.strip()).read_text(encoding="utf-8"))
    assert meta["related"][11] == "cuba-diplomat"
    assert [item for item in meta["related"] if isinstance(item, str)] == ["cuba-diplomat"]
    assert meta["related"][9] == {"title": SEED_HEADLINES[9]}  # two archive matches: no guess
    assert "related: 16 headlines (1 linked to archive articles)" in result.stderr
    assert "matches 2 articles (content/2025/gold-a.md, content/2025/gold-b.md); kept as a headline" \
        in result.stderr
    run_cli("build", "--site", str(site), "--no-search", check=True)
    page = next((site / "output/2025/06").glob("japan-reports-*/index.html")).read_text(encoding="utf-8")
    assert 'href="/2025/06/cuba-diplomat/"' in page


@pytest.mark.slow
def test_import_into_a_generated_archive_links_its_titles(corpus_copy, tmp_path):
    site = corpus_copy
    sources = sorted((site / "content").rglob("*.md"))[:3]
    titles = [yaml.safe_load(p.read_text().split("---\n")[1])["title"] for p in sources]
    slugs = [yaml.safe_load(p.read_text().split("---\n")[1])["slug"] for p in sources]
    plain = tmp_path / "story.txt"
    plain.write_text("Title: Officials in Japan and the U.K. Meet\nDate: 2024-03-01\n\n"
                     "Japan and the U.K. met in Tokyo and London. Britain and Japan said more.\n\n"
                     + "\n".join(t.lower() + "?" for t in titles) + "\nAn Unknown Headline\n",
                     encoding="utf-8")
    result = run_cli("import", str(plain), "--site", str(site), check=True)
    meta, _ = parts((site / result.stdout.strip()).read_text(encoding="utf-8"))
    assert meta["related"] == [*slugs, {"title": "An Unknown Headline"}]
    assert meta["countries"] == ["Japan", "United Kingdom"]  # 2 and 2: first named first; not the cities
    assert counts(run_cli("check", "--site", str(site), check=True).stdout)["articles"] == CORPUS_SIZE + 1


def test_several_files_at_once_and_their_usage(make_site, tmp_path):
    site = make_site({"content/.keep": ""})
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Title: First story\n\nJapan spoke.\n", encoding="utf-8")
    second.write_text("Title: Second story\nDate: 2025-02-02\n\nChile spoke.\n", encoding="utf-8")
    usage = run_cli("import", str(first), str(second), "--title", "X", "--site", str(site))
    assert usage.returncode == 2
    missing = run_cli("import", str(first), str(second), "--site", str(site))
    assert missing.returncode == 1 and f"{first}: no date" in missing.stderr
    assert articles_in(site) == []  # one file failed: none written
    done = run_cli("import", str(first), str(second), "--date", "2025-01-01", "--site", str(site), check=True)
    assert done.stdout.split() == ["content/2025/first-story.md", "content/2025/second-story.md"]
    assert str(parts((site / "content/2025/second-story.md").read_text())[0]["date"]) == "2025-01-01"
    assert parts((site / "content/2025/first-story.md").read_text())[0]["countries"] == ["Japan"]


# ---------------------------------------------------------------- the parts


def test_the_seed_splits_into_body_and_headlines():
    plain = split_plain_text(SEED_TEXT)
    assert list(plain.paragraphs) == SEED_PARAGRAPHS and len(plain.paragraphs) == 6
    assert list(plain.headlines) == SEED_HEADLINES and len(plain.headlines) == 16
    assert plain.title == "" and plain.date == ""


def test_a_last_block_of_sentences_is_body_not_headlines():
    plain = split_plain_text("First paragraph.\n\nSecond paragraph ends like a sentence.\n")
    assert plain.paragraphs == ("First paragraph.", "Second paragraph ends like a sentence.")
    assert plain.headlines == ()


def detected(*paragraphs: str, aliases=()) -> list[tuple[str, int]]:
    detection = detect_countries(tuple(paragraphs), aliases)
    return [(country.name, count) for country, count in detection.countries]


def test_country_detection_on_the_seed_scans_the_body_only():
    plain = split_plain_text(SEED_TEXT)
    assert detected(*plain.paragraphs) == [("United States", 6), ("Japan", 5)]
    # The headlines name Uruguay, India, Cuba, Georgia…: they are not the article's countries.
    assert "Uruguay" in " ".join(plain.headlines)


def test_cities_regions_and_words_are_not_countries():
    assert detected("Officials met in Washington and Tokyo, then in Mexico City, Kuwait City and "
                    "New Mexico; Latin America and New South Wales watched.") == []
    assert detected("Let us know what the us team thinks.") == []
    assert detected("The US and the U.S.A. and America: one country; the USA too.") == [("United States", 4)]
    assert detected("Britain, the U.K. and Northern Ireland; Ireland too.") == \
        [("United Kingdom", 3), ("Ireland", 1)]
    assert detected("Côte d’Ivoire, Ivory Coast, Türkiye and Turkey; Russia, South Korea.") == \
        [("Côte d'Ivoire", 2), ("Turkey", 2), ("Russia", 1), ("South Korea", 1)]
    assert detected("Papua New Guinea is not Guinea-Bissau; Niger is not Nigeria; Dominica.") == \
        [("Papua New Guinea", 1), ("Guinea-Bissau", 1), ("Niger", 1), ("Nigeria", 1), ("Dominica", 1)]


def test_ambiguous_names_are_reported_not_proposed():
    detection = detect_countries(("The Georgia Election Office in Atlanta; Japan replied.",))
    assert [c.name for c, _ in detection.countries] == ["Japan"]
    assert detection.ambiguous == (("Georgia", 1),)


def test_site_aliases_are_detected():
    assert detected("Nippon and Japan agreed.", aliases=(("Nippon", "JP"),)) == [("Japan", 2)]


TRICKY = ["# not a heading", "#hashtag stays", "1. not a list", "2025. A year", "1) also", "> not a quote",
          "- dash", "+ plus", "* star", "---", "***", "___", "= = =", "a *b* c",
          "snake_case and _under_ and __bold__", "`code`", "[link](http://x)", "![img](x.png)",
          "S&P 500 &amp; more &#169;", "<b>bold</b> <https://x.org>", "back\\slash \\* and C:\\path",
          "~~strike~~", "| a | b |", "```", "~~~", "    indented", "[^1] footnote", "a\\", "100. Hundred",
          "*", "_", "x < y > z", "<!-- c -->", "Price: $5 * 3 = $15", "_leading", "trailing_", "#", "1.",
          "He said “yes” — it’s 50% & more, aluminum—some"]


@pytest.mark.parametrize("line", TRICKY)
def test_escaped_lines_render_as_the_plain_text_they_are(line):
    rendered, first_paragraph, _ = render_markdown(escape_markdown(line), False, "/")
    assert rendered.count("<p>") == 1 and rendered.startswith("<p>")
    assert first_paragraph == " ".join(line.split())
    for markup in ("<em", "<strong", "<code", "<a ", "<h", "<ol", "<ul", "<blockquote", "<hr", "<s>",
                   "<img", "<table", "<pre", "<b>"):
        assert markup not in rendered


def test_escaping_is_minimal():
    for line in ("He said “yes” — it’s 50% & more", "snake_case", "1.5 percent", "U.S.-Japan trade",
                 "#hashtag", "S&P 500", "x < y"):
        assert escape_markdown(line) == line


def test_a_title_without_latin_letters_needs_a_slug(make_site, tmp_path):
    site = make_site({"content/.keep": ""})
    plain = tmp_path / "jp.txt"
    plain.write_text("Japan spoke.\n", encoding="utf-8")
    result = run_cli("import", str(plain), "--title", "日本", "--date", "2025-01-01", "--site", str(site))
    assert result.returncode == 1
    assert (f"{plain}: the title gives no slug (no Latin letters or digits); give one with --slug"
            in result.stderr)
    done = run_cli("import", str(plain), "--title", "日本", "--date", "2025-01-01", "--slug", "nihon",
                   "--site", str(site), check=True)
    assert done.stdout.strip() == "content/2025/nihon.md"
    assert parts((site / "content/2025/nihon.md").read_text(encoding="utf-8"))[0]["title"] == "日本"
