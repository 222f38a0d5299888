"""Installed as a user installs it: a wheel (not an editable checkout) in a fresh virtual
environment, a new site started with ``builder init`` in a folder far from this
repository, built with zero broken links — the theme comes from inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO
from linkcheck import crawl

pytestmark = pytest.mark.slow  # builds a wheel and installs it with its dependencies


def run(*command, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh venv holding the builder's wheel (and its dependencies only)."""
    root = tmp_path_factory.mktemp("install")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", root / "dist", REPO, cwd=root)
    wheel = next((root / "dist").glob("builder-*.whl"))
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=root)
    return bin_dir


def test_the_wheel_carries_the_theme_and_the_starter_files(installed, tmp_path):
    where = run(installed / "python", "-c",
                "import builder.config as c, builder.init as i; print(c.DEFAULT_THEME); print(i.STARTER)",
                cwd=tmp_path).stdout.split()
    theme, starter = (Path(p) for p in where)
    assert "site-packages" in theme.parts and theme.name == "theme"
    assert REPO not in theme.parents  # the installed copy, not this checkout's templates/
    for name in ("base.html", "article.html", "static/style.css", "static/search.js"):
        assert (theme / name).is_file(), name
    assert {p.name for p in starter.iterdir()} >= {"site.toml", "example-article.md", "pages.yml"}


def test_init_then_build_with_the_installed_command(installed, tmp_path):
    away = tmp_path / "elsewhere"  # a folder that has nothing to do with this repository
    away.mkdir()
    run(installed / "builder", "init", "mysite", cwd=away)
    site = away / "mysite"
    assert (site / "site.toml").is_file() and list((site / "content").rglob("*.md"))
    built = run(installed / "builder", "build", "--site", "mysite", cwd=away)
    assert built.stdout.startswith("built ") and "from 1 article in" in built.stdout
    out = site / "output"
    report = crawl(out)
    assert report.pages >= 10 and report.broken == []
    assert (out / "static").is_dir() and (out / "pagefind").is_dir()
    version = run(installed / "python", "-m", "builder", "--version", cwd=away).stdout
    assert version.startswith("builder ")
