"""The command line: ``python -m builder [build|check|…]``.

Exit codes: 0 success; 1 the input has problems (each printed as
``path:line: message``); 2 wrong usage; 3 a tool the build needs failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from builder import __version__, deploy, importer, new, report
from builder.build import BuildOptions, build
from builder.problems import BuildFailed, ToolFailed

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_TOOL = 0, 1, 2, 3


def _site_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", type=Path, default=Path("."),
                        help="site folder holding site.toml and content/ (default: current folder)")
    parser.add_argument("--drafts", action="store_true", help="include articles marked draft: true")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m builder",
                                     description="Build a static site from a news archive.")
    parser.add_argument("--version", action="version", version=f"builder {__version__}")
    commands = parser.add_subparsers(dest="command")

    build_parser = commands.add_parser("build", help="build the site into the output folder (default)")
    _site_arguments(build_parser)
    build_parser.add_argument("--base-url", help="override site.toml's base_url")
    build_parser.add_argument("--out", type=Path, help="output folder (default: site.toml's output)")
    build_parser.add_argument("--no-search", action="store_true", help="skip the search index")
    build_parser.add_argument("--no-cache", action="store_true",
                              help="ignore and leave alone the cache (a cold build)")
    build_parser.add_argument("--jobs", type=int, default=0,
                              help="worker processes (default: one per core)")

    serve_parser = commands.add_parser("serve", help="build, serve on 127.0.0.1 and rebuild on changes")
    _site_arguments(serve_parser)
    serve_parser.add_argument("--base-url", help="override site.toml's base_url")
    serve_parser.add_argument("--out", type=Path, help="output folder (default: site.toml's output)")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; next free one if taken)")
    serve_parser.add_argument("--expose", action="store_true",
                              help="allow a --host other machines can reach (prints a warning)")
    serve_parser.add_argument("--poll", action="store_true",
                              help="poll for changes (network mounts, containers without inotify)")
    serve_parser.add_argument("--no-search", action="store_true", help="skip the search index")

    clean_parser = commands.add_parser("clean", help="remove the cache folder")
    clean_parser.add_argument("--site", type=Path, default=Path("."), help="site folder")

    check_parser = commands.add_parser("check", help="validate everything and write nothing")
    _site_arguments(check_parser)
    for editorial in (new, importer, report):  # each adds its subcommand with a run(args) -> exit code
        editorial.add_command(commands)
    deploy.add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = make_parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["build", *argv]
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "check":
            return _check(args)
        if args.command == "clean":
            return _clean(args)
        if args.command == "serve":
            return _serve(args)
        if hasattr(args, "run"):
            return args.run(args)
    except BuildFailed as failed:
        for problem in failed.problems:
            print(problem, file=sys.stderr)
        count = len(failed.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found; nothing was written", file=sys.stderr)
        return EXIT_PROBLEMS
    except ToolFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        print("the build stopped; the output folder was left as it was", file=sys.stderr)
        return EXIT_TOOL
    parser.print_help()
    return EXIT_USAGE


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(message, file=sys.stderr)


def _build(args) -> int:
    options = BuildOptions(site=args.site, drafts=args.drafts, base_url=args.base_url, out=args.out,
                           search=not args.no_search, cache=not args.no_cache, jobs=args.jobs)
    result = build(options, progress=_progress)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(result.summary())
    return EXIT_OK


def _check(args) -> int:
    result = build(BuildOptions(site=args.site, drafts=args.drafts, write=False), progress=_progress)
    print(f"ok: {result.articles:,} articles, {result.pages:,} pages, no problems")
    return EXIT_OK


def _clean(args) -> int:
    from builder.cache import clean
    from builder.config import load_config
    folder = load_config(args.site).cache_dir
    print(f"removed {folder}" if clean(folder) else f"no cache at {folder}")
    return EXIT_OK


def _serve(args) -> int:
    from builder.serve import ServeOptions, serve
    options = BuildOptions(site=args.site, drafts=args.drafts, base_url=args.base_url, out=args.out,
                           search=not args.no_search)
    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
    return serve(options, ServeOptions(host=args.host, port=args.port, poll=args.poll,
                                       open_host=args.expose), log=log)
