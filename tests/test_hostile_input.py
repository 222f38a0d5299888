"""Hostile input: text that would break XML or reorder a page, YAML that would exhaust
memory or time, dates no output can write, keys given twice, an article with no body.

Each refused case gives its exact ``path:line: message`` (exit code 1, never a
traceback); each accepted one builds, and every feed and sitemap parses as XML.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from conftest import messages, run_cli, write_files
from builder.articles import ParseSettings, parse_article
from builder.safetext import clean_body, excerpt, plain_inline, text_problem

C = "content/2025/c.md"
SITE_TOML = 'title = "Hostile Archive"\nbase_url = "https://example.org/"\n[search]\nenabled = false\n'
CONTROL = "a control character that no page or feed can carry: remove it"
NONCHARACTER = "a noncharacter that no page or feed can carry: remove it"
OVERRIDE = ("which reorders the text after it wherever it is shown: remove it "
            "(right-to-left text needs no control characters)")
DATE_HELP = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS with an optional offset"
ALIASES = "YAML aliases (*name) are not allowed in front matter: write the value out where it is used"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$")


def source(*meta: str, body: str = "Body text.") -> str:
    """An article's text from front-matter lines (YAML as written) and a body."""
    return "\n".join(["---", *meta, "---", "", body, ""])


def build(make_site, files: dict, *args: str, timeout: float = 120):
    """Build a site of ``files`` (a site.toml without search unless given)."""
    site = make_site({"site.toml": SITE_TOML, **files})
    result = run_cli("build", "--site", str(site), *args, timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return site, result


def refused(result, problems: list[str]) -> None:
    count = len(problems)
    assert result.returncode == 1, result.stdout + result.stderr
    assert messages(result.stderr) == problems + [
        f"error: {count} problem{'s' if count != 1 else ''} found; nothing was written"]


def parse(text: str, timezone: str = "UTC"):
    settings = ParseSettings(timezone=timezone, allow_html=False, base_path="/", country_aliases=(),
                             topic_vocabulary=())
    return parse_article(C, text.encode("utf-8"), settings)


def problem_lines(text: str, timezone: str = "UTC") -> list[str]:
    article, problems = parse(text, timezone)
    assert article is None
    return [str(p) for p in problems]


def xml_outputs(out: Path) -> list[Path]:
    return sorted(out.rglob("*.xml"))


def assert_every_xml_output_parses(out: Path) -> None:
    """Every Atom feed and sitemap is well-formed XML, and feed readers see no error."""
    files = xml_outputs(out)
    assert any(f.name == "feed.xml" for f in files) and (out / "sitemap.xml") in files
    for path in files:
        ET.parse(path)  # raises on a character XML 1.0 does not allow
        if path.name == "feed.xml":
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    json.loads((out / "feed.json").read_text(encoding="utf-8"))


BODY = ("Control \x01 bytes\x0b in\x1b the \x7f body \x85 and \ufffe and \U0010ffff, "
        "references &#1; &#x85;, an emoji \U0001f600 and 𠀀 stay.\n\n"
        "Second \x00 paragraph with a form\x0cfeed.\n")


def test_control_characters_in_a_body_become_u_fffd_everywhere(make_site):
    site, result = build(make_site, {
        "content/2025/body.md": source("title: Body bytes", "date: 2025-06-15", "topics: [Trade]", body=BODY),
        "content/2025/other.md": source("title: Other", "date: 2025-06-14", "topics: [Trade]", "countries: [Japan]"),
    })
    assert result.returncode == 0, result.stderr
    out = site / "output"
    assert_every_xml_output_parses(out)
    shown = ("Control \ufffd bytes\ufffd in\ufffd the \ufffd body \ufffd and \ufffd and \ufffd, "
             "references \ufffd \ufffd, an emoji \U0001f600 and 𠀀 stay.")
    html = (out / "2025/06/body/index.html").read_text(encoding="utf-8")
    assert f"<p>{shown}</p>" in html
    assert "Second \ufffd paragraph with a form\ufffdfeed." in html
    assert f'<meta name="description" content="{shown}">' in html
    assert f'<span data-pagefind-meta="summary">{shown}</span>' in html
    for feed in (out / "feed.xml", out / "topics/trade/feed.xml"):
        (entry,) = [e for e in feedparser.parse(feed.read_bytes()).entries if e.title == "Body bytes"]
        assert entry.summary == shown
        assert f"<p>{shown}</p>" in entry.content[0].value
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    assert [i["summary"] for i in items if i["title"] == "Body bytes"] == [shown]
    for path in out.rglob("*"):
        if path.suffix in (".html", ".xml", ".json"):
            text = path.read_text(encoding="utf-8")
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\U0010ffff]", text), path


def test_clean_body_replaces_only_unpublishable_characters():
    assert clean_body("plain text\tand\nlines\r\n") == "plain text\tand\nlines\r\n"
    assert clean_body("é’ \U0001f600 \U00020000 \ufffd") == "é’ \U0001f600 \U00020000 \ufffd"
    assert clean_body("a\x01b\x9fc\ud800d\ufdd0e\U0001fffff") == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf"


ARABIC = "اتفاق تجاري جديد بين اليابان والولايات المتحدة؟"
HEBREW = "הסכם סחר חדש: 2025"


def test_a_summary_taken_from_the_body_loses_bidi_overrides():
    text = source("title: T", "date: 2025-06-13", body="Text \u202eреверс and \u2067open isolate.")
    article, problems = parse(text)
    assert problems == []
    assert article.summary == "Text реверс and \u2067open isolate.\u2069"
    assert "\u202e" in article.body_html  # in the body the paragraph bounds it
    assert plain_inline("a\u2069b\u202ac") == "abc"


def test_excerpt_bounds_every_kind_of_value():
    nested: list = []
    for _ in range(5):
        nested = [nested] * 9
    assert len(excerpt(nested)) <= 61
    assert excerpt("x" * 100) == "'" + "x" * 60 + "…'"
    assert excerpt("it's \x01 \u202e") == "\"it's \\x01 \\u202e\""
    assert excerpt(dt.date(1, 1, 1)) == "0001-01-01"


# --- Cheap on ordinary files ------------------------------------------------------------------

def test_text_problem_is_none_for_ordinary_text():
    for text in ("Plain", "Côte d’Ivoire", ARABIC, HEBREW, "日本", "emoji \U0001f600", "tab\tand\nline",
                 "marks \u200e\u200f\u061c", "isolated \u2068x\u2069"):
        assert text_problem(text) is None, text
