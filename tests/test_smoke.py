"""End-to-end: the sample site builds, checks, and a small site has the pages it should."""

from conftest import REPO, article, run_cli


def test_sample_site_checks_clean():
    result = run_cli("check", "--site", str(REPO), check=True)
    assert result.stdout.startswith("ok: 1 article, ")


def test_small_site_builds_every_page_kind(make_site, tmp_path):
    site = make_site({
        "content/2025/a.md": article("First", "2025-06-13", countries="[Japan]", topics="[Trade]"),
        "content/2025/b.md": article("Second", "2025-07-01T09:30:00", countries="[US]",
                                     topics="[trade]", related="[a]"),
    })
    run_cli("build", "--site", str(site), check=True)
    out = site / "output"
    for page in ("index.html", "2025/06/a/index.html", "2025/07/b/index.html", "countries/index.html",
                 "countries/japan/index.html", "countries/united-states/index.html",
                 "topics/trade/index.html", "archive/index.html", "2025/index.html",
                 "2025/06/index.html", "404.html"):
        assert (out / page).is_file(), page
    a_page = (out / "2025/06/a/index.html").read_text()
    assert "Referenced by" in a_page and 'href="/2025/07/b/"' in a_page
