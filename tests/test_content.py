"""The content model: articles, countries, topics and the archive's cross-links, tested on
in-memory data; the rendering facts that need a template (times, escaping, extra keys,
overrides, pagination) through small sites built by the real CLI."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from builder.archive import build_archive
from builder.articles import ParseSettings, parse_article
from builder.content import collect
from builder.countries import country_index
from builder.pages import paginate
from builder.topics import free_topic, topic_key, vocabulary
from builder.urls import Urls
from conftest import article, run_cli


def settings(timezone="UTC", allow_html=False, base_path="/", aliases=(), topics=()) -> ParseSettings:
    return ParseSettings(timezone=timezone, allow_html=allow_html, base_path=base_path,
                         country_aliases=tuple(aliases), topic_vocabulary=tuple(topics))


def parse(text: str, path: str = "content/2025/story.md", **options):
    """Parse one article that must be valid."""
    parsed = parse_article(path, text.encode("utf-8"), settings(**options))
    assert parsed.problems == (), parsed.problems
    return parsed.article


def body_of(text: str, **options) -> str:
    """The rendered body of one valid article."""
    parsed = parse_article("content/2025/story.md", text.encode("utf-8"), settings(**options))
    assert parsed.problems == (), parsed.problems
    return parsed.body


def archive_of(sources: dict[str, str], **options):
    """The Archive of ``{slug: source text}`` (file name = slug); must have no problems."""
    articles = tuple(parse(text, f"content/{slug}.md", **options) for slug, text in sources.items())
    built, problems = build_archive(articles)
    assert problems == [], problems
    return built


def slugs(articles) -> list[str]:
    return [a.slug for a in articles]


# -- Articles ---------------------------------------------------------------------------------

def test_article_fields_from_front_matter():
    parsed = parse(article("  Japan   and the U.S. talk ", "2025-06-13", slug="talks", summary="Short.",
                           countries="[Japan, U.S.]", topics="[Trade]",
                           source="{name: Example Wire, url: 'https://example.org/a'}",
                           author="[A. Reporter, B. Writer]", image="{src: /img/a.jpg, alt: Talks}"))
    assert parsed.title == "Japan and the U.S. talk"
    assert parsed.slug == "talks"
    assert parsed.date == dt.datetime(2025, 6, 13, tzinfo=parsed.date.tzinfo) and parsed.date_only
    assert parsed.summary == "Short."
    assert [c.code for c in parsed.countries] == ["JP", "US"]
    assert parsed.source.name == "Example Wire" and parsed.source.url == "https://example.org/a"
    assert [(a.name, a.slug) for a in parsed.authors] == [("A. Reporter", "a-reporter"), ("B. Writer", "b-writer")]
    assert (parsed.image.src, parsed.image.alt) == ("/img/a.jpg", "Talks")
    assert parsed.draft is False and parsed.extra == {}


def test_slug_defaults_to_the_file_name():
    assert parse(article(), path="content/2025/06/Japan US Talks.md").slug == "japan-us-talks"


def test_unknown_keys_are_kept_in_extra():
    parsed = parse(article(mood="hopeful", desk="{name: Asia, editor: K. Sato}"))
    assert parsed.extra == {"mood": "hopeful", "desk": {"name": "Asia", "editor": "K. Sato"}}


def test_summary_defaults_to_first_paragraph_cut_at_a_word_boundary():
    words = " ".join(f"word{n}" for n in range(100))  # ~690 characters
    parsed = parse(article(body=f"{words}\n\nSecond paragraph."))
    assert parsed.summary.endswith("…")
    cut = parsed.summary[:-1]
    assert len(parsed.summary) <= 240
    assert words.startswith(cut) and words[len(cut)] == " "  # ends on a whole word
    assert len(cut) > 200  # not cut needlessly short


def test_summary_of_a_short_first_paragraph_is_all_of_it_as_plain_text():
    parsed = parse(article(body="A *short* [first](https://example.org) paragraph.\n\nSecond one."))
    assert parsed.summary == "A short first paragraph."


@pytest.mark.parametrize("written", ["2025-06-13", '"2025-06-13"', "'2025-06-13'"])
def test_a_date_without_time_is_a_date_quoted_or_not(written):
    parsed = parse(article(date=written), timezone="Asia/Tokyo")
    assert parsed.date_only and parsed.date.isoformat() == "2025-06-13T00:00:00+09:00"


def test_naive_times_are_in_the_site_time_zone():
    parsed = parse(article(date="2025-06-13T09:30:00"), timezone="Asia/Tokyo")
    assert parsed.date.utcoffset() == dt.timedelta(hours=9)
    assert (parsed.date.hour, parsed.date.minute, parsed.date_only) == (9, 30, False)


def test_times_with_an_offset_are_shown_in_the_site_time_zone():
    # 23:30 in New York on 30 June is already 1 July in Tokyo: the month follows the site.
    parsed = parse(article(date="2025-06-30T23:30:00-04:00"), timezone="Asia/Tokyo")
    assert parsed.date.isoformat() == "2025-07-01T12:30:00+09:00"
    assert Urls("/").article(parsed) == "/2025/07/story/"


def test_raw_html_is_escaped_by_default_and_allowed_by_the_switch():
    body = 'Before <script>alert("x")</script> <b>bold</b>\n\n<div class="box">block</div>\n'
    escaped = body_of(article(body=body))
    assert "<script>" not in escaped and "<b>" not in escaped and "<div" not in escaped
    assert "&lt;script&gt;" in escaped and "&lt;b&gt;bold&lt;/b&gt;" in escaped
    allowed = body_of(article(body=body), allow_html=True)
    assert "<b>bold</b>" in allowed and '<div class="box">block</div>' in allowed


def test_markdown_extensions_and_links_under_a_base_path():
    body = ("## A heading\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ and a note[^1].\n\n"
            "[other](/2025/06/other/) and [outside](https://example.org/)\n\n[^1]: The note.\n")
    html = body_of(article(body=body), base_path="/archive/")
    assert '<h2 id="a-heading">' in html
    assert "<table>" in html and "<s>gone</s>" in html and 'class="footnote' in html
    assert 'href="/archive/2025/06/other/"' in html and 'href="https://example.org/"' in html


# -- Countries --------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling, code, name, slug", [
    ("Japan", "JP", "Japan", "japan"),
    ("JP", "JP", "Japan", "japan"),
    ("JPN", "JP", "Japan", "japan"),
    ("U.S.", "US", "United States", "united-states"),
    ("US", "US", "United States", "united-states"),
    ("United States", "US", "United States", "united-states"),
    ("united states of america", "US", "United States", "united-states"),
    ("Russia", "RU", "Russia", "russia"),
    ("Russian Federation", "RU", "Russia", "russia"),
    ("South Korea", "KR", "South Korea", "south-korea"),
    ("Korea, Republic of", "KR", "South Korea", "south-korea"),
    ("Taiwan", "TW", "Taiwan", "taiwan"),
    ("Czechia", "CZ", "Czechia", "czechia"),
    ("Czech Republic", "CZ", "Czechia", "czechia"),
    ("UK", "GB", "United Kingdom", "united-kingdom"),
    ("Ivory Coast", "CI", "Côte d'Ivoire", "cote-d-ivoire"),
    ("Kosovo", "XK", "Kosovo", "kosovo"),
])
def test_country_spellings_resolve_to_one_familiar_country(spelling, code, name, slug):
    country = country_index().resolve(spelling)
    assert (country.code, country.name, country.slug) == (code, name, slug)


def test_unknown_country_has_closest_matches():
    index = country_index()
    assert index.resolve("Germny") is None
    assert index.suggestions("Germny")[0] == "Germany"


def test_the_iso_table_read_from_pycountrys_file_is_what_pycountry_gives(monkeypatch):
    import pycountry

    import builder.countries
    fields = ("alpha_2", "alpha_3", "name", "common_name", "official_name")
    given = [{key: getattr(record, key) for key in fields if hasattr(record, key)} for record in pycountry.countries]
    read = [{key: entry[key] for key in fields if key in entry} for entry in builder.countries.iso_3166_records()]
    assert len(read) > 240 and read == given
    monkeypatch.setattr(builder.countries.importlib.util, "find_spec", lambda name: None)  # another layout
    assert builder.countries.iso_3166_records() == given


def test_site_aliases_add_spellings():
    index = country_index((("Nippon", "JP"), ("Republic of Korea", "South Korea")))
    assert index.resolve("Nippon").code == "JP"
    assert index.resolve("Republic of Korea").code == "KR"
    assert country_index().resolve("Nippon") is None  # per site, not global


def test_every_spelling_of_a_country_is_one_term_with_one_url():
    built = archive_of({
        "a": article("A", "2025-06-01", countries="[U.S.]"),
        "b": article("B", "2025-06-02", countries="[United States, JP]"),
        "c": article("C", "2025-06-03", countries="[US, Japan, JPN]"),
    })
    assert [(t.name, t.count, Urls("/").term(t)) for t in built.countries] == [
        ("Japan", 2, "/countries/japan/"), ("United States", 3, "/countries/united-states/")]
    united_states = next(t for t in built.countries if t.slug == "united-states")
    assert slugs(united_states.articles) == ["c", "b", "a"]  # newest first
    assert [c.code for c in built.articles[0].countries] == ["US", "JP"]  # JPN merged into JP


# -- Topics -----------------------------------------------------------------------------------

def test_topics_merge_case_and_space_insensitively():
    assert topic_key("Trade") == topic_key("trade") == topic_key(" trade ") == "trade"
    assert topic_key("  Oil \t and  GAS ") == "oil and gas"
    assert free_topic(" Oil  and gas ").name == "Oil and gas"
    built = archive_of({
        "a": article("A", "2025-06-01", topics="[Trade]"),
        "b": article("B", "2025-06-02", topics="[trade]"),
        "c": article("C", "2025-06-03", topics="['Trade', ' trade ']"),  # one topic, counted once
    })
    assert [(t.name, t.slug, t.count) for t in built.topics] == [("Trade", "trade", 3)]
    assert all(a.topics[0].name == "Trade" for a in built.articles)  # one display name everywhere


def test_topic_display_name_is_the_most_used_spelling():
    built = archive_of({
        "a": article("A", "2025-06-01", topics="[oil and gas]"),
        "b": article("B", "2025-06-02", topics="[Oil and Gas]"),
        "c": article("C", "2025-06-03", topics="['Oil  and Gas']"),
    })
    assert [(t.name, t.slug) for t in built.topics] == [("Oil and Gas", "oil-and-gas")]


def test_topic_vocabulary_resolves_synonyms_to_the_name():
    entries = (("Trade", ("commerce", "trade policy")), ("Economy", ()))
    closed = vocabulary(entries)
    assert closed.resolve("  COMMERCE ").name == "Trade"
    assert closed.resolve("trade policy").name == "Trade"
    assert closed.resolve("Tariffs") is None
    assert closed.suggestions("Ecnomy") == ["Economy"]
    parsed = parse(article(topics="[commerce, economy]"), topics=entries)
    assert [t.name for t in parsed.topics] == ["Trade", "Economy"]


# -- The archive: related, referenced by, more on this story, previous/next --------------------

def test_related_items_resolve_to_articles_links_and_headlines():
    built = archive_of({
        "target": article("Target story", "2025-06-01"),
        "story": article("Story", "2025-06-02", related="""
          - target
          - {title: "Elsewhere", url: "https://example.org/x"}
          - title: "Just a headline\""""),
    })
    links = built.links["story"].related
    assert [(link.title, link.url, link.article.slug if link.article else None) for link in links] == [
        ("Target story", "", "target"), ("Elsewhere", "https://example.org/x", None),
        ("Just a headline", "", None)]


