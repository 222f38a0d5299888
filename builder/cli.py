"""The command line: ``builder [build|serve|check|init|new|import|report|deploy|clean]``.

Exit codes: 0 success; 1 the input has problems (each printed as
``path:line: message``); 2 wrong usage; 3 a tool, the system or the builder
itself failed; 130 interrupted (Ctrl-C). No traceback reaches the user: a bug
prints one line and the path of a log holding the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from pathlib import Path

from builder import __version__
from builder.interrupts import FinishedFirst
from builder.console import NORMAL, QUIET, VERBOSE, Console, plural
from builder.problems import BuildFailed, ToolFailed, UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_TOOL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
COMMANDS = ("build", "serve", "check", "init", "new", "import", "rename", "report", "deploy", "clean")


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=QUIET, default=NORMAL,
                       help="print only problems and the command's own output")
    group.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=VERBOSE,
                       help="print every step and why a rebuild took the path it took")
    return common


def _site_options(drafts: bool = True) -> argparse.ArgumentParser:
    site = argparse.ArgumentParser(add_help=False)
    site.add_argument("--site", type=Path, default=Path("."), metavar="DIR",
                      help="site folder holding site.toml and content/ (default: the current folder)")
    if drafts:
        site.add_argument("--drafts", action="store_true", help="include articles marked draft: true")
        site.add_argument("--future", action="store_true",
                          help="publish articles dated after now too (now: SOURCE_DATE_EPOCH, else the clock)")
    return site


def make_parser() -> argparse.ArgumentParser:
    """Every command and option (the modules that run them are imported only when used)."""
    parser = argparse.ArgumentParser(
        prog="builder", description="Build, preview and publish a static news archive.",
        epilog="Run 'builder COMMAND --help' for a command's options. Without a command: build.")
    parser.add_argument("--version", action="version", version=f"builder {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options()
    with_site = [common, _site_options()]
    site_only = [common, _site_options(drafts=False)]

    def command(name: str, parents, summary: str, description: str, module: str = "") -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=parents, help=summary, description=description)
        sub.set_defaults(module=module)
        return sub

    build_parser = command("build", with_site, "build the site into the output folder",
                           "Build the site into the output folder, reusing the cache.")
    _build_options(build_parser)
    build_parser.add_argument("--no-cache", action="store_true",
                              help="ignore and leave alone the cache (a cold build)")
    build_parser.add_argument("--jobs", type=int, default=0, metavar="N",
                              help="worker processes (default: one per core)")
    build_parser.add_argument("--strict", action="store_true",
                              help="fail (exit code 1) when the output is over a limit of [hosting] target")

    serve_parser = command("serve", with_site, "build, preview on 127.0.0.1, rebuild on changes",
                           "Build the site, serve it on 127.0.0.1 and rebuild and reload the browser on "
                           "every change.")
    _build_options(serve_parser)
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; the next free one if taken)")
    serve_parser.add_argument("--expose", action="store_true",
                              help="allow a --host other machines can reach, and any Host header (prints a warning)")
    serve_parser.add_argument("--poll", action="store_true",
                              help="poll for changes (network mounts, containers without inotify)")

    command("check", with_site, "validate everything; write nothing",
            "Run every step and check of a build without writing anything.")
    command("clean", site_only, "remove the cache folder", "Remove the site's cache folder (the next build is cold).")

    init = command("init", [common], "start a new archive in a folder",
                   "Start a new archive: site.toml, content/ with an example article, .gitignore and a "
                   "GitHub Pages workflow.", "builder.init")
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR",
                      help="the new site's folder (default: the current folder; made if missing)")
    init.add_argument("--requirement", default="", metavar="SPEC",
                      help="what the site's workflow installs the builder from, such as "
                           "'builder @ git+https://github.com/ORG/builder@v0.4.0' (default: this "
                           "install's git source, when pip recorded one)")

    new = command("new", site_only, "start an article: content/YYYY/<slug>.md",
                  "Write a new article's front matter under content/YYYY/ and print its path.", "builder.new")
    new.add_argument("title", help="the headline")
    new.add_argument("--country", action="append", default=[], metavar="NAME",
                     help="a country (any spelling a build accepts: 'JP', 'U.S.'…); repeatable")
    new.add_argument("--topic", action="append", default=[], metavar="NAME", help="a topic; repeatable")
    new.add_argument("--slug", default="", help="the slug (default: from the title)")
    new.add_argument("--draft", action="store_true", help="mark it draft: true")
    new.add_argument("--author", action="append", default=[], metavar="NAME",
                     help="an author (a slug or name of site.toml's [authors] when it has them); repeatable")
    new.add_argument("--story", default="", metavar="NAME", help="the running story it is part of")

    imported = command("import", site_only, "turn plain-text articles into Markdown articles",
                       "Turn plain-text articles into Markdown articles, proposing countries and related "
                       "links.", "builder.importer")
    imported.add_argument("files", nargs="+", type=Path, metavar="FILE", help="plain-text article(s)")
    imported.add_argument("--title", default="", help="the headline (one FILE only)")
    imported.add_argument("--slug", default="", help="the slug (one FILE only; default: from the title)")
    imported.add_argument("--date", default="", help="YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]")
    imported.add_argument("--country", action="append", default=[], metavar="NAME",
                          help="use these countries instead of the detected ones; repeatable")
    imported.add_argument("--topic", action="append", default=[], metavar="NAME", help="a topic; repeatable")
    imported.add_argument("--author", action="append", default=[], metavar="NAME",
                          help="an author (a slug or name of site.toml's [authors] when it has them); repeatable")
    imported.add_argument("--story", default="", metavar="NAME", help="the running story they are part of")
    imported.add_argument("--dry-run", action="store_true", help="print the articles instead of writing them")

    renamed = command("rename", site_only, "change an article's slug; its old address redirects",
                      "Change an article's slug: its old address becomes an alias (a page that redirects), "
                      "and every related list naming it follows. All files change, or none.", "builder.rename")
    renamed.add_argument("old", metavar="OLD-SLUG", help="the article's slug now")
    renamed.add_argument("new", metavar="NEW-SLUG", help="the slug it gets")

    report = command("report", with_site, "counts and editorial checks on the archive",
                     "Count articles per country, topic and year, and list what needs an editor's care.",
                     "builder.report")
    report.add_argument("--out", type=Path, metavar="DIR",
                        help="built output folder to measure (default: site.toml's output)")
    report.add_argument("--json", action="store_true", help="print JSON for scripts")

    deploy = command("deploy", site_only, "build and publish the site to a branch (gh-pages) or a bucket",
                     "Build the site and publish it: as one new commit on a branch (gh-pages), pushed to "
                     "a remote, or with --to s3://BUCKET[/PREFIX] to object storage, uploading only what "
                     "changed.", "builder.deploy")
    deploy.add_argument("--base-url", metavar="URL", help="override site.toml's base_url")
    deploy.add_argument("--remote", help="git remote name or URL (default: [deploy] remote)")
    deploy.add_argument("--branch", help="branch to publish to (default: [deploy] branch)")
    deploy.add_argument("--to", metavar="s3://BUCKET[/PREFIX]",
                        help="publish to an S3 bucket (Amazon S3, R2, GCS, MinIO…) instead of a branch")
    deploy.add_argument("--endpoint-url", metavar="URL",
                        help="with --to: the S3 API endpoint (default: [s3] endpoint_url, else Amazon S3's)")
    deploy.add_argument("--dry-run", action="store_true",
                        help="with --to: print what would be uploaded and deleted; change nothing in the bucket")
    return parser


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", metavar="URL", help="override site.toml's base_url")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: site.toml's output)")
    parser.add_argument("--no-search", action="store_true", help="skip the search index")


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    """Run one command; return its exit code (never raises, but for SystemExit from --help)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["build", *argv]
    args = make_parser().parse_args(argv)
    console = console or Console(getattr(args, "verbosity", NORMAL))
    console.verbosity = getattr(args, "verbosity", NORMAL)
    args.console = console
    try:
        return _run(args, console)
    except BuildFailed as failed:
        for problem in failed.problems:
            console.problem(str(problem))
        console.error(f"{plural(len(failed.problems), 'problem')} found; nothing was written")
        return EXIT_PROBLEMS
    except UsageError as error:
        console.error(str(error))
        return EXIT_USAGE
    except ToolFailed as failed:
        console.error(str(failed))
        console.info("the build stopped; the output folder was left as it was")
        return EXIT_TOOL
    except FinishedFirst as late:
        console.error(str(late))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        console.error("interrupted; the output folder and the cache were left as they were")
        return EXIT_INTERRUPTED
    except OSError as error:  # disk full, permissions, a read-only folder…
        where = f"{error.filename}: " if error.filename else ""
        console.error(f"{where}{error.strerror or error}; the output folder was left as it was")
        return EXIT_TOOL
    except Exception as error:  # a bug: one line for the user, the traceback in a file
        console.error(f"internal error ({type(error).__name__}: {_shortened(str(error))}); "
                      f"this is a bug in builder {__version__}: the traceback is in {_crash_log()}")
        return EXIT_TOOL


