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
    assert result.stdout.rstrip().endswith("; 2 scheduled articles held back, the next due 2026-12-24T09:00:00Z")
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
    assert schedule == {"scheduled": 2, "next_due": "2026-12-24T09:00:00+00:00"}


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
    assert result.stdout.rstrip().endswith("; 1 scheduled article held back, the next due 2027-03-01T00:00:00Z")
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