def test_unknown_related_slug_names_both():
    story = parse(article("Story", related="[missing-one]"), path="content/story.md")
    _, problems = build_archive((story,))
    assert [str(p) for p in problems] == [
        "content/story.md:4: related slug 'missing-one' matches no article in the archive"]


def test_referenced_by_lists_articles_pointing_here_newest_first():
    built = archive_of({
        "target": article("Target", "2025-06-01"),
        "old": article("Old", "2025-06-02", related="[target]"),
        "new": article("New", "2025-06-05", related="[target, old]"),
        "other": article("Other", "2025-06-04"),
    })
    assert slugs(built.links["target"].referenced_by) == ["new", "old"]
    assert slugs(built.links["old"].referenced_by) == ["new"]
    assert built.links["new"].referenced_by == () and built.links["other"].referenced_by == ()


def test_previous_and_next_follow_time():
    built = archive_of({
        "b": article("B", "2025-06-02"), "a": article("A", "2025-06-01"),
        "c": article("C", "2025-06-03T08:00:00"), "d": article("D", "2025-06-03T09:00:00"),
    })
    assert slugs(built.articles) == ["d", "c", "b", "a"]
    older_newer = {s: (built.links[s].older, built.links[s].newer) for s in "abcd"}
    assert {s: tuple(x.slug if x else None for x in pair) for s, pair in older_newer.items()} == {
        "a": (None, "b"), "b": ("a", "c"), "c": ("b", "d"), "d": ("c", None)}


