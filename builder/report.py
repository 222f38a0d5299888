"""Report: ``python -m builder report`` — what the archive holds and where it needs care.

The site is loaded by the build's own ``load_site``, so the report counts exactly
what a build publishes and refuses what a build refuses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from builder.archive import Archive
from builder.cache import Cache
from builder.hosting import check_limits, folder_files, host_of, measure
from builder.options import BuildOptions, cache_key, site_config
from builder.pipeline import load_site
from builder.result import Timer
from builder.topics import Topic, free_topic

LARGEST_COUNT = 10  # largest pages listed
TEXT_LIST_LIMIT = 20  # entries of a long list shown in the plain-text report
ACRONYM_SKIP = {"and", "of", "the", "for", "in", "on"}  # 'Oil and Gas' -> 'OG'


@dataclass(frozen=True)
class Count:
    name: str
    count: int


@dataclass(frozen=True)
class ArticleRef:
    path: str
    slug: str
    title: str


@dataclass(frozen=True)
class TopicPair:
    """Two topics that look like one."""

    first: str
    second: str
    reason: str  # 'plural', 'acronym' or 'spelling'


@dataclass(frozen=True)
class NewerLink:
    """A related link from an article to one published after it."""

    path: str
    slug: str
    date: str
    related_slug: str
    related_date: str


@dataclass(frozen=True)
class PageSize:
    path: str  # relative to the output folder
    bytes: int


@dataclass(frozen=True)
class HostLimits:
    """The ``[hosting] target``'s limits (0: none documented)."""

    target: str
    host: str
    total_bytes: int
    files: int
    folder_entries: int
    file_bytes: int


@dataclass(frozen=True)
class OutputSize:
    """The built site measured against the host's limits (empty when it was not built)."""

    folder: str
    built: bool
    total_bytes: int
    limit_bytes: int  # the host's limit on total bytes (0: none)
    largest: tuple[PageSize, ...]
    files: int = 0
    fullest_folder: str = ""  # the folder holding the most files and folders directly
    folder_entries: int = 0
    largest_file: PageSize = PageSize("", 0)  # of any kind (pages, images, the search index)
    limits: HostLimits | None = None
    over_or_close: tuple[str, ...] = ()  # the build's warnings: each limit it is over or close to

    @property
    def share(self) -> float:
        return self.total_bytes / self.limit_bytes if self.limit_bytes else 0.0


@dataclass(frozen=True)
class Report:
    """Everything the report says, in the order it says it."""

    articles: int
    drafts_left_out: int
    countries: tuple[Count, ...]  # most articles first
    topics: tuple[Count, ...]
    authors: tuple[Count, ...]  # most articles first
    stories: tuple[Count, ...]  # most parts first
    years: tuple[Count, ...]  # newest first
    without_country: tuple[ArticleRef, ...]  # newest first
    without_topic: tuple[ArticleRef, ...]
    duplicate_topics: tuple[TopicPair, ...]
    related_to_newer: tuple[NewerLink, ...]
    scheduled: tuple["Scheduled", ...]  # held back until their date, soonest first
    output: OutputSize


@dataclass(frozen=True)
class Scheduled:
    """An article dated after now: built only once its time has come (or with --future)."""

    path: str
    slug: str
    title: str
    date: str  # ISO 8601 with the site's offset


def make_report(archive: Archive, drafts_left_out: int, output: Path, scheduled=(),
                target: str = "github-pages") -> Report:
    """The report on an archive (and the articles it holds back) and its built output folder."""
    newer = []
    for article in archive.articles:
        for link in archive.links[article.slug].related:
            if link.article is not None and link.article.date > article.date:
                newer.append(NewerLink(article.path, article.slug, article.date.isoformat(),
                                       link.article.slug, link.article.date.isoformat()))
    return Report(
        articles=len(archive.articles), drafts_left_out=drafts_left_out,
        countries=tuple(Count(t.name, t.count) for t in sorted(archive.countries, key=_by_count)),
        topics=tuple(Count(t.name, t.count) for t in sorted(archive.topics, key=_by_count)),
        authors=tuple(Count(t.name, t.count) for t in sorted(archive.authors, key=_by_count)),
        stories=tuple(Count(s.name, s.count) for s in sorted(archive.stories, key=_by_count)),
        years=tuple(Count(str(y.year), y.count) for y in archive.years),
        without_country=_refs(a for a in archive.articles if not a.countries),
        without_topic=_refs(a for a in archive.articles if not a.topics),
        duplicate_topics=duplicate_topics([free_topic(t.name) for t in archive.topics]),
        related_to_newer=tuple(newer),
        scheduled=tuple(Scheduled(a.path, a.slug, a.title, a.date.isoformat()) for a in scheduled),
        output=output_size(output, target))


