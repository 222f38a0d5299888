"""Deploy: build the site and publish it, to a branch (``gh-pages``) with plain git, or to
object storage with ``--to s3://BUCKET[/PREFIX]`` (builder.s3).

Branch route: the user's checkout is never touched: the output folder is committed
through a temporary index file, so HEAD, the real index and the working
files stay as they were. The new commit follows the remote branch's
history (one commit per deploy) and is pushed to ``[deploy] remote``.

Both routes refuse uncommitted changes in the site's git checkout and a build with
problems (nothing is published); object storage also publishes a site folder that is
in no git repository, with a note that nothing could be checked.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from builder import __version__
from builder.build import BuildOptions, build
from builder.config import load_config
from builder.console import Console
from builder.hosting import local_build_note
from builder.output import MARKER
from builder.problems import BuildFailed, Problem, UsageError

EXIT_OK, EXIT_TOOL = 0, 3  # as in builder.cli
NOJEKYLL = ".nojekyll"  # without it GitHub Pages runs Jekyll, which drops files starting with '_'


class DeployFailed(Exception):
    """git could not do what deploy needs (no remote, push rejected…)."""


@dataclass(frozen=True)
class DeployResult:
    """What a deploy published."""

    remote: str
    branch: str
    commit: str  # full hash of the branch's new tip
    changed: bool  # False: the branch already held exactly this site
    files: int  # files in the published tree


def run(args: argparse.Namespace) -> int:
    """``python -m builder deploy``: BuildFailed (refusals, bad input) goes up to the CLI."""
    console = args.console
    if args.to:
        return _run_object_storage(args)
    if args.endpoint_url or args.dry_run:
        raise UsageError("--endpoint-url and --dry-run go with --to s3://BUCKET[/PREFIX]")
    try:
        result = deploy(args.site, base_url=args.base_url, remote=args.remote, branch=args.branch,
                        console=console)
    except DeployFailed as failed:
        console.error(f"deploy failed: {failed}")
        return EXIT_TOOL
    if result.changed:
        console.summary(f"published {result.files:,} files to {result.remote} {result.branch} ({result.commit[:12]})")
    else:
        console.summary(f"{result.remote} {result.branch} already holds this site ({result.commit[:12]})")
    return EXIT_OK


def _run_object_storage(args: argparse.Namespace) -> int:
    """``deploy --to s3://BUCKET[/PREFIX]``: check the checkout, build, sync the output to the bucket."""
    from builder import s3
    destination = s3.parse_destination(args.to)
    if args.remote or args.branch:
        raise UsageError("--remote and --branch are for the branch route; --to s3://… publishes to a bucket")
    console = args.console
    config = load_config(args.site, args.base_url)
    try:
        git = Git(_repository_of(config.root))
    except (BuildFailed, FileNotFoundError):  # no repository here, or no git at all
        git = None
        console.note(f"{config.root} is not in a git repository, so uncommitted changes cannot be "
                     "refused: publishing the site folder as it is")
    if git is not None:
        _refuse_unsafe_checkout(git, None, (config.output_dir, config.cache_dir))
    result = build(BuildOptions(site=config.root, base_url=args.base_url))  # BuildFailed: nothing is uploaded
    for note in [*result.notes, local_build_note(config)]:
        if note:
            console.note(note)
    console.summary(result.summary())
    try:
        synced = s3.sync(result.output, destination, config, endpoint_url=args.endpoint_url or config.s3.endpoint_url,
                         dry_run=args.dry_run, log=console.info, note=console.note)
    except s3.S3Failed as failed:
        console.error(f"deploy failed: {failed}")
        console.info("the bucket still serves a complete site (nothing is deleted before every upload "
                     "succeeded); deploy again to finish")
        return EXIT_TOOL
    if args.dry_run:
        for line in synced.actions():
            console.result(line)
    console.summary(synced.summary())
    return EXIT_OK


def deploy(site: Path, base_url: str | None = None, remote: str | None = None,
           branch: str | None = None, console=None) -> DeployResult:
    """Check the checkout, build, commit the output to ``branch`` and push it to ``remote``."""
    config = load_config(site, base_url)
    remote = remote or config.deploy.remote
    branch = branch or config.deploy.branch
    git = Git(_repository_of(config.root))
    _refuse_unsafe_checkout(git, branch, (config.output_dir, config.cache_dir))
    remote_tip = _remote_tip(git, remote, branch)

    console = console or Console()
    result = build(BuildOptions(site=config.root, base_url=base_url))  # BuildFailed: nothing is published
    for note in [*result.notes, local_build_note(config)]:
        if note:
            console.note(note)
    console.summary(result.summary())

    extra = {NOJEKYLL: ""}
    if config.deploy.cname:
        extra["CNAME"] = config.deploy.cname.strip() + "\n"
    tree, files = _tree_of(git, result.output, extra)
    parent = remote_tip or git.resolve(f"refs/heads/{branch}")
    if parent and git.run("rev-parse", f"{parent}^{{tree}}") == tree:
        commit, changed = parent, False
    else:
        source = git.resolve("HEAD")
        message = (f"Publish site from {source[:12] if source else 'an unborn branch'}\n\n"
                   f"Built by builder {__version__}: {result.pages:,} pages from {result.articles:,} articles.")
        commit = git.run("commit-tree", tree, *(["-p", parent] if parent else []), "-m", message)
        changed = True
    git.run("push", "--quiet", remote, f"{commit}:refs/heads/{branch}")
    git.run("update-ref", "-m", "builder deploy", f"refs/heads/{branch}", commit)  # after the push succeeded
    return DeployResult(remote=remote, branch=branch, commit=commit, changed=changed, files=files)