def story_sources():
    """One story and its neighbours: shared common and rare terms, related and unrelated."""
    sources = {
        "story": article("Story", "2025-06-10", countries="[US, Japan]", topics="[Trade, Semiconductors]",
                         related="[explicit]"),
        "explicit": article("Explicit", "2025-06-09", countries="[US, Japan]", topics="[Trade, Semiconductors]"),
        "shares-rare": article("Rare", "2025-06-01", topics="[Semiconductors]"),
        "shares-common": article("Common", "2025-06-01", countries="[US]"),
        "shares-nothing": article("Nothing", "2025-06-10", countries="[Peru]", topics="[Fishing]"),
    }
    # Make US common: many articles far away in time that share only US.
    for n in range(30):
        sources[f"filler-{n}"] = article(f"Filler {n}", f"2024-01-{n % 28 + 1:02d}", countries="[US]")
    return sources


def test_more_on_this_story_excludes_self_and_explicit_related_and_prefers_rarer_terms():
    more = slugs(archive_of(story_sources()).links["story"].more)
    assert 0 < len(more) <= 5
    assert "story" not in more and "explicit" not in more and "shares-nothing" not in more
    # Same date distance; Semiconductors is rarer than US, so it weighs more.
    assert more.index("shares-rare") < more.index("shares-common")


