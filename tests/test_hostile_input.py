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

from conftest import messages, run_cli
from builder.articles import ParseSettings, parse_article
from builder.frontmatter import MAX_DEPTH
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


def parsed_of(text: str, timezone: str = "UTC"):
    settings = ParseSettings(timezone=timezone, allow_html=False, base_path="/", country_aliases=(),
                             topic_vocabulary=())
    return parse_article(C, text.encode("utf-8"), settings)


def parse(text: str, timezone: str = "UTC"):
    """(article or None, problems as a list)."""
    parsed = parsed_of(text, timezone)
    return parsed.article, list(parsed.problems)


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


# --- 1. Text that breaks XML ------------------------------------------------------------

CONTROL_CASES = [
    # (id, front-matter lines, expected problems) — the line is the key's.
    ("x01", ['title: "Bad \\x01 title"', "date: 2025-06-15"], [f"{C}:2: 'title' contains U+0001, {CONTROL}"]),
    ("nul", ["date: 2025-06-15", 'title: "Bad \\0 title"'], [f"{C}:3: 'title' contains U+0000, {CONTROL}"]),
    ("escape", ['title: "Bad \\e title"', "date: 2025-06-15"], [f"{C}:2: 'title' contains U+001B, {CONTROL}"]),
    ("fffe", ['title: "Bad \\uFFFE title"', "date: 2025-06-15"],
     [f"{C}:2: 'title' contains U+FFFE, {NONCHARACTER}"]),
    ("ffff", ['title: "Bad \\uFFFF title"', "date: 2025-06-15"],
     [f"{C}:2: 'title' contains U+FFFF, {NONCHARACTER}"]),
    ("c1-nel", ['title: "Bad \\N title"', "date: 2025-06-15"], [f"{C}:2: 'title' contains U+0085, {CONTROL}"]),
    ("c1-escape", ['title: "Bad \\x9b title"', "date: 2025-06-15"], [f"{C}:2: 'title' contains U+009B, {CONTROL}"]),
    ("lone-surrogate", ['title: "Bad \\uD800 title"', "date: 2025-06-15"],
     [f"{C}:2: invalid YAML in front matter: found invalid Unicode character escape code"]),
    ("raw-c1", ["title: Bad \u0080 title", "date: 2025-06-15"], [f"{C}:2: front matter contains U+0080, {CONTROL}"]),
    ("raw-control", ["date: 2025-06-15", "title: Bad \x07 title"],
     [f"{C}:3: front matter contains U+0007, {CONTROL}"]),
    ("summary", ["title: Fine", "date: 2025-06-15", 'summary: "line\\vbreak"'],
     [f"{C}:4: 'summary' contains U+000B, {CONTROL}"]),
    ("nested-and-listed", ["title: Fine", "date: 2025-06-15", "source:", '  name: "Wire\\x08"',
                           "  url: https://example.org/", 'author: [Ann, "B\\x7fob"]', 'mood: "\\x02"'],
     [f"{C}:5: 'source.name' contains U+0008, {CONTROL}",
      f"{C}:7: 'author' contains U+007F, {CONTROL}",
      f"{C}:8: 'mood' contains U+0002, {CONTROL}"]),
    ("key", ["title: Fine", "date: 2025-06-15", '"odd\\x01key": 1'],
     [f"{C}:4: key 'odd\\x01key' contains U+0001, {CONTROL}"]),
]


@pytest.mark.parametrize("case", CONTROL_CASES, ids=[c[0] for c in CONTROL_CASES])
def test_control_characters_in_front_matter_are_refused_at_their_line(case):
    _, meta, expected = case
    assert problem_lines(source(*meta)) == expected


def test_control_characters_are_refused_by_a_build(make_site):
    _, result = build(make_site, {
        C: source('title: "Bad \\x01 \\0 \\e \\uFFFE title"', "date: 2025-06-15"),
        "content/2025/d.md": source("title: Fine", "date: 2025-06-16", 'topics: ["Q\\x1fA"]'),
    })
    refused(result, [f"{C}:2: 'title' contains U+0001, {CONTROL}",
                     f"content/2025/d.md:4: 'topics' contains U+001F, {CONTROL}"])


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


# --- 2. Bidirectional controls ------------------------------------------------------------

