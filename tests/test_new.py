"""`python -m builder new`: a scaffold that builds, never a clobbered file or a reused slug."""

import datetime as dt
from pathlib import Path

import yaml

import pytest

from conftest import CORPUS_SIZE, article, counts, run_cli
from builder.new import slug_for

TITLE = "Japan and US agree on auto tariffs"


def front_matter_of(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def test_new_writes_a_scaffold_that_checks(make_site):
    site = make_site({"site.toml": 'timezone = "Asia/Tokyo"\n',
                      "content/2025/old.md": article("Old", "2025-01-02")})
    before = dt.datetime.now(dt.timezone.utc)
    result = run_cli("new", TITLE, "--country", "JP", "--country", "U.S.", "--topic", "Trade",
                     "--site", str(site), check=True)
    after = dt.datetime.now(dt.timezone.utc)
    path = Path(result.stdout.strip())
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).year
    assert path == site.resolve() / f"content/{year}/japan-and-us-agree-on-auto-tariffs.md"
    meta = front_matter_of(path)
    assert meta["title"] == TITLE
    assert meta["countries"] == ["Japan", "United States"]
    assert meta["topics"] == ["Trade"]
    assert "slug" not in meta  # the file name gives it
    assert meta["date"].utcoffset() == dt.timedelta(hours=9)  # the site's time zone
    assert before.replace(microsecond=0) <= meta["date"] <= after
    checked = run_cli("check", "--site", str(site), check=True)
    assert counts(checked.stdout)["articles"] == 2


def test_new_refuses_a_slug_already_used(make_site):
    site = make_site({"content/2019/elsewhere.md": article(
        "Another", "2019-05-05", slug="japan-and-us-agree-on-auto-tariffs")})
    result = run_cli("new", TITLE, "--site", str(site))
    assert result.returncode == 1
    assert ("new: slug 'japan-and-us-agree-on-auto-tariffs' is already used by "
            "content/2019/elsewhere.md; give another with --slug") in result.stderr
    assert sorted(p.name for p in (site / "content").rglob("*.md")) == ["elsewhere.md"]
    other = run_cli("new", TITLE, "--slug", "japan-us-autos", "--site", str(site), check=True)
    assert Path(other.stdout.strip()).name == "japan-us-autos.md"
    assert front_matter_of(Path(other.stdout.strip())).get("slug") is None


def test_new_never_overwrites_a_file(make_site):
    year = dt.datetime.now(dt.timezone.utc).year
    existing = article("Old", "2020-01-01", slug="something-else")
    site = make_site({f"content/{year}/japan-and-us-agree-on-auto-tariffs.md": existing})
    result = run_cli("new", TITLE, "--site", str(site))
    assert result.returncode == 1
    assert f"content/{year}/japan-and-us-agree-on-auto-tariffs.md already exists; it is not overwritten" \
        in result.stderr
    assert (site / f"content/{year}/japan-and-us-agree-on-auto-tariffs.md").read_text() == existing


def test_a_broken_file_still_claims_its_slug(make_site):
    site = make_site({"content/2020/japan-and-us-agree-on-auto-tariffs.md": "---\ntitle: [broken\n---\n"})
    result = run_cli("new", TITLE, "--site", str(site))
    assert result.returncode == 1
    assert "already used by a file that does not parse" in result.stderr


def test_new_resolves_and_validates_like_a_build(make_site):
    site = make_site({"site.toml": '[countries.aliases]\n"Nippon" = "JP"\n'
                                   '[topics.vocabulary]\n"Trade" = ["commerce"]\n"Energy" = []\n',
                      "content/.keep": ""})
    bad = run_cli("new", "Some talks", "--country", "Japn", "--topic", "Tarde", "--site", str(site))
    assert bad.returncode == 1
    assert ("new: unknown country 'Japn' (closest: Japan, Pitcairn, Jordan); add a spelling "
            "under [countries.aliases] in site.toml if it is right") in bad.stderr
    assert "new: unknown topic 'Tarde' (closest: Trade)" in bad.stderr
    assert not list((site / "content").rglob("*.md"))
    good = run_cli("new", "Some talks", "--country", "Nippon", "--country", "Russia",
                   "--topic", "commerce", "--draft", "--site", str(site), check=True)
    meta = front_matter_of(Path(good.stdout.strip()))
    assert meta["countries"] == ["Japan", "Russia"] and meta["topics"] == ["Trade"]
    assert meta["draft"] is True
    assert counts(run_cli("check", "--site", str(site), check=True).stdout)["articles"] == 0
    assert counts(run_cli("check", "--drafts", "--site", str(site), check=True).stdout)["articles"] == 1


def test_a_title_without_latin_letters_needs_a_slug(make_site):
    site = make_site({"content/.keep": ""})
    result = run_cli("new", "日米関税協議", "--site", str(site))
    assert result.returncode == 1
    assert "new: the title gives no slug (no Latin letters or digits); give one with --slug" in result.stderr
    assert run_cli("new", "日米関税協議", "--slug", "Not A Slug", "--site", str(site)).returncode == 2
    made = run_cli("new", "日米関税協議", "--slug", "japan-us-talks", "--site", str(site), check=True)
    assert front_matter_of(Path(made.stdout.strip()))["title"] == "日米関税協議"


def test_slug_for_cuts_long_titles_at_a_hyphen():
    title = "Japan and the United States agree on a sweeping framework for auto tariffs, steel quotas and chips"
    slug = slug_for(title)
    assert len(slug) <= 80 and title.lower().replace(",", "").replace(" ", "-").startswith(slug)
    assert not slug.endswith("-")
    assert slug_for("Côte d’Ivoire votes") == "cote-d-ivoire-votes"


@pytest.mark.slow
def test_new_in_a_generated_archive_then_check(corpus_copy):
    site = corpus_copy
    made = run_cli("new", TITLE, "--country", "Japan", "--topic", "Autos", "--site", str(site), check=True)
    assert Path(made.stdout.strip()).is_file()
    assert counts(run_cli("check", "--site", str(site), check=True).stdout)["articles"] == CORPUS_SIZE + 1
    again = run_cli("new", TITLE, "--site", str(site))
    assert again.returncode == 1 and "already exists" in again.stderr
