"""Patch: rebuild only the pages an edit reaches, without rebuilding the archive.

Most rebuilds follow an edit to one article's text, title or summary. Such
an edit leaves the archive's shape as it was — the same articles, dates,
countries, topics and related lists — so every page keeps its URL and its
plan, and only the pages that show the edited article can change. The last
build stored each page's plan with its articles as references and the
list of slugs it refers to (builder.fingerprints), so this step:

1. finds the changed files (size and mtime) and parses them;
2. gives up (the full pipeline runs) unless each is the same article with
   the same shape, the inputs besides articles are the same, and no page
   that reads the whole archive is reached;
3. reads the plans of the pages that refer to a changed article, resolves
   their articles (from the cache, the changed ones from the new parse),
   re-fingerprints and renders them, and writes the changed bytes.

The result is the same site a full build makes (tests compare them byte
for byte); this only skips the work that cannot change anything.
"""

from __future__ import annotations

import dataclasses

from builder.archive import with_canonical_topics
from builder.articles import Article, BodyRef, ParseSettings
from builder.cache import ArticleRecord, Cache, PageRecord
from builder.content import SourceFile, _Job, _parse_job
from builder.fingerprints import EVERYTHING, Fingerprinter, read_plan
from builder.output import transaction, start_staging
from builder.pages import refresh

MAX_CHANGED_FILES = 20  # beyond this, a full build is about as quick


class PatchRefused(Exception):
    """The edit changes more than the pages that show the article: run the full build."""


def shape(article: Article) -> tuple:
    """Everything about an article that shapes other pages than the ones showing it:
    where it is listed, what it links to, its place in time, and the sitemap's dates."""
    return (article.path, article.slug, article.date, article.updated, article.draft,
            tuple(c.code for c in article.countries), tuple((t.key, t.name) for t in article.topics),
            tuple((r.slug, r.title, r.url) for r in article.related))


@dataclasses.dataclass(frozen=True)
class Patch:
    """What a patch did (for the build summary)."""

    rendered: int
    changed: list[str]  # output files written
    articles: dict[str, ArticleRecord]  # the changed records
    pages: dict[str, PageRecord]  # the re-fingerprinted pages
    indexed_changed: bool  # a page of the search index was written


def patch(sources: list[SourceFile], settings: ParseSettings, cache: Cache, output, make_renderer,
          base: str, template_facts, canonical_topics: dict, drafts: bool) -> Patch:
    """Rebuild the pages reached by the changed sources; raise PatchRefused when it cannot."""
    store = cache.checked_store()
    if store is None:
        raise PatchRefused("no cache")
    known = store.stats()
    if len(known) != len(sources) or any(s.path not in known for s in sources):
        raise PatchRefused("articles were added or removed")
    changed = [s for s in sources if known[s.path] != s.stat]
    if len(changed) > MAX_CHANGED_FILES:
        raise PatchRefused("many files changed")
    old = store.articles_at([s.path for s in changed])
    records: dict[str, ArticleRecord] = {}
    bodies: list[tuple[str, str]] = []
    cards: set[str] = set()  # slugs whose card changed (every page showing them)
    texts: set[str] = set()  # slugs whose body changed (pages showing bodies)
    for source in changed:
        before = old.get(source.path)
        if before is None:
            raise PatchRefused("an article is missing from the cache")
        sha, article, problems = _parse_job(_Job(source, before.sha), settings)
        if problems:
            raise PatchRefused("a file has problems")  # the full build reports them all
        if article is None:  # same bytes, new mtime
            records[source.path] = ArticleRecord(source.stat, sha, before.article)
            continue
        if shape(article) != shape(before.article):
            raise PatchRefused("the archive's shape changed")
        bodies.append((article.digest, article.body))
        article = dataclasses.replace(article, body=BodyRef(cache.database, article.digest))
        records[source.path] = ArticleRecord(source.stat, sha, article)
        if article.draft and not drafts:
            continue  # in no page (and its slug may be a published article's)
        if article.card != before.article.card:
            cards.add(article.slug)
        if article.digest != before.article.digest:
            texts.add(article.slug)
    reached: dict[str, str] = {}  # output -> stored fingerprint
    needed: set[str] = set()
    for output_path, full, keys, fingerprint in store.pages_with(sorted(cards | texts) + [EVERYTHING]):
        if EVERYTHING in keys and (cards or (full and texts)):
            raise PatchRefused("a page reads the whole archive")
        if set(keys) & (cards | (texts if full else set())):
            reached[output_path] = fingerprint
            needed.update(keys)

    fresh = {record.article.slug: record.article for record in records.values()
             if drafts or not record.article.draft}
    found = {slug: record.article for slug, record in
             store.articles_by_slug(sorted(needed - set(fresh)), drafts).items()}
    articles = {slug: with_canonical_topics(article, canonical_topics) for slug, article in {**found, **fresh}.items()}
    plans = store.plans(sorted(reached))

    fingerprinter = Fingerprinter(base, None, template_facts[1], template_facts[2])
    pages = {}
    todo = []
    for output_path in sorted(reached):
        page = refresh(read_plan(plans[output_path], articles))
        record = fingerprinter.page(page)
        pages[output_path] = record
        if record.fingerprint != reached[output_path]:
            todo.append(page)

    if bodies:
        store.add(bodies)
    written: list[str] = []
    if todo:
        renderer = make_renderer()
        staging = start_staging(output)
        with transaction(staging) as apply:
            for page in todo:
                data = renderer.render(page)
                if data is None:
                    problem = next(iter(renderer.problems.values()), "")
                    raise PatchRefused(f"a template failed ({problem})")  # the full build reports it
                if staging.write(page.output, data):
                    written.append(page.output)
            apply(sorted(written), [])
    indexed = {page.output for page in todo if page.indexed}
    return Patch(rendered=len(todo), changed=written, articles=records, pages=pages,
                 indexed_changed=bool(indexed.intersection(written)))
