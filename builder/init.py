"""Init: ``builder init [DIR]`` starts a new archive from the starter files.

Writes a commented ``site.toml``, ``content/`` with one example article (placeholder
text, marked as such), a ``.gitignore`` for what the builder makes, and a GitHub Pages
workflow with the ``requirements.txt`` it installs the builder from. Refuses a folder
that already holds a site, and never replaces a file: either every file is written or none.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from builder import __version__
from builder.config import CONFIG_FILE
from builder.problems import UsageError

STARTER = Path(__file__).resolve().parent / "starter"
PLACEHOLDER_ORIGIN = "YOUR-ORG"  # in a requirement nobody filled in yet (the workflow refuses it)
EXAMPLE_PATH = "content/{year}/example-article.md"


@dataclass(frozen=True)
class StarterFile:
    relative: str  # path in the new site
    text: str


def requirement() -> str:
    """Where a site's CI installs the builder from: this install's own git source when pip
    recorded one (PEP 610), else a placeholder the site owner replaces."""
    try:
        direct = metadata.distribution("builder").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        direct = None
    if direct:
        try:
            info = json.loads(direct)
        except ValueError:
            info = {}
        vcs = info.get("vcs_info") or {}
        if vcs.get("vcs") == "git" and info.get("url", "").startswith("https://"):
            return f"builder @ git+{info['url']}@{vcs.get('commit_id') or vcs.get('requested_revision')}"
    return f"builder @ git+https://github.com/{PLACEHOLDER_ORIGIN}/builder@v{__version__}"


def starter_files(today: dt.date, pinned: str) -> list[StarterFile]:
    """The files of a new site."""
    read = lambda name: (STARTER / name).read_text(encoding="utf-8")  # noqa: E731
    return [
        StarterFile(CONFIG_FILE, read("site.toml")),
        StarterFile(EXAMPLE_PATH.format(year=today.year),
                    read("example-article.md").replace("{date}", today.isoformat())),
        StarterFile(".gitignore", read("gitignore")),
        StarterFile("requirements.txt",
                    "# The builder this site is built with (pin a tag or a commit; see docs/deploy.md).\n"
                    + read("requirements.txt").replace("{requirement}", pinned)),
        StarterFile(".github/workflows/pages.yml", read("pages.yml")),
    ]


def init_site(folder: Path, pinned: str = "", today: dt.date | None = None) -> list[str]:
    """Write a new site into ``folder``; return the files written (relative paths)."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; give a folder for the new site")
    if (folder / CONFIG_FILE).exists() or (folder / "content").exists():
        raise UsageError(f"{folder} already holds a site ({CONFIG_FILE} or content/ is there); "
                         "nothing was written")
    files = starter_files(today or dt.datetime.now(dt.timezone.utc).date(), pinned or requirement())
    taken = [f.relative for f in files if (folder / f.relative).exists()]
    if taken:
        raise UsageError(f"{folder} already has {', '.join(taken)}; move {'it' if len(taken) == 1 else 'them'} "
                         "away first (nothing was written)")
    written: list[Path] = []
    try:
        for starter in files:
            path = folder / starter.relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8", newline="\n") as handle:  # "x": never replaces a file
                handle.write(starter.text)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return [f.relative for f in files]


def run(args) -> int:
    console = args.console
    written = init_site(args.folder, args.requirement)
    for relative in written:
        console.info(f"wrote {args.folder / relative}")
    pinned = (args.folder / "requirements.txt").read_text(encoding="utf-8")
    if PLACEHOLDER_ORIGIN in pinned:
        console.note(f"{args.folder / 'requirements.txt'} names a placeholder ({PLACEHOLDER_ORIGIN}): set it to "
                     "where your builder comes from before the GitHub Pages workflow can run")
    where = "" if args.folder == Path(".") else f" --site {args.folder}"
    console.summary(f"started a new archive in {args.folder}; preview it with: builder serve{where}")
    return 0