def test_more_on_this_story_prefers_nearer_dates_among_equal_matches():
    built = archive_of({
        "story": article("Story", "2025-06-10", topics="[Trade]"),
        "near": article("Near", "2025-06-08", topics="[Trade]"),
        "far": article("Far", "2023-01-01", topics="[Trade]"),
        "later": article("Later", "2025-06-11", topics="[Trade]"),
    })
    assert slugs(built.links["story"].more) == ["later", "near", "far"]


def test_more_on_this_story_is_deterministic_whatever_the_input_order():
    sources = story_sources()
    articles = [parse(text, f"content/{slug}.md") for slug, text in sources.items()]
    expected = None
    for seed in range(4):
        random.Random(seed).shuffle(articles)
        built, _ = build_archive(tuple(articles))
        result = {slug: slugs(links.more) for slug, links in built.links.items()}
        assert expected is None or result == expected
        expected = result


def test_more_on_this_story_remembered_equals_worked_out_afresh_after_every_kind_of_change():
    """The archive memo keeps the last choices; a build that reuses them must end where a
    cold build does."""
    sources = story_sources()
    for n in range(28):  # a timeline longer than the windows on both sides of an article
        sources[f"trade-{n}"] = article(f"Trade {n}", f"2025-05-{n + 1:02d}", countries="[Japan]", topics="[Trade]")

    def more_of(texts: dict, memo=None) -> dict:
        articles = tuple(parse(text, f"content/{slug}.md") for slug, text in texts.items())
        built, _ = build_archive(articles, memo)
        return {slug: slugs(links.more) for slug, links in built.links.items()}

    changes = {
        "an article added": {**sources, "added": article("Added", "2025-05-14T12:00:00", countries="[Japan]",
                                                          topics="[Trade]")},
        "an article added last": {**sources, "added": article("Added", "2025-07-01", countries="[Japan]",
                                                               topics="[Trade]")},
        "an article removed": {k: v for k, v in sources.items() if k != "trade-3"},
        # (its other terms' timelines stay as they were)
        "a term dropped": {**sources, "story": article("Story", "2025-06-10", countries="[US, Japan]",
                                                       topics="[Trade]", related="[explicit]")},
        "a date moved": {**sources, "trade-5": article("Trade 5", "2023-02-02", countries="[Japan]",
                                                       topics="[Trade]")},
        "a related link added": {**sources, "trade-1": article("Trade 1", "2025-05-02", countries="[Japan]",
                                                               topics="[Trade]", related="[trade-2]")},
    }
    for what, changed in changes.items():
        memo: dict = {}
        more_of(sources, memo)
        assert memo, what
        assert more_of(changed, memo) == more_of(changed), what


