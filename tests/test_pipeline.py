"""The pipeline's parts on their own: the typed state survives the cache, imports point
one way, URLs, what makes an edit patchable, the code in every cache key, and check
reporting exactly what build reports."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import typing
from pathlib import Path

import pytest

from builder import model, state
from builder.cache import Cache
from builder.countries import country_index
from builder.hosting import Measure
from builder.incremental import planning_difference
from builder.model import Article, Image, RelatedItem, SourceLink
from builder.state import BuildState, Counts, OutputListing, SearchIndexState, Sections, TemplateFacts
from builder.topics import free_topic
from builder.urls import Urls
from conftest import REPO, article, run_cli, write_files

# -- typed state --------------------------------------------------------------------------------


def full_state() -> BuildState:
    """A state with every field set to something other than its default."""
    return BuildState(
        inputs="inputs-hash", signature="signature-hash",
        output=OutputListing(files=frozenset({"index.html", "2025/06/a/index.html"}),
                             folders=(("", 11), ("2025/", 12), ("2025/06/", 13)),
                             measure=Measure(9_000, 3, "2025/06/a/", 1, "index.html", 5_000)),
        templates=TemplateFacts("templates-hash", frozenset({"home.html"}), frozenset({"article.html"})),
        topics=(free_topic("Trade"), free_topic("Oil and Gas")),
        counts=Counts(articles=3, pages=20, drafts_left_out=1, scheduled=2),
        search_index=SearchIndexState((("2024", ""), ("2025-q3", "shard-key"))), next_due="2026-12-24T09:00:00+00:00",
        changes_at="2026-12-03T09:00:00+00:00", sections=Sections(authors=True, stories=True, corrections=True))


def assert_no_defaults(value, where="state") -> None:
    """Every field of every dataclass in ``value`` differs from its default (so a round trip
    that dropped or reset a field would be seen)."""
    for item in dataclasses.fields(value):
        got = getattr(value, item.name)
        if item.default is not dataclasses.MISSING:
            assert got != item.default, f"{where}.{item.name} is its default"
        if dataclasses.is_dataclass(got):
            assert_no_defaults(got, f"{where}.{item.name}")


def test_the_state_round_trips_through_the_cache_with_every_field(tmp_path):
    saved = full_state()
    assert_no_defaults(saved)
    Cache(folder=tmp_path, key="k").save_state(saved)
    loaded = Cache.open(tmp_path, "k").state
    assert loaded == saved
    for item in dataclasses.fields(BuildState):
        assert getattr(loaded, item.name) == getattr(saved, item.name), item.name


def test_a_state_of_another_format_or_key_is_discarded_with_a_note(tmp_path, monkeypatch):
    Cache(folder=tmp_path, key="k").save_state(full_state())
    other = Cache.open(tmp_path, "other-key")
    assert other.state is None and other.notes == ["cache made by other code or other settings: rebuilding it"]
    Cache(folder=tmp_path, key="k").save_state(full_state())
    monkeypatch.setattr("builder.cache.FORMAT", state.FORMAT + 1)
    assert Cache.open(tmp_path, "k").state is None


def test_every_state_type_is_frozen_and_documented():
    for cls in (BuildState, OutputListing, TemplateFacts, Counts, Sections):
        assert cls.__dataclass_params__.frozen, cls
        source = Path(state.__file__).read_text()
        for item in dataclasses.fields(cls):  # a comment beside every field
            line = next(line for line in source.splitlines() if line.strip().startswith(f"{item.name}:"))
            assert "#" in line, f"{cls.__name__}.{item.name} has no comment"


# -- imports point one way -----------------------------------------------------------------------

def imports_of_every_module() -> dict[str, set[str]]:
    """builder module -> the builder modules it imports (anywhere in it, functions included)."""
    package = REPO / "builder"
    modules = {f"builder.{path.stem}" for path in package.glob("*.py")}
    graph = {}
    for path in package.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("builder"):
                names = [f"builder.{a.name}" for a in node.names] if node.module == "builder" else [node.module]
                found.update(n for n in names if n in modules)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in modules)
        graph[f"builder.{path.stem}"] = found - {f"builder.{path.stem}"}
    return graph


def test_no_module_of_the_package_imports_itself_back():
    graph = imports_of_every_module()

    def reaches(start: str, target: str, seen: set) -> bool:
        for next_module in graph[start]:
            if next_module == target or (next_module not in seen and reaches(next_module, target, seen | {next_module})):
                return True
        return False

    cycles = sorted(module for module in graph if reaches(module, module, {module}))
    assert cycles == []


def test_the_model_knows_nothing_of_storage_or_stages():
    graph = imports_of_every_module()
    for module in ("builder.model", "builder.records", "builder.countries", "builder.topics", "builder.urls"):
        assert not graph[module] & {"builder.cache", "builder.bodies", "builder.build", "builder.pipeline",
                                    "builder.produce", "builder.search", "builder.templates", "builder.helpers",
                                    "builder.pictures", "builder.template_analysis", "builder.template_problems",
                                    "builder.theme_files"}, module
    assert "builder.model" in graph["builder.cache"]


# -- URLs ----------------------------------------------------------------------------------------

def an_article(**fields) -> Article:
    values = dict(path="content/a.md", slug="a", title="A", date=dt.datetime(2025, 6, 13, tzinfo=dt.timezone.utc),
                  date_only=True, updated=None, summary="S", countries=(), topics=(), related=(), source=None,
                  authors=(), image=None, draft=False, extra={}, body_digest="b1", card="c1")
    values.update(fields)
    return Article(**values)


@pytest.mark.parametrize("base, origin", [("/", ""), ("/archive/", "https://user.github.io")])
def test_urls_of_every_page_kind(base, origin):
    urls = Urls(base, origin)
    japan = country_index().resolve("Japan")
    trade = free_topic("Oil and Gas")
    expected = {
        urls.home(): "", urls.home(2): "page/2/", urls.article(an_article()): "2025/06/a/",
        urls.term(japan): "countries/japan/", urls.term(trade, 3): "topics/oil-and-gas/page/3/",
        urls.term_feed(japan): "countries/japan/feed.xml", urls.countries(): "countries/",
        urls.topics(): "topics/", urls.archive(): "archive/", urls.year(2025): "2025/",
        urls.month(2025, 6): "2025/06/", urls.search(): "search/", urls.search_bundle("x.js"): "pagefind/x.js",
        urls.feed("json"): "feed.json", urls.sitemap(): "sitemap.xml", urls.sitemap(2): "sitemap-2.xml",
        urls.robots(): "robots.txt", urls.not_found(): "404.html", urls.asset("style.css", "ab"): "static/style.css?v=ab",
    }
    for url, relative in expected.items():
        assert url == base + relative
    assert urls.output_path(urls.home()) == "index.html"
    assert urls.output_path(urls.term(trade, 3)) == "topics/oil-and-gas/page/3/index.html"
    assert urls.output_path(urls.feed()) == "feed.xml"
    assert urls.output_path(urls.asset("style.css", "ab")) == "static/style.css"
    assert Urls.paged(urls.home(), 1) == base + "page/1/" and Urls.paged(urls.home(), 4) == base + "page/4/"
    assert urls.absolute(urls.year(2025)) == origin + base + "2025/"
    assert urls.absolute("https://example.org/x") == "https://example.org/x"
    assert urls.link("/2025/06/b/") == base.rstrip("/") + "/2025/06/b/"
    assert urls.link(base + "2025/") == base + "2025/"  # already under the base path
    assert urls.link("//cdn.example.org/x") == "//cdn.example.org/x"
    assert urls.link("https://example.org/") == "https://example.org/"


# -- what makes an edit patchable ----------------------------------------------------------------

@pytest.mark.parametrize("change, difference", [
    ({"title": "Another"}, ""),
    ({"summary": "Another"}, ""),
    ({"source": SourceLink("Wire", "https://example.org")}, ""),
    ({"body_digest": "b2", "card": "c2"}, ""),
    ({"related": (RelatedItem(slug="b", line=9),)}, "related"),
    ({"date": dt.datetime(2025, 6, 14, tzinfo=dt.timezone.utc)}, "date"),
    ({"slug": "b"}, "slug"),
    ({"draft": True}, "draft"),
    ({"authors": ("A. Reporter",)}, "authors"),
    ({"image": Image("/a.jpg", "A")}, "image"),
    ({"extra": {"desk": "Sports"}}, "extra"),
    ({"topics": (free_topic("Trade"),)}, "topics"),
])
def test_only_shown_only_fields_may_differ_in_a_patch(change, difference):
    assert planning_difference(an_article(), an_article(**change)) == difference


def test_related_lines_alone_do_not_make_an_edit_unpatchable():
    moved = an_article(related=(RelatedItem(slug="b", line=12),))
    assert planning_difference(an_article(related=(RelatedItem(slug="b", line=9),)), moved) == ""


def test_a_field_added_later_is_a_planning_field_until_declared_shown_only():
    """The guard allows, it does not forbid: a made-up field (say, the desk that files an
    article, which a new page kind would list) refuses the patch without anyone listing it."""
    with_desk = dataclasses.make_dataclass("Article", [("desk", str, dataclasses.field(default=""))],
                                           bases=(Article,), frozen=True)
    base = dataclasses.asdict(an_article())
    base["countries"], base["topics"], base["related"] = (), (), ()
    sports, politics = with_desk(**base, desk="Sports"), with_desk(**base, desk="Politics")
    assert planning_difference(sports, politics) == "desk"
    assert planning_difference(sports, dataclasses.replace(sports, title="Retitled")) == ""
    assert "desk" not in model.SHOWN_ONLY


def test_a_new_front_matter_key_that_a_template_plans_from_takes_the_whole_build(make_site):
    """End to end: a key the schema does not know (article.extra) changes where the article is
    listed in a site's template; the edit is not patched, and the page shows the new value."""
    site = make_site({
        "content/a.md": article("Alpha", desk="Sports"),
        "content/b.md": article("Beta", "2025-06-14"),
        "templates/_story.html": '<li>{{ article.title }} ({{ article.extra.desk | default("none") }})</li>\n',
    })
    run_cli("build", "--no-search", "--site", str(site), check=True)
    (site / "content/a.md").write_text(article("Alpha", desk="Politics"))
    result = run_cli("build", "-v", "--no-search", "--site", str(site), check=True)
    assert "whole site rebuilt: the archive's shape changed (extra of content/a.md)" in result.stderr
    assert "Alpha (Politics)" in (site / "output/index.html").read_text()


