"""The command line: ``python -m builder [build|check|…]``.

Exit codes: 0 success; 1 the input has problems (each printed as
``path:line: message``); 2 wrong usage; 3 a tool the build needs failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from builder import __version__
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

    check_parser = commands.add_parser("check", help="validate everything and write nothing")
    _site_arguments(check_parser)
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
                           search=not args.no_search)
    result = build(options, progress=_progress)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(result.summary())
    return EXIT_OK


def _check(args) -> int:
    result = build(BuildOptions(site=args.site, drafts=args.drafts, write=False), progress=_progress)
    print(f"ok: {result.articles:,} articles, {result.pages:,} pages, no problems")
    return EXIT_OK
