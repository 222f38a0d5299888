"""Search check: every article page is in the index Pagefind wrote (each shard's bundle
is checked with the pages it was made from), with what the search page needs (filters
as its front matter says, the date sort key, meta).

A page missing any of these fails the build naming the article template: Pagefind
leaves such pages out silently (out of date-sorted results, without facets).
"""

from __future__ import annotations

import json
from pathlib import Path

from builder.config import SiteConfig
from builder.pages import Page
from builder.pagefind_files import SORT_KEY, read_records
from builder.problems import BuildFailed, Problem, ToolFailed

META = ("title", "date", "datetime", "summary")
SHOWN_PAGES = 5  # pages named per problem; a template mistake affects every article alike


def check_index(config: SiteConfig, indexed: list[Page], bundle: Path) -> None:
    """Every indexed page is in the index with its sort key, filters and meta."""
    raise_problems(config, index_problems(config, indexed, bundle))


def index_problems(config: SiteConfig, indexed, bundle: Path) -> dict[str, list[str]]:
    """What is missing from one bundle → the pages it is missing from (in ``indexed`` order)."""
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        records = {}
        for language in entry["languages"].values():
            records.update(read_records(bundle, language["hash"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        raise ToolFailed(f"Pagefind wrote no readable index ({type(error).__name__}: {error})") from error

    missing: dict[str, list[str]] = {}

    def lacks(what: str, page: Page) -> None:
        missing.setdefault(what, []).append(page.url)

    for page in indexed:
        record = records.get(_index_url(page))
        if record is None:
            lacks("not in the index (does the template leave data-pagefind-ignore off its body?)", page)
            continue
        if not record.has_sort_key:
            lacks(f"no '{SORT_KEY}' sort key (data-pagefind-sort=\"{SORT_KEY}:…\"), "
                  "so date-sorted results leave the page out", page)
        for name, values in expected_filters(page).items():
            found = sorted(record.filters.get(name, ()))
            if found != sorted(values):
                lacks(f"{name} filter values {found}, expected {sorted(values)} "
                      f"(data-pagefind-filter=\"{name}\")", page)
        for name in META:
            if not record.meta.get(name):
                lacks(f"no '{name}' meta (data-pagefind-meta=\"{name}\")", page)
    return missing


def raise_problems(config: SiteConfig, missing: dict[str, list[str]]) -> None:
    """One problem per kind of gap, naming the article template and the pages."""
    template = _article_template(config)
    problems = [Problem(template, 0, f"search index: {what}: {_pages_text(urls)}")
                for what, urls in missing.items()]
    if problems:
        raise BuildFailed(problems)


def _index_url(page: Page) -> str:
    """The URL Pagefind records for a page: from the site root, without 'index.html'."""
    output = page.output
    return "/" + (output[:-len("index.html")] if output.endswith("index.html") else output)


def expected_filters(page: Page) -> dict[str, list[str]]:
    """Filter values the article's page must carry (an empty list: none)."""
    article = page.context.article
    return {"country": [country.name for country in article.countries],
            "topic": [topic.name for topic in article.topics],
            "year": [str(article.year)]}


def _article_template(config: SiteConfig) -> str:
    """The article template in use, as the user would name it."""
    for folder in config.template_dirs:
        path = folder / "article.html"
        if path.is_file():
            try:
                return path.resolve().relative_to(config.root.resolve()).as_posix()
            except ValueError:
                return str(path)
    return "templates/article.html"


def _pages_text(urls: list[str]) -> str:
    shown = ", ".join(urls[:SHOWN_PAGES])
    more = len(urls) - SHOWN_PAGES
    return f"{'page' if len(urls) == 1 else 'pages'} {shown}" + (f" and {more:,} more" if more > 0 else "")