def _by_count(term) -> tuple:
    return (-term.count, term.name.casefold())


def _refs(articles) -> tuple[ArticleRef, ...]:
    return tuple(ArticleRef(a.path, a.slug, a.title) for a in articles)


# ------------------------------------------------------- duplicate topics


def _plurals(key: str) -> set[str]:
    """English plural forms of a key's last word: 'tariff' -> 'tariffs', 'policy' -> 'policies'."""
    forms = {key + "s", key + "es"}
    if key.endswith("y"):
        forms.add(key[:-1] + "ies")
    return forms


def _acronyms(key: str) -> set[str]:
    words = key.replace("-", " ").split()
    if len(words) < 2:
        return set()
    return {"".join(w[0] for w in words), "".join(w[0] for w in words if w not in ACRONYM_SKIP)}


def _within_one_edit(a: str, b: str) -> bool:
    """True when one insertion, deletion or substitution turns ``a`` into ``b``."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    for index in range(len(a)):
        if a[index] != b[index]:
            return a[index + 1:] == b[index + 1:] if len(a) == len(b) else a[index:] == b[index + 1:]
    return True


def duplicate_topics(topics: list[Topic]) -> tuple[TopicPair, ...]:
    """Pairs of topics that look like one: plural/singular, acronym, one letter apart."""
    pairs: list[TopicPair] = []
    ordered = sorted(topics, key=lambda t: t.key)
    for index, first in enumerate(ordered):
        for second in ordered[index + 1:]:
            a, b = first.key, second.key
            if b in _plurals(a) or a in _plurals(b):
                reason = "plural"
            elif (" " not in a and a in _acronyms(b)) or (" " not in b and b in _acronyms(a)):
                reason = "acronym"
            elif min(len(a), len(b)) >= 5 and _within_one_edit(a, b):
                reason = "spelling"
            else:
                continue
            pairs.append(TopicPair(first.name, second.name, reason))
    return tuple(pairs)


# ------------------------------------------------------------ output size


def output_size(folder: Path, target: str = "github-pages") -> OutputSize:
    """The built site's size, files and folders against ``target``'s limits, and its largest HTML pages."""
    host = host_of(target)
    limits = HostLimits(target, host.name, *(limit.amount if limit else 0 for limit in (
        host.total_bytes, host.files, host.folder_entries, host.file_bytes)))
    if not folder.is_dir():
        return OutputSize(str(folder), False, 0, limits.total_bytes, (), limits=limits)
    files = list(folder_files(folder))
    pages = sorted((PageSize(path, size) for path, size in files if path.endswith(".html")),
                   key=lambda page: (-page.bytes, page.path))
    found = measure(folder)
    return OutputSize(str(folder), True, found.total_bytes, limits.total_bytes, tuple(pages[:LARGEST_COUNT]),
                      files=found.files, fullest_folder=found.fullest_folder or "/",
                      folder_entries=found.folder_entries,
                      largest_file=PageSize(found.largest_file, found.largest_bytes), limits=limits,
                      over_or_close=tuple(excess.message for excess in check_limits(host, found)))


# ----------------------------------------------------------------- output


def as_json(report: Report) -> str:
    data = asdict(report)
    data["output"]["share"] = round(report.output.share, 6)
    return json.dumps(data, ensure_ascii=False, indent=2)


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return ""


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def as_text(report: Report) -> str:
    lines = [_counted(report.articles, "article")
             + (f" ({_counted(report.drafts_left_out, 'draft')} left out)" if report.drafts_left_out else "")]

    def section(title: str, rows: list[str]) -> None:
        lines.append("")
        lines.append(f"{title} ({len(rows):,})")
        for row in rows[:TEXT_LIST_LIMIT]:
            lines.append(f"  {row}")
        if len(rows) > TEXT_LIST_LIMIT:
            lines.append(f"  … and {len(rows) - TEXT_LIST_LIMIT:,} more (--json lists all)")

    width = max((len(c.name) for c in (*report.countries, *report.topics, *report.authors, *report.stories)),
                default=0)
    section("Countries", [f"{c.name:<{width}}  {c.count:>6,}" for c in report.countries])
    section("Topics", [f"{c.name:<{width}}  {c.count:>6,}" for c in report.topics])
    section("Authors", [f"{c.name:<{width}}  {c.count:>6,}" for c in report.authors])
    section("Stories", [f"{c.name:<{width}}  {c.count:>6,}" for c in report.stories])
    section("Years", [f"{c.name}  {c.count:>6,}" for c in report.years])
    section("Articles without a country", [f"{a.path}  {a.title}" for a in report.without_country])
    section("Articles without a topic", [f"{a.path}  {a.title}" for a in report.without_topic])
    section("Topics that look like duplicates",
            [f"'{p.first}' / '{p.second}' ({p.reason})" for p in report.duplicate_topics])
    section("Scheduled articles (held back until their date)",
            [f"{a.date.replace('T', ' ')}  {a.path}  {a.title}" for a in report.scheduled])
    section("Related links to newer articles",
            [f"{n.path} ({n.date[:10]}) -> {n.related_slug} ({n.related_date[:10]})"
             for n in report.related_to_newer])
    output = report.output
    lines.append("")
    if output.built:
        lines += _output_lines(output)
    else:
        lines.append(f"Output {output.folder}: not built (run `python -m builder build` to measure page sizes)")
    return "\n".join(lines)


def _output_lines(output: OutputSize) -> list[str]:
    """The output against the host's limits: one line per measure, the limit beside it."""
    host = host_of(output.limits.target)

    def against(amount: int, limit) -> str:
        if limit is None:
            return "no limit"
        return f"{amount / limit.amount:.2%} of {limit.shown}" + ("  OVER THE LIMIT" if amount > limit.amount else "")

    if host.total_bytes:
        head = (f"Output {output.folder}: {_size(output.total_bytes)} of {host.whose} {host.total_bytes.shown} "
                f"limit ({output.share:.2%})" + ("  OVER THE LIMIT" if output.share > 1 else ""))
    else:
        head = f"Output {output.folder}: {_size(output.total_bytes)} (no limit on the total)"
    lines = [head, f"Against [hosting] target \"{host.target}\" ({host.name}):",
             f"  files                 {output.files:>10,}  {against(output.files, host.files)}",
             f"  most in one folder    {output.folder_entries:>10,}  {against(output.folder_entries, host.folder_entries)}"
             f"  ({output.fullest_folder})",
             f"  largest file          {_size(output.largest_file.bytes):>10}  "
             f"{against(output.largest_file.bytes, host.file_bytes)}  ({output.largest_file.path})"]
    lines += [f"  warning: {message}" for message in output.over_or_close]
    lines.append("Largest pages:")
    lines += [f"  {_size(page.bytes):>10}  {page.path}" for page in output.largest]
    return lines


# ----------------------------------------------------------------- command


def report(site: Path, drafts: bool = False, out: Path | None = None, future: bool = False) -> Report:
    """Load the site as a build does (builder.pipeline.load_site) and report on it
    (BuildFailed on the problems a build would report)."""
    options = BuildOptions(site=site, drafts=drafts, future=future)
    config = site_config(options)
    loaded = load_site(config, options, Cache.none(cache_key(config)), Timer())
    return make_report(loaded.archive, loaded.content.drafts_left_out, out.resolve() if out else config.output_dir,
                       loaded.content.scheduled, config.hosting.target)


def run(args) -> int:
    result = report(args.site, args.drafts, args.out, args.future)
    args.console.result(as_json(result) if args.json else as_text(result))
    return 0
