"""Sites that must fail: each bad input gives its exact ``path:line: message`` on stderr,
exit code 1, and leaves the previously built ``output/`` exactly as it was.

Each case is a small dict (Zola's ``test_sites_invalid`` idea): the files that break a
good site (``None`` deletes a file) and the problem lines the build must print, in order.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import article, messages, run_cli, write_files

GOOD_SITE = {
    "site.toml": """
        title = "Test Archive"
        page_size = 5
    """,
    "content/2025/a.md": article("Alpha", "2025-06-13", countries="[Japan]", topics="[Trade]"),
    "content/2025/b.md": article("Beta", "2025-06-14", countries="[US]", related="[a]"),
    # c.md is what most cases break: no other article points at it, so the
    # expected output is only the problem the case is about.
    "content/2025/c.md": article("Gamma", "2025-06-15", topics="[Trade]"),
}

C = "content/2025/c.md"
DATE_HELP = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS with an optional offset"

INVALID_SITES = [
    {
        "id": "malformed-yaml",
        "files": {C: "---\ntitle: Gamma\ndate: 2025-06-15\ncountries: [Japan\ntopics: [Trade]\n---\nBody.\n"},
        "problems": [f"{C}:5: invalid YAML in front matter: did not find expected ',' or ']'"],
    },
    {
        "id": "malformed-yaml-colon-in-value",
        "files": {C: "---\ndate: 2025-06-15\ntitle: Gamma: the sequel\n---\nBody.\n"},
        "problems": [f"{C}:3: invalid YAML in front matter: mapping values are not allowed in this context"],
    },
    {
        "id": "unclosed-front-matter",
        "files": {C: "---\ntitle: Gamma\ndate: 2025-06-15\n\nBody.\n"},
        "problems": [f"{C}:1: front matter opened with '---' is never closed with a '---' line"],
    },
    {
        "id": "no-front-matter",
        "files": {C: "# Gamma\n\nBody.\n"},
        "problems": [f"{C}:1: no front matter: an article starts with a '---' line, then YAML "
                     "(title, date, …), then '---'"],
    },
    {
        "id": "missing-title",
        "files": {C: "---\ndate: 2025-06-15\n---\nBody.\n"},
        "problems": [f"{C}:1: missing 'title'"],
    },
    {
        "id": "empty-title",
        "files": {C: "---\ndate: 2025-06-15\ntitle:\n---\nBody.\n"},
        "problems": [f"{C}:3: missing 'title'"],
    },
    {
        "id": "missing-date",
        "files": {C: "---\ntitle: Gamma\n---\nBody.\n"},
        "problems": [f"{C}:1: missing 'date' (such as date: 2025-06-13)"],
    },
    {
        "id": "invalid-date-month-13",
        "files": {C: article("Gamma", "2025-13-45")},
        "problems": [f"{C}:3: invalid date '2025-13-45': {DATE_HELP}"],
    },
    {
        "id": "invalid-datetime",
        "files": {C: article("Gamma", "2025-02-30T10:00:00")},
        "problems": [f"{C}:3: invalid date '2025-02-30T10:00:00': {DATE_HELP}"],
    },
    {
        "id": "invalid-date-word",
        "files": {C: article("Gamma", "yesterday")},
        "problems": [f"{C}:3: invalid date 'yesterday': {DATE_HELP}"],
    },
    {
        "id": "invalid-updated",
        "files": {C: article("Gamma", "2025-06-15", updated="2025-06-31")},
        "problems": [f"{C}:4: invalid updated '2025-06-31': {DATE_HELP}"],
    },
    {
        "id": "non-utf8",
        "files": {C: b"---\ntitle: Caf\xe9 news\ndate: 2025-06-15\n---\nBody.\n"},
        "problems": [f"{C}:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8"],
    },
    {
        "id": "empty-file",
        "files": {C: b""},
        "problems": [f"{C}:1: file is empty; an article needs front matter with a title and a date"],
    },
    {
        "id": "blank-file",
        "files": {C: b"\n  \n\n"},
        "problems": [f"{C}:1: file is empty; an article needs front matter with a title and a date"],
    },
    {
        "id": "duplicate-slugs",
        "files": {"content/2024/other-name.md": article("Delta", "2024-01-02", slug="c")},
        "problems": ["content/2024/other-name.md: duplicate slug 'c': also used by content/2025/c.md",
                     "content/2025/c.md: duplicate slug 'c': also used by content/2024/other-name.md"],
    },
    {
        "id": "invalid-slug",
        "files": {C: article("Gamma", "2025-06-15", slug="Gamma Story")},
        "problems": [f"{C}:4: invalid slug 'Gamma Story': use lowercase letters, digits and hyphens "
                     "(such as 'gamma-story')"],
    },
    {
        "id": "unknown-country",
        "files": {C: article("Gamma", "2025-06-15", countries="[Japan, Germny]")},
        "problems": [f"{C}:4: unknown country 'Germny' (closest: Germany, Guernsey); add a spelling "
                     "under [countries.aliases] in site.toml if it is right"],
    },
    {
        "id": "unknown-topic-in-vocabulary",
        "files": {
            "site.toml": """
                title = "Test Archive"
                [topics.vocabulary]
                Trade = ["commerce", "trade policy"]
                Economy = []
            """,
            C: article("Gamma", "2025-06-15", topics="[commerce, Ecnomy]"),
        },
        "problems": [f"{C}:4: unknown topic 'Ecnomy' (closest: Economy); the site's vocabulary "
                     "is [topics.vocabulary] in site.toml"],
    },
    {
        "id": "unknown-related-slug",
        "files": {C: "---\ntitle: Gamma\ndate: 2025-06-15\nrelated:\n  - a\n  - no-such-story\n---\nBody.\n"},
        "problems": [f"{C}:6: related slug 'no-such-story' matches no article in the archive"],
    },
    {
        "id": "related-to-itself",
        "files": {C: article("Gamma", "2025-06-15", related="[c]")},
        "problems": [f"{C}:4: an article cannot be related to itself"],
    },
    {
        "id": "typo-key",
        "files": {C: article("Gamma", "2025-06-15", countires="[Japan]")},
        "problems": [f"{C}:4: unknown key 'countires': did you mean 'countries'? "
                     "(rename it, or pick a name further from the schema's keys)"],
    },
    {
        "id": "image-without-alt",
        "files": {C: article("Gamma", "2025-06-15", image="{src: /images/x.jpg}")},
        "problems": [f"{C}:4: 'image' needs 'alt' text describing the picture (alt: \"\" for a decorative one)"],
    },
    {
        "id": "image-missing-beside-the-article",
        "files": {C: article("Gamma", "2025-06-15", image="{src: images/x.jpg, alt: A map}")},
        "problems": [f"{C}:4: image content/2025/images/x.jpg: no such picture file"],
    },
    {
        "id": "template-syntax-error",
        "files": {"templates/article.html": """
            {% extends "base.html" %}
            {% block main %}
            <h1>{{ article.title }</h1>
            {% endblock %}
        """},
        "problems": ["templates/article.html:3: template syntax error: unexpected '}'"],
    },
    {
        "id": "template-unclosed-block",
        "files": {"templates/home.html": """
            {% extends "base.html" %}
            {% block main %}
            {% if pagination.items %}
            <p>x</p>
            {% endblock %}
        """},
        "problems": ["templates/home.html:5: template syntax error: Encountered unknown tag 'endblock'. "
                     "You probably made a nesting mistake. Jinja is expecting this tag, but currently "
                     "looking for 'elif' or 'else' or 'endif'. The innermost block that needs to be "
                     "closed is 'if'."],
    },
    {
        "id": "template-runtime-error",
        "files": {"templates/article.html": """
            {% extends "base.html" %}
            {% block main %}
            <h1>{{ article.title }}</h1>
            <p>{{ article.no_such_field }}</p>
            {% endblock %}
        """},
        # Three articles break on the same line: one problem, not three.
        "problems": ["templates/article.html:4: template error while rendering /2025/06/c/: "
                     "UndefinedError: Article has no attribute 'no_such_field'"],
    },
    {
        "id": "template-runtime-error-in-imported-macro",
        "files": {"templates/_article_list.html": """
            {% macro article_list(articles, heading_level=2, lead=False) %}
            {% for article in articles %}
            <p>{{ article.headline }}</p>
            {% endfor %}
            {% endmacro %}
            {% macro pagination_nav(pagination) %}{% endmacro %}
            {% macro term_link(term, flag=False) %}{% endmacro %}
            {% macro term_links(terms, flag=False) %}{% endmacro %}
            {% macro dateline(article, date_only=None) %}{% endmacro %}
            {% macro page_of(pagination) %}{% endmacro %}
        """},
        "problems": ["templates/_article_list.html:3: template error while rendering /: "
                     "UndefinedError: Article has no attribute 'headline'"],
    },
    {
        "id": "template-unknown-filter",
        "files": {"templates/term.html": """
            {% extends "base.html" %}
            {% block main %}
            <h1>{{ term.name | shout }}</h1>
            {% endblock %}
        """},
        "problems": ["templates/term.html:3: template syntax error: No filter named 'shout'."],
    },
    {
        "id": "site-toml-unknown-key",
        "files": {"site.toml": 'title = "Test Archive"\npage_sise = 5\n'},
        "problems": ["site.toml:2: unknown key 'page_sise' (did you mean 'page_size'?)"],
    },
    {
        "id": "site-toml-unknown-key-in-table",
        "files": {"site.toml": 'title = "Test Archive"\n\n[search]\nenabeld = false\n'},
        "problems": ["site.toml:4: unknown key 'search.enabeld' (did you mean 'enabled'?)"],
    },
    {
        "id": "site-toml-wrong-type",
        "files": {"site.toml": 'title = "Test Archive"\npage_size = "five"\nallow_html = "yes"\n'},
        "problems": ["site.toml:2: 'page_size' must be an integer, not str 'five'",
                     "site.toml:3: 'allow_html' must be true or false, not str 'yes'"],
    },
    {
        "id": "site-toml-wrong-type-in-table",
        # 'language' is also a top-level key: the line must be the one in [search].
        "files": {"site.toml": 'language = "en"\n\n[search]\nlanguage = 3\n'},
        "problems": ["site.toml:4: 'search.language' must be a string, not int 3"],
    },
    {
        "id": "site-toml-invalid-toml",
        "files": {"site.toml": 'title = "Test Archive"\npage_size = \n'},
        "problems": ["site.toml:2: invalid TOML: Invalid value (at line 2, column 13)"],
    },
    {
        "id": "site-toml-unknown-time-zone",
        "files": {"site.toml": 'title = "Test Archive"\ntimezone = "Mars/Olympus"\n'},
        "problems": ["site.toml:2: unknown time zone 'Mars/Olympus' (use an IANA name such as "
                     "'Asia/Tokyo' or 'UTC')"],
    },
    {
        "id": "site-toml-alias-to-unknown-country",
        "files": {"site.toml": 'title = "Test Archive"\n\n[countries]\naliases = {Nippon = "Narnia"}\n'},
        "problems": ["site.toml:4: country alias 'Nippon' points to unknown country 'Narnia' "
                     "(closest: Armenia, Argentina, Anguilla)"],
    },
    {
        "id": "site-toml-alias-table-to-unknown-country",
        "files": {"site.toml": 'title = "Test Archive"\n\n[countries.aliases]\n"Nihon" = "JP"\n"Nippon" = "Japn"\n'},
        "problems": ["site.toml:5: country alias 'Nippon' points to unknown country 'Japn' "
                     "(closest: Japan, Pitcairn, Jordan)"],
    },
    {
        "id": "several-problems-in-several-files",
        "files": {
            "content/2025/a.md": article("Alpha", "yesterday", countries="[Narnia]"),
            "content/2025/b.md": "---\ndate: 2025-06-14\nrelated: [zzz]\n---\nBody.\n",
            C: b"\xff\xfe",
            "content/2026/d.md": article("Delta", "2026-01-01", topics="Trade", countires="[UK]"),
            "templates/home.html": "{% if %}\n",
        },
        "problems": [
            f"content/2025/a.md:3: invalid date 'yesterday': {DATE_HELP}",
            "content/2025/a.md:4: unknown country 'Narnia' (closest: Armenia, Argentina, Anguilla); "
            "add a spelling under [countries.aliases] in site.toml if it is right",
            "content/2025/b.md:1: missing 'title'",
            f"{C}:1: not valid UTF-8 (byte 0xff); save the file as UTF-8",
            "content/2026/d.md:5: unknown key 'countires': did you mean 'countries'? "
            "(rename it, or pick a name further from the schema's keys)",
            "templates/home.html:1: template syntax error: Expected an expression, got 'end of statement block'",
        ],
    },
]

def apply(site: Path, files: dict) -> None:
    for name, data in files.items():
        if data is None:
            (site / name).unlink()
    write_files(site, {name: data for name, data in files.items() if data is not None})


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: bytes, mtime_ns and inode of files; folders by name."""
    state: dict[str, tuple] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        relative = path.relative_to(folder).as_posix()
        if path.is_file():
            state[relative] = ("file", path.read_bytes(), info.st_mtime_ns, info.st_ino)
        else:
            state[relative] = ("folder",)
    return state


def expected_stderr(problems: list[str]) -> list[str]:
    count = len(problems)
    return problems + [f"error: {count} problem{'s' if count != 1 else ''} found; nothing was written"]


@pytest.fixture(scope="session")
def built_good_site(tmp_path_factory) -> Path:
    """The good site, built once by the real CLI."""
    site = write_files(tmp_path_factory.mktemp("good") / "site", GOOD_SITE)
    run_cli("build", "--site", str(site), check=True)
    return site


@pytest.fixture
def built_site(built_good_site, tmp_path) -> Path:
    """A private copy of the built good site (output/ included, modification times kept)."""
    return Path(shutil.copytree(built_good_site, tmp_path / "site"))


@pytest.mark.parametrize("case", INVALID_SITES, ids=[c["id"] for c in INVALID_SITES])
def test_invalid_site_fails_with_its_message_and_keeps_output(case, built_site):
    site = built_site
    output = site / "output"
    before = snapshot(output)
    assert "index.html" in before and ".builder-output" in before
    apply(site, case["files"])
    beside = sorted(os.listdir(site))

    result = run_cli("build", "--site", str(site))

    assert result.returncode == 1, result.stdout + result.stderr
    assert messages(result.stderr) == expected_stderr(case["problems"])
    assert result.stdout == ""
    assert snapshot(output) == before
    assert sorted(os.listdir(site)) == beside  # no staging folder left behind

    checked = run_cli("check", "--site", str(site))
    assert (checked.returncode, messages(checked.stderr)) == (1, expected_stderr(case["problems"]))
    assert snapshot(output) == before


def test_good_site_builds_after_a_failed_build(built_site):
    """Sanity for the cases above: the unbroken site builds, and fixing a case recovers."""
    site = built_site
    apply(site, {C: article("Gamma", "yesterday")})
    assert run_cli("build", "--site", str(site)).returncode == 1
    apply(site, GOOD_SITE)
    result = run_cli("build", "--site", str(site), check=True)
    assert result.stdout.startswith("built ")


# -- Output folders that must be refused ------------------------------------------------------

def test_refuses_output_folder_that_is_the_site_folder(built_site):
    site = built_site
    before = snapshot(site)
    result = run_cli("build", "--site", str(site), "--out", str(site))
    assert result.returncode == 1
    assert messages(result.stderr) == expected_stderr(
        [f"{site.resolve()}: refusing to use this output folder: it is the site folder or contains it"])
    assert snapshot(site) == before


def test_refuses_output_folder_that_contains_the_site_folder(built_site):
    site = built_site
    before = snapshot(site.parent)
    result = run_cli("build", "--site", str(site), "--out", str(site.parent))
    assert result.returncode == 1
    assert messages(result.stderr) == expected_stderr(
        [f"{site.parent.resolve()}: refusing to use this output folder: it is the site folder or contains it"])
    assert snapshot(site.parent) == before


def test_refuses_site_toml_output_that_is_the_site_folder(built_site):
    site = built_site
    (site / "site.toml").write_text('title = "Test Archive"\noutput = "."\n')
    before = snapshot(site)
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 1
    assert messages(result.stderr) == expected_stderr(
        [f"{site.resolve()}: refusing to use this output folder: it is the site folder or contains it"])
    assert snapshot(site) == before


@pytest.mark.parametrize("inside", ["content", "content/2025/site", "templates", "static/out"])
def test_refuses_output_folder_within_a_site_input_folder(built_site, inside):
    site = built_site
    (site / "static").mkdir()
    before = snapshot(site)
    result = run_cli("build", "--site", str(site), "--out", str(site / inside))
    assert result.returncode == 1
    folder = inside.split("/")[0]
    assert messages(result.stderr) == expected_stderr(
        [f"{(site / inside).resolve()}: refusing to use this output folder: it is within the site's "
         f"{folder}/ folder"])
    assert snapshot(site) == before


def test_refuses_output_folder_that_holds_content(built_site, make_site):
    other = make_site({"content/2025/x.md": article("Another site's article")}, name="other")
    before = snapshot(other)
    result = run_cli("build", "--site", str(built_site), "--out", str(other))
    assert result.returncode == 1
    assert messages(result.stderr) == expected_stderr(
        [f"{other.resolve()}: refusing to use this output folder: it holds content/ or site.toml"])
    assert snapshot(other) == before


def test_refuses_non_empty_folder_it_did_not_make(built_site, make_site):
    other = make_site({"notes.txt": "keep me"}, name="other")
    before = snapshot(other)
    result = run_cli("build", "--site", str(built_site), "--out", str(other))
    assert result.returncode == 1
    assert messages(result.stderr) == expected_stderr(
        [f"{other.resolve()}: refusing to use this output folder: it is not empty and was not made "
         "by this tool (no .builder-output file); empty it or choose another --out"])
    assert snapshot(other) == before


# -- check writes nothing ----------------------------------------------------------------------

def test_check_writes_nothing(make_site):
    site = make_site(GOOD_SITE)
    before = snapshot(site.parent)
    result = run_cli("check", "--site", str(site), check=True)
    assert result.stdout.startswith("ok: 3 articles, ")
    assert snapshot(site.parent) == before
    assert not (site / "output").exists()


def test_check_leaves_a_built_output_untouched(built_site):
    site = built_site
    (site / "content/2025/e.md").write_text(article("Epsilon", "2025-06-20"))
    before = snapshot(site.parent)
    run_cli("check", "--site", str(site), check=True)
    assert snapshot(site.parent) == before


def test_broken_article_does_not_make_its_referrers_fail_too(built_site):
    site = built_site
    apply(site, {"content/2025/a.md": article("Alpha", "yesterday")})  # b.md relates to a
    result = run_cli("build", "--site", str(site))
    assert messages(result.stderr) == expected_stderr(
        [f"content/2025/a.md:3: invalid date 'yesterday': {DATE_HELP}"])
