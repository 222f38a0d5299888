"""Link integrity: every internal href/src/srcset/action on every built page resolves to a
built file (and each #fragment to an id), at the root and under a subpath base URL."""

from __future__ import annotations

import pytest

from conftest import REPO, generate_corpus, run_cli, write_files
from linkcheck import crawl

SUBPATH = "https://user.github.io/archive/"


def build(site, out, base_url=None, *extra):
    args = ["build", "--site", str(site), "--out", str(out), *extra]
    if base_url:
        args += ["--base-url", base_url]
    run_cli(*args, check=True)
    return out


def assert_no_broken_links(out, base_url="/", min_pages=1):
    report = crawl(out, base_url)
    assert report.pages >= min_pages
    assert report.internal_links > report.pages  # every page links somewhere: the crawl saw them
    assert report.broken == []
    return report


def assert_all_under(out, prefix):
    """Every root-relative URL in every page starts with the base path."""
    import re
    pattern = re.compile(r'(?:href|src|action)="(/[^"]*)"')
    for path in out.rglob("*.html"):
        for link in pattern.findall(path.read_text(encoding="utf-8")):
            assert link.startswith(prefix), f"{path.relative_to(out)}: {link}"


# -- The crawler itself must catch what it is for ---------------------------------------------

def test_crawler_reports_every_kind_of_broken_link(tmp_path):
    out = write_files(tmp_path / "out", {
        "index.html": """
            <a id="top" href="/a/">ok folder</a> <a href="/a/index.html#x">ok fragment</a>
            <a href="/missing/">missing folder</a> <img src="/img/none.png" alt="">
            <img srcset="/img/ok.png 1x, /img/gone.png 2x" alt=""> <a href="a/#nope">bad fragment</a>
            <a href="#top">ok here</a> <a href="https://example.org/x">external</a>
            <form action="/search/"></form> <link rel="stylesheet" href="/s.css?v=1">
        """,
        "a/index.html": '<h2 id="x">X</h2><a href="../index.html">up</a><a href="../b/">b</a>',
        "img/ok.png": b"png",
        "s.css": "",
    })
    report = crawl(out, "/")
    assert sorted(report.broken) == sorted([
        "index.html: a.href='/missing/' -> no file missing/index.html",
        "index.html: img.src='/img/none.png' -> no file img/none.png",
        "index.html: img.srcset='/img/gone.png' -> no file img/gone.png",
        "index.html: a.href='a/#nope' -> no id 'nope' in a/index.html",
        "index.html: form.action='/search/' -> no file search/index.html",
        "a/index.html: a.href='../b/' -> no file b/index.html",
    ])
    assert report.external_links == 1


def test_crawler_reports_links_outside_the_base_path(tmp_path):
    out = write_files(tmp_path / "out", {
        "index.html": '<a href="/archive/">ok</a><a href="/countries/">escapes</a>'
                      '<a href="https://user.github.io/archive/">ok absolute</a>'
                      '<a href="https://user.github.io/elsewhere/">other site on the origin</a>',
    })
    report = crawl(out, SUBPATH)
    assert report.broken == [
        "index.html: a.href='/countries/' is outside the base path /archive/",
        "index.html: a.href='https://user.github.io/elsewhere/' is outside the base path /archive/",
    ]


# -- The sample site (this repository) --------------------------------------------------------

@pytest.mark.parametrize("base_url", [None, SUBPATH], ids=["root", "subpath"])
def test_sample_site_has_no_broken_links(tmp_path, base_url):
    out = build(REPO, tmp_path / "out", base_url)
    assert_no_broken_links(out, base_url or "/", min_pages=10)
    if base_url:
        assert_all_under(out, "/archive/")


# -- A 500-article generated archive ----------------------------------------------------------

@pytest.mark.parametrize("base_url", [None, SUBPATH], ids=["root", "subpath"])
def test_generated_archive_has_no_broken_links(corpus, tmp_path, base_url):
    out = build(corpus, tmp_path / "out", base_url)
    report = assert_no_broken_links(out, base_url or "/", min_pages=500)
    assert report.internal_links > 500 * 20
    if base_url:
        assert_all_under(out, "/archive/")


@pytest.mark.slow
def test_thousand_article_archive_has_no_broken_links(tmp_path):
    """The issue's done-when: 1,000 articles, root and subpath, zero broken internal links."""
    site = generate_corpus(1000, tmp_path / "corpus", seed=7)
    for name, base_url in (("root", "/"), ("subpath", SUBPATH)):
        out = build(site, tmp_path / name, base_url, "--no-search")
        assert len(list(out.glob("[0-9]*/[0-9][0-9]/*/index.html"))) == 1000  # every article page
        assert_no_broken_links(out, base_url, min_pages=1000)
        if base_url != "/":
            assert_all_under(out, "/archive/")