def _run(args, console: Console) -> int:
    command = args.command
    if command in ("build", "check", "serve", "clean", "report", "deploy", "new", "import", "rename"):
        from builder.config import check_site_folder
        check_site_folder(args.site)
    if command == "build":
        return _build(args, console)
    if command == "check":
        return _check(args, console)
    if command == "clean":
        return _clean(args, console)
    if command == "serve":
        return _serve(args, console)
    import importlib
    return importlib.import_module(args.module).run(args)


def _build(args, console: Console) -> int:
    from builder.build import BuildOptions, build
    options = BuildOptions(site=args.site, drafts=args.drafts, base_url=args.base_url, out=args.out,
                           search=not args.no_search, cache=not args.no_cache, jobs=args.jobs, future=args.future)
    progress = console.progress()
    try:
        result = build(options, progress=progress)
    finally:
        progress.close()
    over = _over_limits(args, result) if args.strict else []
    for note in result.notes:
        if not any(note.startswith(excess.message) for excess in over):
            console.note(note)
    if result.full_because:
        console.detail(f"whole site rebuilt: {result.full_because}")
    console.summary(result.summary())
    if over:
        for excess in over:
            console.problem(f"{result.output}: {excess.message}")
        console.error(f"the output is over {plural(len(over), 'limit')} of its host (--strict); it was written "
                      "to the output folder, but do not publish it")
        return EXIT_PROBLEMS
    return EXIT_OK