def test_more_on_this_story_remembered_equals_afresh_over_random_edits():
    """Random archives on few terms (long timelines, many ties) and random edits: what the
    memo lets a build keep must never differ from a cold build's choice."""
    chance = random.Random(20261202)
    parsed: dict[str, object] = {}

    def one(slug: str, day: int, countries: list[str], topics: list[str]):
        text = article(slug.title(), (dt.date(2025, 1, 1) + dt.timedelta(days=day)).isoformat(),
                       countries=f"[{', '.join(countries)}]", topics=f"[{', '.join(topics)}]")
        key = slug + text
        if key not in parsed:
            parsed[key] = parse(text, f"content/{slug}.md")
        return parsed[key]

    def random_article(slug: str):
        return one(slug, chance.randrange(60), chance.sample(["Japan", "US", "Peru"], chance.randint(1, 2)),
                   chance.sample(["Trade", "Fishing", "Energy"], chance.randint(1, 2)))

    def more_of(articles: dict, memo=None) -> dict:
        built, _ = build_archive(tuple(articles.values()), memo)
        return {slug: slugs(links.more) for slug, links in built.links.items()}

    for trial in range(25):
        articles = {f"a{n}": random_article(f"a{n}") for n in range(chance.randint(20, 60))}
        memo: dict = {}
        more_of(articles, memo)
        for _ in range(3):  # a few edits in a row, each remembered from the one before
            edited = dict(articles)
            for _ in range(chance.randint(1, 3)):
                kind = chance.choice(["add", "remove", "change"])
                if kind == "add":
                    slug = f"n{chance.randrange(10**6)}"
                    edited[slug] = random_article(slug)
                elif kind == "remove" and len(edited) > 2:
                    edited.pop(chance.choice(sorted(edited)))
                else:
                    slug = chance.choice(sorted(edited))
                    edited[slug] = random_article(slug)
            assert more_of(edited, memo) == more_of(edited), trial
            articles = edited


def test_more_on_this_story_after_additions_works_out_only_some_and_equals_afresh(monkeypatch):
    """Additions (some relating to older articles) take the memo's partial path: fewer
    articles worked out than in the archive, and the same choices as a cold build."""
    import builder.more
    chance = random.Random(20261203)
    worked: list[int] = []
    choose = builder.more._choose
    monkeypatch.setattr(builder.more, "_choose", lambda numbers, *rest: worked.append(len(numbers))
                        or choose(numbers, *rest))

    countries = ["Japan", "US", "Peru", "Kenya", "Chile", "India", "Brazil", "Ghana", "Norway", "Spain"]
    topics = ["Trade", "Fishing", "Energy", "Courts", "Health", "Housing", "Media", "Labour", "Climate", "Sport"]

    def random_article(slug: str, others: list[str]):
        day = chance.randrange(2000)
        related = f"[{chance.choice(others)}]" if others and chance.random() < 0.3 else "[]"
        return parse(article(slug.title(), (dt.date(2020, 1, 1) + dt.timedelta(days=day)).isoformat(),
                             countries=f"[{', '.join(chance.sample(countries, 1))}]",
                             topics=f"[{', '.join(chance.sample(topics, 2))}]", related=related),
                     f"content/{slug}.md")

    def more_of(articles: dict, memo=None) -> dict:
        built, _ = build_archive(tuple(articles.values()), memo)
        return {slug: slugs(links.more) for slug, links in built.links.items()}

    # Weights move by about 1,000 / articles per addition: the archive must be large enough
    # for most of them to stay the same integer.
    articles: dict = {}
    for n in range(2000):
        articles[f"a{n}"] = random_article(f"a{n}", [f"a{m}" for m in range(max(0, n - 50), n)])
    memo: dict = {}
    more_of(articles, memo)
    partial = 0
    for round_ in range(6):
        for _ in range(chance.randint(1, 3)):
            slug = f"n{chance.randrange(10**6)}"
            articles[slug] = random_article(slug, sorted(articles)[:200])
        worked.clear()
        assert more_of(articles, memo) == more_of(articles), round_
        partial += worked[0] < len(articles) // 2
    assert partial >= 4  # most additions took the partial path, and worked out under half the archive


