"""The build pipeline, top to bottom:

    load_config → load_content → build_archive → plan_pages → render → stage → index → swap

``check`` runs the same steps without staging or swapping anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from builder import __version__
from builder.archive import Archive, build_archive
from builder.articles import ParseSettings
from builder.config import SiteConfig, load_config
from builder.content import Content, collect, find_sources, parse_sources
from builder.output import check_output_folder, start_staging
from builder.pages import Page, plan_pages
from builder.problems import BuildFailed, Problem, raise_if_any
from builder.render import Renderer
from builder.search import index_site
from builder.templates import check_templates, make_environment, static_files
from builder.urls import Urls


@dataclass(frozen=True)
class BuildOptions:
    """What the command line asked for."""

    site: Path = Path(".")
    drafts: bool = False
    base_url: str | None = None
    out: Path | None = None
    search: bool = True  # False: --no-search
    write: bool = True  # False: check only


@dataclass
class BuildResult:
    """What a build did, for the summary line and the tests."""

    articles: int = 0
    pages: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    drafts_left_out: int = 0
    output: Path | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(t for _, t in self.timings)

    def summary(self) -> str:
        steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.timings)
        return (f"built {self.pages:,} pages from {self.articles:,} articles in {self.seconds:.2f}s "
                f"({self.written:,} written, {self.unchanged:,} unchanged, {self.removed:,} removed; {steps})")


class Timer:
    """Times named steps and reports each as it ends."""

    def __init__(self, result: BuildResult, progress=None):
        self.result = result
        self.progress = progress

    def step(self, name: str):
        timer = self

        class _Step:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                seconds = time.perf_counter() - self.start
                timer.result.timings.append((name, seconds))
                if timer.progress and exc[0] is None:
                    timer.progress(f"  {name}: {seconds:.2f}s")
        return _Step()


def load_content(config: SiteConfig, drafts: bool) -> tuple[Content, list[Problem]]:
    settings = ParseSettings.from_config(config)
    if not config.content_dir.is_dir():
        return Content((), 0), [Problem("content", 0, "no content/ folder in the site folder")]
    sources = find_sources(config.root)
    return collect(parse_sources(sources, settings), drafts)


def site_globals(config: SiteConfig, archive: Archive, urls: Urls, assets: dict[str, Path]) -> dict:
    """Variables every template sees (documented in the README)."""
    versions = {name: hashlib.sha256(path.read_bytes()).hexdigest()[:10] for name, path in assets.items()}

    def asset(name: str) -> str:
        return urls.asset(name, versions.get(name, ""))

    return {"site": config, "archive": archive, "url": urls, "asset": asset,
            "builder_version": __version__}


def build(options: BuildOptions, progress=None) -> BuildResult:
    """Build the site (or only check it); raise BuildFailed with every problem found."""
    result = BuildResult()
    timer = Timer(result, progress)
    with timer.step("config"):
        config = load_config(options.site, options.base_url)
        if not options.search:  # --no-search: templates then link no search page either
            config = dataclasses.replace(config, search=dataclasses.replace(config.search, enabled=False))
        output = (options.out.resolve() if options.out else config.output_dir)
        if options.write:
            check_output_folder(output, config.root)
    with timer.step("content"):
        content, problems = load_content(config, options.drafts)
        result.articles = len(content.articles)
        result.drafts_left_out = content.drafts_left_out
    with timer.step("archive"):
        archive, archive_problems = build_archive(content.articles)
        problems += archive_problems
        urls = Urls(config.base_path, config.origin)
        search = config.search.enabled
        pages = plan_pages(archive, urls, config.page_size, search)
        env = make_environment(config.template_dirs)
        problems += check_templates(env, config.template_dirs)
    raise_if_any(problems)

    assets = static_files(config.template_dirs)
    renderer = Renderer(env, site_globals(config, archive, urls, assets), config.template_dirs)
    result.pages = len(pages)
    if not options.write:
        with timer.step("render"):
            for _ in renderer.render_all(pages):
                pass
        raise_if_any(list(renderer.problems.values()))
        return result

    staging = start_staging(output)
    try:
        with timer.step("render"):
            for page, data in renderer.render_all(pages):
                staging.add(page.output, data)
            raise_if_any(list(renderer.problems.values()))
            for name, path in assets.items():
                staging.add(f"static/{name}", path.read_bytes())
            _copy_site_static(config, staging)
        if search:
            with timer.step("search"):
                index_site(config, pages, staging)
        with timer.step("swap"):
            result.removed = staging.commit()
    except BaseException:
        staging.discard()
        raise
    result.written, result.unchanged, result.output = staging.written, staging.unchanged, output
    return result


def _copy_site_static(config: SiteConfig, staging) -> None:
    """A site's own static/ folder (images, favicons, CNAME…) is copied to the output root."""
    folder = config.root / "static"
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                staging.add(path.relative_to(folder).as_posix(), path.read_bytes())