def _over_limits(args, result) -> list:
    from builder.config import load_config
    from builder.hosting import over_limits
    return over_limits(load_config(args.site, args.base_url), result.output)


def _check(args, console: Console) -> int:
    from builder.build import BuildOptions, check
    progress = console.progress()
    try:
        result = check(BuildOptions(site=args.site, drafts=args.drafts, future=args.future), progress=progress)
    finally:
        progress.close()
    for note in result.notes:
        console.note(note)
    scheduled = (f"; {plural(result.scheduled, 'scheduled article')} held back, the next due "
                 f"{result.next_due.replace('+00:00', 'Z')}") if result.scheduled else ""
    console.summary(f"ok: {plural(result.articles, 'article')}, {plural(result.pages, 'page')}, no problems"
                    + scheduled)
    return EXIT_OK


def _clean(args, console: Console) -> int:
    from builder.cache import clean
    from builder.config import load_config
    folder = load_config(args.site).cache_dir
    console.summary(f"removed {folder}" if clean(folder) else f"no cache at {folder}")
    return EXIT_OK


def _serve(args, console: Console) -> int:
    from builder.build import BuildOptions
    from builder.serve import ServeOptions, serve
    options = BuildOptions(site=args.site, drafts=args.drafts, base_url=args.base_url, out=args.out,
                           search=not args.no_search, future=args.future)
    return serve(options, ServeOptions(host=args.host, port=args.port, poll=args.poll,
                                       open_host=args.expose), log=console.info)


def _shortened(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _crash_log() -> str:
    """Write the current exception's traceback to a log file; return its path."""
    handle, path = tempfile.mkstemp(prefix="builder-crash-", suffix=".log")
    with os.fdopen(handle, "w", encoding="utf-8") as log:
        log.write(f"builder {__version__}, Python {sys.version.split()[0]}\n")
        log.write(f"command: {' '.join(sys.argv)}\n\n")
        log.write(traceback.format_exc())
    return path


def entry_point() -> None:
    """The ``builder`` command (and ``python -m builder``)."""
    try:
        code = main()
    except KeyboardInterrupt:  # before main's own handler is in place (while modules load)
        print("error: interrupted; nothing was changed", file=sys.stderr)
        code = EXIT_INTERRUPTED
    if sys.getprofile() is None and sys.gettrace() is None:  # no profiler or coverage waiting to report
        sys.stdout.flush()
        sys.stderr.flush()
        # A build leaves millions of objects behind (articles, pages, the archive): freeing them
        # one by one at exit took 0.3 s at 10,000 articles. Every file the build wrote is closed
        # and every worker has ended by now, so the process can end without that teardown.
        from builder import classcode
        classcode.save()  # what atexit would have done
        os._exit(code)
    sys.exit(code)