# -- the code in every key -----------------------------------------------------------------------

def test_a_code_or_library_change_never_reuses_the_cache(make_site, monkeypatch):
    import builder.code
    site = make_site({"content/a.md": article("Alpha")})
    run_cli("build", "--no-search", "--site", str(site), check=True)
    assert "(0 rendered, 0 written" in run_cli("build", "--no-search", "--site", str(site), check=True).stdout
    builder.code.code_fingerprint.cache_clear()
    monkeypatch.setattr(builder.code, "library_versions", lambda: (("markdown-it-py", "99.0"),))
    try:
        result = run_cli("build", "--no-search", "--site", str(site), check=True)
        assert "cache made by other code or other settings" in result.stderr
        assert "(0 rendered," not in result.stdout
    finally:
        builder.code.code_fingerprint.cache_clear()


def test_library_versions_are_the_ones_importlib_metadata_finds(tmp_path, monkeypatch):
    import sys
    from importlib import metadata
    from builder import code
    assert code.library_versions() == tuple((name, metadata.version(name)) for name in code.OUTPUT_LIBRARIES)
    # A folder earlier on sys.path wins, as with importlib.metadata; names are normalized.
    shadow = tmp_path / "shadow"
    for folder in ("Markdown_It_Py-99.1.dist-info", "PyYAML-7.0-py3.11.egg-info", "jinja2_extras-1.0.dist-info"):
        (shadow / folder).mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(shadow), *sys.path])
    found = dict(code.library_versions())
    assert (found["markdown-it-py"], found["pyyaml"], found["jinja2"]) == ("99.1", "7.0", metadata.version("jinja2"))
    assert found == {name: metadata.version(name) for name in code.OUTPUT_LIBRARIES} | {
        "markdown-it-py": "99.1", "pyyaml": "7.0"}
    monkeypatch.setattr(sys, "path", [str(tmp_path / "none")])
    assert dict(code.library_versions()) == {name: "" for name in code.OUTPUT_LIBRARIES}  # not installed