def test_drafts_are_left_out_unless_asked_for():
    results = [(parsed.article, parsed.problems) for parsed in (
        parse_article("content/a.md", article("A").encode(), settings()),
        parse_article("content/b.md", article("B", draft="true").encode(), settings()))]
    without, problems = collect(results, drafts=False)
    assert (slugs(without.articles), without.drafts_left_out, problems) == (["a"], 1, [])
    including, _ = collect(results, drafts=True)
    assert slugs(including.articles) == ["a", "b"]


def test_date_archives_count_per_year_and_month():
    built = archive_of({
        "a": article("A", "2024-12-31"), "b": article("B", "2025-01-01"), "c": article("C", "2025-01-20"),
        "d": article("D", "2025-03-02"),
    })
    assert [(y.year, y.count, [(m.month, m.count) for m in y.months]) for y in built.years] == [
        (2025, 3, [(3, 1), (1, 2)]), (2024, 1, [(12, 1)])]


def test_pagination_numbers_pages_from_the_oldest_and_the_newest_page_takes_the_rest():
    pages = paginate(tuple("abcde"), 2, Urls("/").home())  # newest first
    assert [(p.number, p.items, p.url, p.previous, p.next) for p in pages] == [
        (2, ("a", "b", "c"), "/", "", "/page/1/"), (1, ("d", "e"), "/page/1/", "/", "")]
    assert [p.latest for p in pages] == [True, False] and all(p.paged for p in pages)
    assert [p.item_count for p in pages] == [5, None]  # the count on the newest page alone
    only = paginate((), 2, "/topics/x/")
    assert len(only) == 1 and only[0].items == () and not only[0].paged  # an empty listing still has its page
    assert paginate(tuple("abc"), 2, "/")[0].items == tuple("abc") and len(paginate(tuple("abc"), 2, "/")) == 1


def test_an_added_article_changes_the_newest_page_alone():
    """What the incremental build relies on: every older page stays equal, field for field."""
    for count in range(1, 60):
        before = {p.url: p for p in paginate(tuple(range(count, 0, -1)), 5, "/")}
        after = {p.url: p for p in paginate(tuple(range(count + 1, 0, -1)), 5, "/")}
        changed = {url for url, page in after.items() if before.get(url) != page}
        # The newest page always; when it fills, one new numbered page, and the few whose
        # "Latest" neighbour moved (window() shows two pages either side).
        assert "/" in changed and len(changed) <= (1 if (count + 1) % 5 else 5), (count, sorted(changed))
        assert set(before) <= set(after)  # no page goes away


def test_pagination_window_links_the_newest_two_either_side_and_the_oldest():
    pages = {p.number: p for p in paginate(tuple(range(100)), 10, "/x/")}  # pages 10 (newest) … 1
    assert pages[10].window() == [("Latest", "/x/"), ("9", "/x/page/9/"), ("8", "/x/page/8/"), ("", ""),
                                  ("1", "/x/page/1/")]
    assert pages[5].window() == [("Latest", "/x/"), ("", ""), ("7", "/x/page/7/"), ("6", "/x/page/6/"),
                                 ("5", "/x/page/5/"), ("4", "/x/page/4/"), ("3", "/x/page/3/"), ("", ""),
                                 ("1", "/x/page/1/")]
    assert pages[7].window()[:2] == [("Latest", "/x/"), ("9", "/x/page/9/")]  # no gap before a neighbour
    assert pages[9].previous == "/x/" and pages[2].window()[-2:] == [("2", "/x/page/2/"), ("1", "/x/page/1/")]


# -- Through the CLI: what reaches the pages ---------------------------------------------------

def page(out, url: str) -> str:
    return (out / url.strip("/") / "index.html").read_text(encoding="utf-8")


