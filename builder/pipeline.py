"""The pipeline every command shares, top to bottom:

    load_site:  config → content → archive → page plan → templates      (pure: writes nothing)
    decide:     what an incremental build needs: nothing, these pages, everything   (builder.incremental)
    produce:    render → search index → write → save                   (builder.produce)

``check`` is load_site and produce without writing, ``build`` is decide then
produce (or patch), ``report`` reads the Site, and ``serve`` is build in a loop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from builder.archive import Archive, build_archive
from builder.articles import ParseSettings
from builder.cache import ArticleRecord, Cache, published_in
from builder.clock import now
from builder.config import SiteConfig
from builder.content import Content, collect, load_articles
from builder.feeds import plan_feeds
from builder.images import ImageIndex, scan_images, small_lead_notes
from builder.options import BuildOptions
from builder.pages import Page, clashes, plan_corrections, plan_pages, plan_redirects
from builder.problems import Problem, raise_if_any
from builder.result import Timer
from builder.sitemap import plan_news_sitemap, plan_sitemap
from builder.sources import SourceFile, find_sources
from builder.templates import Templates, load_templates
from builder.urls import Urls
from builder.vanished import published, vanished_notes


@dataclass(frozen=True)
class Learned:
    """What loading found that the cache keeps for the next build."""

    records: dict[str, ArticleRecord]  # every parsed article by source path
    archive_memo: dict  # what the archive step can reuse
    archive_memo_changed: bool
    published: dict | None = None  # article addresses of this build (builder.vanished), None if unchanged
    pictures: dict | None = None  # the pictures read: {file: (stat, Picture)} (builder.images), None if unchanged
    rows: dict = field(default_factory=dict)  # the newly parsed articles, pickled for the cache's rows, by path


@dataclass(frozen=True)
class Site:
    """The whole site, loaded and planned: everything a build renders, nothing written yet."""

    config: SiteConfig  # with search switched off when the options say so
    sources: tuple[SourceFile, ...]
    content: Content
    archive: Archive
    urls: Urls
    pages: tuple[Page, ...]  # every output file but static files and the search index
    templates: Templates
    bodies: object  # resolves body digests (builder.bodies)
    learned: Learned = field(compare=False)
    notes: tuple[str, ...] = ()  # what the user should know that is no problem (addresses that vanished)
    changes_at: dt.datetime | None = None  # when the clock alone next changes the output (or None)
    images: ImageIndex = ImageIndex({}, {})  # every local picture the articles show, with its planned files

    @property
    def searchable(self) -> bool:
        return self.config.search.enabled


def load_site(config: SiteConfig, options: BuildOptions, cache: Cache, timer: "Timer",
              sources: list[SourceFile] | None = None, jobs: int = 1) -> Site:
    """Load and plan the whole site; raise BuildFailed with every problem found."""
    if not config.content_dir.is_dir():
        raise_if_any([no_content(config)])
    sources = find_sources(config.root) if sources is None else sources
    with timer.step("content", len(sources)):
        cache.load_records()
        loaded = load_articles(sources, ParseSettings.from_config(config), cache, jobs, timer.advance)
        clock = now()
        content, problems = collect(loaded.results, options.drafts, None if options.future else clock)
    with timer.step("images"):
        known_pictures = cache.pictures()
        images, pictures, image_problems = scan_images(config.root, content.articles, config.images, known_pictures)
        problems += image_problems
    with timer.step("archive"):
        memo = cache.archive_memo()
        memo_before = dict(memo)
        unlisted = content.unparsed_slugs | {article.slug for article in content.scheduled}
        archive, archive_problems = build_archive(content.articles, memo, unlisted, jobs)
        problems += archive_problems
        urls = Urls(config.base_path, config.origin)
        pages = plan_pages(archive, urls, config.page_size, config.search.enabled,
                           {entry.slug: entry for entry in config.authors})
        pages += plan_corrections(archive, urls)
        if config.aliases.redirects_file:
            pages += plan_redirects(archive, urls)
        pages += plan_feeds(archive, urls, config.feeds.size)
        pages += plan_sitemap(pages, archive, urls)
        news, news_changes = plan_news_sitemap(archive, urls, clock, config.publisher_name, config.language)
        pages.append(news)
        problems += clashes(pages)
        before = cache.published() if cache.keeps else published_in(config.cache_dir)
        now_published = published(tuple(pages), urls)
        notes = vanished_notes(before, tuple(pages), content, urls) + small_lead_notes(
            images, content.articles, config.images)
        known = cache.state.templates if cache.state else None
        templates, template_problems = load_templates(config.template_dirs, cache.compiled, known)
        problems += template_problems
    raise_if_any(problems)
    return Site(config=config, sources=tuple(sources), content=content, archive=archive, urls=urls,
                pages=tuple(pages), templates=templates, bodies=loaded.bodies,
                learned=Learned(loaded.records, memo, memo != memo_before,
                                None if now_published == before else now_published,
                                None if pictures == known_pictures else pictures, loaded.rows),
                images=images,
                notes=tuple(notes),
                changes_at=min((t for t in (content.next_due, news_changes) if t is not None), default=None))


def no_content(config: SiteConfig) -> Problem:
    return Problem(str(config.content_dir), 0, "no such folder: a site keeps its articles in content/ "
                                               "(create it, or start a site with builder init)")