BIDI_CASES = [
    ("override-escaped", ['title: "\\u202Eevil title"', "date: 2025-06-15"],
     [f"{C}:2: 'title' contains U+202E RIGHT-TO-LEFT OVERRIDE, {OVERRIDE}"]),
    ("override-raw", ["date: 2025-06-15", "title: evil \u202e title"],
     [f"{C}:3: 'title' contains U+202E RIGHT-TO-LEFT OVERRIDE, {OVERRIDE}"]),
    ("embedding-in-topic", ["title: Fine", "date: 2025-06-15", "topics: [Trade, \"\\u202Bx\"]"],
     [f"{C}:4: 'topics' contains U+202B RIGHT-TO-LEFT EMBEDDING, {OVERRIDE}"]),
    ("author-lro", ["title: Fine", "date: 2025-06-15", "author: \u202dSomeone"],
     [f"{C}:4: 'author' contains U+202D LEFT-TO-RIGHT OVERRIDE, {OVERRIDE}"]),
    ("isolate-left-open", ["title: Report \u2067عربي", "date: 2025-06-15"],
     [f"{C}:2: 'title' contains U+2067 RIGHT-TO-LEFT ISOLATE that is never closed with "
      "U+2069 POP DIRECTIONAL ISOLATE: close it or remove it"]),
    ("isolate-closing-none", ["title: Report\u2069 x", "date: 2025-06-15"],
     [f"{C}:2: 'title' contains U+2069 POP DIRECTIONAL ISOLATE without an isolate to close: remove it"]),
]


@pytest.mark.parametrize("case", BIDI_CASES, ids=[c[0] for c in BIDI_CASES])
def test_bidi_overrides_in_front_matter_are_refused_at_their_line(case):
    _, meta, expected = case
    assert problem_lines(source(*meta)) == expected


def test_a_bidi_override_in_a_title_is_refused_by_a_build(make_site):
    _, result = build(make_site, {C: source("title: Fine", "date: 2025-06-15"),
                                  "content/2025/d.md": source('title: "\\u202Eevil"', "date: 2025-06-16")})
    refused(result, [f"content/2025/d.md:2: 'title' contains U+202E RIGHT-TO-LEFT OVERRIDE, {OVERRIDE}"])


ARABIC = "اتفاق تجاري جديد بين اليابان والولايات المتحدة؟"
HEBREW = "הסכם סחר חדש: 2025"