class Git:
    """git commands in one repository; a failure raises DeployFailed with git's message."""

    def __init__(self, top: Path):
        self.top = top

    def run(self, *args: str, env: dict | None = None, cwd: Path | None = None, stdin: str | None = None,
            strip: bool = True) -> str:
        completed = subprocess.run(["git", *args], cwd=cwd or self.top, env=env, input=stdin,
                                   capture_output=True, text=True)
        if completed.returncode != 0:
            message = (completed.stderr or completed.stdout).strip()
            raise DeployFailed(f"git {args[0]}: {message}")
        return completed.stdout.strip() if strip else completed.stdout

    def resolve(self, name: str) -> str:
        """The commit ``name`` points at ('' when it does not exist)."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
        except DeployFailed:
            return ""


def _repository_of(root: Path) -> Path:
    completed = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root,
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise BuildFailed([Problem(str(root), 0, "refusing to deploy: the site folder is not in a git "
                                                 "repository (deploy publishes to a branch of it)")])
    return Path(completed.stdout.strip()).resolve()


def _refuse_unsafe_checkout(git: Git, branch: str | None, generated: tuple[Path, ...]) -> None:
    """Refuse a dirty working tree (what is published must be committed) or the deploy branch
    checked out (``branch`` None: no branch is published to)."""
    excluded = [f":(exclude){path.relative_to(git.top).as_posix()}"
                for path in generated if path.is_relative_to(git.top) and path != git.top]
    status = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--", ".", *excluded,
                     strip=False)
    problems = [Problem(path, 0, "uncommitted change: commit or stash it before deploying")
                for path in _changed_paths(status)]
    try:
        current = git.run("symbolic-ref", "--quiet", "--short", "HEAD")
    except DeployFailed:
        current = ""  # a detached HEAD is on no branch
    if branch is not None and current == branch:
        problems.append(Problem(str(git.top), 0, f"refusing to deploy: the deploy branch '{branch}' is "
                                                 "checked out here; switch to your source branch"))
    if problems:
        raise BuildFailed(problems)


def _changed_paths(status: str) -> list[str]:
    """Paths from ``git status --porcelain -z``: 'XY path' entries split by NUL, where a
    rename or copy is followed by one more entry holding its old path."""
    entries = iter(status.split("\0"))
    paths = []
    for entry in entries:
        if entry:
            paths.append(entry[3:])
            if "R" in entry[:2] or "C" in entry[:2]:
                next(entries, None)
    return paths


def _remote_tip(git: Git, remote: str, branch: str) -> str:
    """The remote branch's commit, fetched ('' when the remote has no such branch yet)."""
    listed = git.run("ls-remote", "--heads", remote, f"refs/heads/{branch}")
    if not listed:
        return ""
    git.run("fetch", "--quiet", "--no-tags", remote, f"refs/heads/{branch}")
    return git.run("rev-parse", "FETCH_HEAD")


def _tree_of(git: Git, output: Path, extra: dict[str, str]) -> tuple[str, int]:
    """Write the output folder (plus ``extra`` files) as a git tree; return its hash and file count."""
    with tempfile.TemporaryDirectory(prefix="builder-deploy-") as folder:
        # The repository's objects, the output folder as work tree, a throwaway index.
        env = dict(os.environ, GIT_DIR=git.run("rev-parse", "--absolute-git-dir"),
                   GIT_WORK_TREE=str(output), GIT_INDEX_FILE=str(Path(folder) / "index"))
        # --force: the user's ignore rules must not drop files from the published site.
        git.run("add", "--all", "--force", ".", env=env, cwd=output)
        git.run("rm", "--cached", "--quiet", "--ignore-unmatch", MARKER, env=env, cwd=output)
        for name, text in extra.items():
            blob = git.run("hash-object", "-w", "--stdin", stdin=text)
            git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", env=env, cwd=output)
        files = len(git.run("ls-files", env=env, cwd=output).splitlines())
        return git.run("write-tree", env=env, cwd=output), files