def test_time_elements_carry_the_offset(make_site):
    site = make_site({
        "site.toml": 'timezone = "Asia/Tokyo"\n',
        "content/a.md": article("Timed", "2025-06-13T09:30:00"),
        "content/b.md": article("Dated", "2025-06-14"),
    })
    run_cli("build", "--site", str(site), "--no-search", check=True)
    assert '<time datetime="2025-06-13T09:30:00+09:00">' in page(site / "output", "2025/06/a")
    assert '<time datetime="2025-06-14T00:00:00+09:00">' in page(site / "output", "2025/06/b")


def test_front_matter_is_escaped_in_pages_and_body_html_only_when_allowed(make_site):
    files = {"content/a.md": article('"<b>Bold</b> & <i>claims</i>"', "2025-06-13",
                                     summary='"<script>x()</script>"', body="Text <em>raw</em>.")}
    site = make_site(files)
    run_cli("build", "--site", str(site), "--no-search", check=True)
    html = page(site / "output", "2025/06/a")
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;i&gt;claims&lt;/i&gt;" in html
    assert "<script>x()" not in html and "Text &lt;em&gt;raw&lt;/em&gt;." in html
    allowed = make_site({**files, "site.toml": "allow_html = true\n"}, name="allowed")
    run_cli("build", "--site", str(allowed), "--no-search", check=True)
    html = page(allowed / "output", "2025/06/a")
    assert "Text <em>raw</em>." in html and "<b>Bold</b>" not in html  # the title stays escaped


def test_unknown_front_matter_keys_reach_templates_as_extra(make_site):
    site = make_site({
        "content/a.md": article("A", "2025-06-13", mood="hopeful & calm"),
        "templates/article.html": """
            {% extends "base.html" %}
            {% block main %}<h1>{{ article.title }}</h1><p class="mood">{{ article.extra.mood }}</p>{% endblock %}
        """,
    })
    run_cli("build", "--site", str(site), "--no-search", check=True)
    assert '<p class="mood">hopeful &amp; calm</p>' in page(site / "output", "2025/06/a")


def test_site_templates_override_the_default_theme(make_site):
    site = make_site({
        "content/a.md": article("A", "2025-06-13"),
        "templates/404.html": '{% extends "base.html" %}{% block main %}<h1>Lost in the archive</h1>{% endblock %}',
        "templates/static/style.css": "body { color: rebeccapurple; }\n",
    })
    run_cli("build", "--site", str(site), "--no-search", check=True)
    out = site / "output"
    assert "<h1>Lost in the archive</h1>" in (out / "404.html").read_text()
    assert '<a class="skip-link"' in (out / "404.html").read_text()  # still the theme's base.html
    assert re.search(r"<h1[^>]*>A</h1>", page(out, "2025/06/a"))  # the theme's article.html
    assert (out / "static/style.css").read_text() == "body { color: rebeccapurple; }\n"


def test_a_sites_own_header_shows_on_every_page_and_sees_what_base_gives_it(make_site):
    # The header is a part, rendered once per distinct value set and reused (docs/templates.md#parts):
    # a site's own must be what every page shows, each with its own page kind.
    site = make_site({
        "site.toml": 'title = "Own"\n',
        "content/a.md": article("Alpha", "2025-06-13", countries="[Japan]", topics="[Trade]"),
        "content/b.md": article("Beta", "2025-06-14", countries="[Japan]"),
        "templates/_header.html": '<header class="mine">{{ site.title }} {{ kind }} [{{ term_kind }}] [{{ here }}]</header>\n',
    })
    run_cli("build", "--site", str(site), "--no-search", check=True)
    out = site / "output"
    framed = [path for path in out.rglob("*.html") if 'class="skip-link"' in path.read_text()]
    assert len(framed) > 10
    for path in framed:
        html = path.read_text()
        assert html.count('<header class="mine">Own ') == 1 and 'class="site-header"' not in html, path
    assert '<header class="mine">Own article [] []</header>' in page(out, "2025/06/a")
    assert '<header class="mine">Own home [] [/]</header>' in page(out, "")
    assert '<header class="mine">Own terms [topic] [/topics/]</header>' in page(out, "topics")
    assert '<header class="mine">Own term [country] []</header>' in page(out, "countries/japan")
    assert '<header class="mine">Own month [] []</header>' in page(out, "2025/06")
    # A part never sees the page: reading it is an error at the part's line, not one page's value on all.
    (site / "templates/_header.html").write_text('<header>\n{{ page.title }}</header>\n')
    result = run_cli("build", "--site", str(site), "--no-search")
    assert result.returncode != 0
    assert "templates/_header.html:2:" in result.stdout + result.stderr