# -- check is build without writing --------------------------------------------------------------

CHECK_SITES = {
    "template error": {"content/a.md": article("Alpha"), "templates/article.html": "{{ article.nope }}\n"},
    "index check": {"content/a.md": article("Alpha"),
                    "templates/article.html": '{% extends "base.html" %}{% block main %}<article data-pagefind-body>'
                                              '{{ article.title }}</article>{% endblock %}\n'},
    "bad related": {"content/a.md": article("Alpha", related="[nowhere]")},
    "good": {"content/a.md": article("Alpha", countries="[Japan]"), "content/b.md": article("Beta", "2025-06-14")},
}


@pytest.mark.parametrize("name", sorted(CHECK_SITES))
def test_check_reports_exactly_what_build_reports(tmp_path, name):
    site = write_files(tmp_path / "site", CHECK_SITES[name])
    checked = run_cli("check", "--site", str(site))
    assert not (site / "output").exists()
    built = run_cli("build", "--site", str(site))
    strip = lambda text: [line for line in text.splitlines() if not line.startswith("  ")]  # noqa: E731
    assert checked.returncode == built.returncode
    if built.returncode:
        assert strip(checked.stderr) == strip(built.stderr)
    else:
        assert checked.stdout.startswith("ok: 2 articles, ")


def test_type_hints_of_the_model_resolve():
    for cls in (Article, RelatedItem, SourceLink, Image, BuildState):
        typing.get_type_hints(cls, vars(model) | vars(state) | {"dt": dt})


def test_what_a_build_made_leaves_the_collector_paused_in_the_old_generation_and_cycles_still_go():
    """After a build the collector runs again without first scanning everything the build
    made (builder.workers.collector_paused), and a cycle made during the build is still
    collected by the next full collection."""
    import gc
    import weakref

    from builder.workers import collector_paused

    class Node:
        pass

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        made = [[index] for index in range(5000)]
        cycle = Node()
        cycle.itself = cycle
        gone = weakref.ref(cycle)
        del cycle
    assert gc.isenabled()
    young = {id(item) for item in gc.get_objects(generation=0)}
    assert not any(id(item) in young for item in made)
    assert any(item is made[0] for item in gc.get_objects(generation=2))
    assert gone() is not None  # nothing was collected on the way out
    gc.collect()
    assert gone() is None