def test_right_to_left_titles_build_and_are_isolated(make_site):
    site, result = build(make_site, {
        "content/2025/ar.md": source(f"title: {ARABIC}", "date: 2025-06-13", "slug: arabic",
                                     "topics: [تجارة]", "related: [hebrew]", "countries: [Japan]"),
        "content/2025/he.md": source(f"title: '{HEBREW}'", "date: 2025-06-14", "slug: hebrew",
                                     "topics: [تجارة]", "countries: [Japan]"),
        "content/2025/en.md": source("title: An English headline", "date: 2025-06-15", "slug: english"),
        # A balanced isolate is the plain-text way to mix directions: allowed.
        "content/2025/mixed.md": source("title: Talks on \u2067عربي\u2069 continue", "date: 2025-06-12",
                                        "slug: mixed"),
    })
    assert result.returncode == 0, result.stderr
    out = site / "output"
    home = (out / "index.html").read_text(encoding="utf-8")
    for slug, title in (("arabic", ARABIC), ("hebrew", HEBREW)):
        assert f'<a href="/2025/06/{slug}/" dir="auto">{title}</a>' in home  # _story.html
    # Left-to-right text cannot reorder anything: its HTML stays as it was.
    assert '<a href="/2025/06/english/">An English headline</a>' in home
    arabic = (out / "2025/06/arabic/index.html").read_text(encoding="utf-8")
    assert re.search(f'<h1 dir="auto"( data-pagefind-ignore)?>{ARABIC}</h1>', arabic)
    assert f'<a href="/2025/06/hebrew/" dir="auto">{HEBREW}</a> <time' in arabic  # _headline.html (Related)
    assert f'<span class="article-nav-label">Newer →</span> <bdi>{HEBREW}</bdi></a>' in arabic
    assert re.search(r'<p class="kicker" data-pagefind-ignore><bdi><a href="/topics/[^"]+/">تجارة</a></bdi></p>', arabic)  # term link
    assert '<span class="article-nav-label">← Older</span> <bdi>Talks on \u2067عربي\u2069 continue</bdi>' in arabic
    terms = (out / "topics/index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="[^"]+" dir="auto">تجارة</a>', terms)
    mixed = (out / "2025/06/mixed/index.html").read_text(encoding="utf-8")
    assert re.search('<h1 dir="auto"( data-pagefind-ignore)?>Talks on \u2067عربي\u2069 continue</h1>', mixed)
    assert_every_xml_output_parses(out)


def test_a_summary_taken_from_the_body_loses_bidi_overrides():
    text = source("title: T", "date: 2025-06-13", body="Text \u202eреверс and \u2067open isolate.")
    parsed = parsed_of(text)
    article, problems = parsed.article, list(parsed.problems)
    assert problems == []
    assert article.summary == "Text реверс and \u2067open isolate.\u2069"
    assert "\u202e" in parsed.body  # in the body the paragraph bounds it
    assert plain_inline("a\u2069b\u202ac") == "abc"


# --- 3. Denial of service in YAML ---------------------------------------------------------

def alias_bomb(key: str) -> str:
    lines = ["title: Bomb", "a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    lines.append(f"{key}: *i")
    if key != "date":
        lines.append("date: 2025-06-15")
    return source(*lines)


@pytest.mark.parametrize("key", ["date", "slug", "title", "related"])
def test_an_alias_bomb_is_refused_quickly_with_a_short_message(key):
    started = time.perf_counter()
    assert problem_lines(alias_bomb(key)) == [f"{C}:4: {ALIASES}"]
    assert time.perf_counter() - started < 1


def test_an_alias_bomb_in_a_build_finishes_in_seconds(make_site):
    started = time.perf_counter()
    _, result = build(make_site, {C: alias_bomb("date"), "content/2025/s.md": alias_bomb("slug")}, timeout=60)
    assert time.perf_counter() - started < 30  # a CLI start included; before: MemoryError or minutes
    refused(result, [f"{C}:4: {ALIASES}", f"content/2025/s.md:4: {ALIASES}"])
    assert len(result.stderr) < 1000


def test_any_alias_is_refused_even_a_recursive_one():
    assert problem_lines(source("title: T", "date: 2025-06-15", "x: &x [*x]")) == [f"{C}:4: {ALIASES}"]
    assert problem_lines(source("title: &t T", "date: 2025-06-15", "x: *t")) == [f"{C}:4: {ALIASES}"]
    article, problems = parse(source("title: 'A & B *'", "date: 2025-06-15"))  # & and * in text are text
    assert problems == [] and article.title == "A & B *"


def test_a_ten_megabyte_title_gives_a_short_message(make_site):
    started = time.perf_counter()
    _, result = build(make_site, {C: source("date: 2025-06-15", "title: " + "x" * 10_000_000)})
    refused(result, [f"{C}:3: front matter is 10,000,024 bytes, over the limit of 64 KiB: keep long text in the body"])
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("nesting", [
    "[" * 10_000,  # unclosed
    "[" * 30_000 + "]" * 30_000,  # crashed the process (libyaml's composer recursing in C)
    "{a: " * 10_000 + "}" * 10_000,
    "\n  " + "- " * 20_000 + "x",  # block lists on one line
])
def test_deep_nesting_is_refused_cleanly(make_site, nesting):
    lines = ["title: Deep", "date: 2025-06-15", "x: " + nesting]
    started = time.perf_counter()
    expected = f"{C}:4: front matter nests lists and mappings more than {MAX_DEPTH} deep"
    if nesting.startswith("\n"):
        expected = f"{C}:5: front matter nests lists and mappings more than {MAX_DEPTH} deep"
    assert problem_lines(source(*lines)) == [expected]
    assert time.perf_counter() - started < 2


def test_deep_nesting_in_a_build_is_a_problem_not_a_crash(make_site):
    _, result = build(make_site, {C: source("title: Deep", "date: 2025-06-15", "x: " + "[" * 30_000 + "]" * 30_000)})
    refused(result, [f"{C}:4: front matter nests lists and mappings more than {MAX_DEPTH} deep"])


def test_nesting_within_the_limit_is_read():
    article, problems = parse(source("title: T", "date: 2025-06-15",
                                     "x: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1)))
    assert problems == [] and article is not None


def test_long_lists_are_refused_before_each_item_is_looked_up():
    countries = "countries: [" + ", ".join(f"Narnia{i}" for i in range(3000)) + "]"
    started = time.perf_counter()  # before: half a minute (a closest-name search per unknown country)
    assert problem_lines(source("title: T", "date: 2025-06-15", countries, "related:",
                                *[f"  - s{i}" for i in range(3000)])) == [
        f"{C}:4: 'countries' has 3,000 items; at most 300 are allowed",
        f"{C}:5: 'related' has 3,000 items; at most 300 are allowed"]
    assert time.perf_counter() - started < 2


def test_messages_quote_a_bounded_excerpt_of_any_value():
    long_slug = "Not A Slug " * 1000
    assert problem_lines(source("title: T", "date: 2025-06-15", f"slug: {long_slug}")) == [
        f"{C}:4: invalid slug 'Not A Slug Not A Slug Not A Slug Not A Slug Not A Slug Not A…': use "
        "lowercase letters, digits and hyphens (such as 'not-a-slug-not-a-slug-not-a-slug-not-a-slug-not-a-slug-not-a')"]
    lines = problem_lines(source("title: T", "date: " + "9" * 3000, "countries: [" + "Q" * 5000 + "]",
                                 "related: [" + "X " * 3000 + "]", "image: {src: " + "i" * 3000 + ", alt: A}"))
    assert all(len(line) < 250 for line in lines), lines
    assert lines[0] == f"{C}:3: invalid date {'9' * 60}…: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
    # Keys of mixed types (sorting them raised TypeError), a list as a date.
    assert problem_lines(source("title: T", "date: [2025, 6, 15]", "related: [{title: x, 1: a, z: b}]")) == [
        f"{C}:3: invalid date [2025, 6, 15]: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS",
        f"{C}:4: related item has unknown keys ['z', 1] (use title and url)"]


def test_values_yaml_cannot_build_are_problems_not_tracebacks():
    assert problem_lines(source("title: T", "date: 2025-06-15", "x: !!bool maybe")) == [
        f"{C}:4: invalid YAML in front matter: cannot read 'maybe' as !!bool"]
    assert problem_lines(source("title: T", "date: 2025-06-15", "x: " + "1" * 5000)) == [
        f"{C}:4: invalid YAML in front matter: cannot read '{'1' * 60}…' as !!int"]
    assert problem_lines(source("title: T", "date: !!timestamp soon")) == [
        f"{C}:3: invalid date 'soon': {DATE_HELP}"]


def test_excerpt_bounds_every_kind_of_value():
    nested: list = []
    for _ in range(5):
        nested = [nested] * 9
    assert len(excerpt(nested)) <= 61
    assert excerpt("x" * 100) == "'" + "x" * 60 + "…'"
    assert excerpt("it's \x01 \u202e") == "\"it's \\x01 \\u202e\""
    assert excerpt(dt.date(1, 1, 1)) == "0001-01-01"


# --- 4. Dates ---------------------------------------------------------------------------------

def test_local_mean_time_offsets_are_whole_minutes_everywhere(make_site):
    site = make_site({
        "site.toml": 'title = "Old news"\nbase_url = "https://example.org/"\ntimezone = "Asia/Tokyo"\n'
                     "[search]\nenabled = false\n",
        "content/old.md": source("title: Old news", "date: 1850-01-01", "topics: [History]"),
        "content/noon.md": source("title: Noon in Greenwich", "date: 1850-01-02T12:00:00Z",
                                  "updated: 1850-01-03T10:30:00", "topics: [History]"),
    })
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 0, result.stderr
    out = site / "output"
    old = (out / "1850/01/old/index.html").read_text(encoding="utf-8")
    noon = (out / "1850/01/noon/index.html").read_text(encoding="utf-8")
    assert '<time datetime="1850-01-01T00:00:00+09:19">1 January 1850</time>' in old
    # A time given with an offset keeps its instant: 12:00 UTC is 21:19 at +09:19.
    assert '<time datetime="1850-01-02T21:19:00+09:19">2 January 1850, 21:19 LMT</time>' in noon
    assert 'content="1850-01-03T10:30:00+09:19"' in noon  # article:modified_time
    found: list[str] = []
    for page in (old, noon):
        found += re.findall(r'datetime="([^"]+)"', page)
        found += re.findall(r'property="article:(?:published|modified)_time" content="([^"]+)"', page)
        (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
        data = json.loads(script)
        found += [data["datePublished"], data["dateModified"]]
    for feed in (out / "feed.xml", out / "topics/history/feed.xml"):
        root = ET.parse(feed).getroot()
        found += [e.text for e in root.iter() if e.tag.endswith(("}published", "}updated"))]
    found += [e.text for e in ET.parse(out / "sitemap.xml").getroot().iter() if e.tag.endswith("}lastmod")]
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    found += [i[key] for i in items for key in ("date_published", "date_modified")]
    assert len(found) > 15
    for value in found:
        assert RFC3339.match(value), value
        assert value.endswith("+09:19"), value
    assert_every_xml_output_parses(out)


DATE_RANGE = "use a year from 1600 to 9000"


@pytest.mark.parametrize("meta, expected", [
    (["date: 9999-12-31T23:00:00-05:00"], f"{C}:3: date 9999-12-31T23:00:00-05:00 is out of range: {DATE_RANGE}"),
    (["date: 0001-01-01"], f"{C}:3: date 0001-01-01 is out of range: {DATE_RANGE}"),
    (["date: '1599-12-31'"], f"{C}:3: date 1599-12-31 is out of range: {DATE_RANGE}"),
    (["date: 9001-01-01T00:00:00"], f"{C}:3: date 9001-01-01T00:00:00 is out of range: {DATE_RANGE}"),
    (["date: 2025-06-15", "updated: 0500-01-01"], f"{C}:4: updated 0500-01-01 is out of range: {DATE_RANGE}"),
    (["date: 0000-01-01"], f"{C}:3: invalid date '0000-01-01': {DATE_HELP}"),
])
def test_dates_out_of_range_are_refused(meta, expected):
    assert problem_lines(source("title: T", *meta), "Asia/Tokyo") == [expected]


def test_out_of_range_dates_in_a_build_are_problems_not_tracebacks(make_site):
    site = make_site({
        "site.toml": 'title = "Edges"\ntimezone = "Asia/Tokyo"\n[search]\nenabled = false\n',
        "content/far.md": source("title: Far", "date: 9999-12-31T23:00:00-05:00"),
        "content/early.md": source("title: Early", "date: 0001-01-01"),
    })
    result = run_cli("build", "--site", str(site))
    refused(result, [f"content/early.md:3: date 0001-01-01 is out of range: {DATE_RANGE}",
                     f"content/far.md:3: date 9999-12-31T23:00:00-05:00 is out of range: {DATE_RANGE}"])


def test_the_edges_of_the_range_build_in_any_zone(make_site):
    files = {"content/first.md": source("title: First", "date: 1600-01-01"),
             "content/last.md": source("title: Last", "date: 9000-12-31T23:59:59-12:00")}
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York"):
        site = make_site({"site.toml": f'title = "Edges"\ntimezone = "{zone}"\n[search]\nenabled = false\n',
                          **files}, name=zone.replace("/", "-"))
        result = run_cli("build", "--site", str(site))
        assert result.returncode == 0, result.stderr
        assert_every_xml_output_parses(site / "output")


# --- 5. Duplicate keys ---------------------------------------------------------------------

def test_a_key_given_twice_is_refused_with_both_lines():
    assert problem_lines(source("title: T", "date: 2025-06-15", "slug: t", "date: 2025-06-16")) == [
        f"{C}:5: duplicate key 'date' (also on line 3): keep one of them"]


def test_duplicates_in_nested_mappings_and_every_duplicate_are_reported():
    text = source("date: 2025-06-15", "title: T", "source:", "  name: Wire", "  url: https://example.org/",
                  "  name: Other", "title: U", "related:", "  - {title: x, url: /a, url: /b}", "title: V")
    assert problem_lines(text) == [
        f"{C}:7: duplicate key 'name' (also on line 5): keep one of them",
        f"{C}:8: duplicate key 'title' (also on line 3): keep one of them",
        f"{C}:10: duplicate key 'url' (also on line 10): keep one of them",
        f"{C}:11: duplicate key 'title' (also on line 3): keep one of them"]


def test_a_duplicate_key_fails_a_build(make_site):
    _, result = build(make_site, {C: source("title: T", "date: 2025-06-15", "date: 2025-06-16")})
    refused(result, [f"{C}:4: duplicate key 'date' (also on line 3): keep one of them"])


def test_keys_that_only_look_alike_are_not_duplicates():
    article, problems = parse(source("title: T", "date: 2025-06-15", "x: {a: 1, A: 2, 'a ': 3}"))
    assert problems == [] and article.extra == {"x": {"a": 1, "A": 2, "a ": 3}}


# --- 6. An article without a body or summary ------------------------------------------------

def test_an_article_with_only_front_matter_builds_with_search(make_site):
    site = make_site({"site.toml": 'title = "Empty"\n',
                      "content/2025/empty.md": "---\ntitle: Only a headline\ndate: 2025-06-13\n---\n"})
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 0, result.stderr
    page = (site / "output/2025/06/empty/index.html").read_text(encoding="utf-8")
    assert '<span data-pagefind-meta="summary">Only a headline</span>' in page
    assert (site / "output/pagefind/shards.json").is_file() and list((site / "output/pagefind/shards").glob("*/pagefind-entry.json"))


def test_builder_new_then_build_with_search(make_site):
    site = make_site({"site.toml": 'title = "New"\n'})
    made = run_cli("new", "A headline and nothing else", "--site", str(site), check=True)
    assert Path(made.stdout.strip()).is_file()
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 0, result.stderr


@pytest.mark.browser  # the Nu HTML Checker runs on Java, which .ci/setup installs
def test_pages_of_hostile_but_accepted_input_are_valid_html(make_site):
    from test_theme import run_vnu
    site = make_site({
        "site.toml": 'title = "Valid"\ntimezone = "Asia/Tokyo"\n[search]\nenabled = false\n',
        "content/2025/empty.md": "---\ntitle: Only a headline\ndate: 2025-06-13\n---\n",
        "content/2025/ar.md": source(f"title: {ARABIC}", "date: 2025-06-14", "slug: arabic", "topics: [تجارة]",
                                     "author: [محمد, Ann]", "source: {name: وكالة, url: https://example.org/}",
                                     "related: [empty, {title: عنوان}]", body=BODY),
        "content/old.md": source("title: Old news", "date: 1850-01-01T12:00:00"),
    })
    run_cli("build", "--site", str(site), check=True)
    out = site / "output"
    files = [out / "2025/06/empty/index.html", out / "2025/06/arabic/index.html", out / "1850/01/old/index.html",
             out / "index.html", out / "topics/index.html"]
    assert 'datetime="1850-01-01T12:00:00+09:19"' in files[2].read_text(encoding="utf-8")
    assert run_vnu(files) == []


# --- Cheap on ordinary files ------------------------------------------------------------------

def test_text_problem_is_none_for_ordinary_text():
    for text in ("Plain", "Côte d’Ivoire", ARABIC, HEBREW, "日本", "emoji \U0001f600", "tab\tand\nline",
                 "marks \u200e\u200f\u061c", "isolated \u2068x\u2069"):
        assert text_problem(text) is None, text


def test_site_toml_text_that_no_page_can_carry_is_refused_at_its_line(make_site):
    site = make_site({"site.toml": 'title = "Bad \\u0001 title"\n\n[footer.links]\n"Ab\\u202eout" = "/about/"\n',
                      "content/a.md": source("title: T", "date: 2025-06-13")})
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 1
    assert [line for line in messages(result.stderr) if line.startswith("site.toml")] == [
        "site.toml:1: 'title' contains U+0001, a control character that no page or feed can carry: remove it",
        "site.toml:3: the key 'footer.links.Ab\\u202eout' contains U+202E RIGHT-TO-LEFT OVERRIDE, which "
        "reorders the text after it wherever it is shown: remove it (right-to-left text needs no control characters)"]