def test_fragment_templates_are_overridable_and_their_errors_name_the_file(make_site):
    site = make_site({
        "content/a.md": article("Alpha", "2025-06-13", countries="[Japan]"),
        "content/b.md": article("Beta", "2025-06-14", countries="[Japan]", related="[a]"),
        "templates/_story.html": '<li class="mine">{{ article.title }} h{{ args[0] }}</li>',
        "templates/_headline.html": '<b class="mine">{{ article.title }}</b>',
    })
    run_cli("build", "--site", str(site), "--no-search", check=True)
    out = site / "output"
    for listing in (page(out, ""), page(out, "countries/japan"), page(out, "2025/06")):
        assert '<li class="mine">Alpha h2</li>' in listing and '<li class="mine">Beta h2</li>' in listing
    assert '<b class="mine">Alpha</b>' in page(out, "2025/06/b")  # b's Related
    assert '<b class="mine">Beta</b>' in page(out, "2025/06/a")  # a's Referenced by
    (site / "templates/_headline.html").write_text('<b>\n{{ article.no_such_field }}</b>')
    result = run_cli("build", "--site", str(site), "--no-search")
    assert result.returncode != 0
    assert "templates/_headline.html:2:" in result.stdout + result.stderr
    assert '<b class="mine">Alpha</b>' in page(out, "2025/06/b")  # the failed build changed nothing


def test_drafts_are_built_only_with_the_drafts_option(make_site):
    site = make_site({"content/a.md": article("A", "2025-06-13"),
                      "content/b.md": article("Draft B", "2025-06-14", draft="true")})
    run_cli("build", "--site", str(site), "--no-search", check=True)
    assert not (site / "output/2025/06/b").exists() and "Draft B" not in page(site / "output", "")
    run_cli("build", "--site", str(site), "--no-search", "--drafts", check=True)
    assert "Draft B" in page(site / "output", "2025/06/b")


def test_home_pages_with_page_size_three(make_site):
    site = make_site({"site.toml": "page_size = 3\n",
                      **{f"content/a{n}.md": article(f"Article {n}", f"2025-06-0{n}") for n in range(1, 8)}})
    run_cli("build", "--site", str(site), "--no-search", check=True)
    out = site / "output"
    assert (out / "page/1/index.html").is_file() and not (out / "page/2").exists()
    titles = {url: re.findall(r">(Article \d)</a></h2>", page(out, url)) for url in ("", "page/1")}
    assert titles == {"": ["Article 7", "Article 6", "Article 5", "Article 4"],
                      "page/1": ["Article 3", "Article 2", "Article 1"]}
    assert 'rel="next" href="/page/1/"' in page(out, "") and 'rel="prev"' not in page(out, "")
    assert 'rel="prev" href="/"' in page(out, "page/1") and 'rel="next"' not in page(out, "page/1")
    assert "7 articles in the archive" in page(out, "") and "in the archive" not in page(out, "page/1")
    older = (out / "page/1/index.html").read_bytes()
    (site / "content/a8.md").write_text(article("Article 8", "2025-06-08"), encoding="utf-8")
    run_cli("build", "--site", str(site), "--no-search", check=True)
    assert (out / "page/1/index.html").read_bytes() == older  # an addition leaves the older page as it was
    (site / "content/a9.md").write_text(article("Article 9", "2025-06-09"), encoding="utf-8")
    run_cli("build", "--site", str(site), "--no-search", check=True)
    assert re.findall(r">(Article \d)</a></h2>", page(out, "page/2")) == ["Article 6", "Article 5", "Article 4"]
    assert re.findall(r">(Article \d)</a></h2>", page(out, "")) == ["Article 9", "Article 8", "Article 7"]
    assert 'rel="next" href="/page/2/"' in page(out, "") and 'rel="prev" href="/page/2/"' in page(out, "page/1")
