"""The default theme's compiled templates and the templates' analysis, kept beside the
package's bytecode: a build without a cache compiles and analyses nothing the last one did,
its pages are the same bytes, and a broken or changed template is still found. Each case runs
a new Python with its own pycache prefix, so what is kept lives under tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, article, write_files

# A build in this process (--jobs 1), counting what Jinja compiled and how often the
# templates were analysed.
PROBE = """
import json, sys
import jinja2
import builder.templates
from builder import theme_code
from builder.cli import main

counts = {"compiled": 0, "analysed": 0}
compile_ = jinja2.Environment.compile
def counted(self, *args, **kwargs):
    counts["compiled"] += 1
    return compile_(self, *args, **kwargs)
jinja2.Environment.compile = counted
reading = builder.templates.templates_reading
def analysed(*args, **kwargs):
    counts["analysed"] += 1
    return reading(*args, **kwargs)
builder.templates.templates_reading = analysed
code = main(sys.argv[1:] + ["--jobs", "1", "--no-search", "-q"])
counts["code"] = code
counts["folder"] = str(theme_code.folder())
print(json.dumps(counts))
"""


def environment(tmp_path, **env) -> dict:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environment.update(PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"), **env)
    return environment


def build(tmp_path, site: Path, *args: str, **env) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, "build", "--site", str(site), *args],
                            capture_output=True, text=True, env=environment(tmp_path, **env), cwd=tmp_path,
                            timeout=300)
    assert result.stdout, result.stderr
    run = json.loads(result.stdout.strip().splitlines()[-1])
    run["stderr"] = result.stderr
    return run


def site_of(tmp_path, **templates: str) -> Path:
    files = {"site.toml": 'title = "T"\n', "content/a.md": article("A", "2025-06-01", countries="[Japan]"),
             "content/b.md": article("B", "2025-07-01", topics="[Trade]")}
    files.update({f"templates/{name}": text for name, text in templates.items()})
    return write_files(tmp_path / "site", files)


def pages(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_second_build_without_a_cache_compiles_and_analyses_no_theme_template(tmp_path):
    site = site_of(tmp_path)
    first = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "one"))
    assert first["code"] == 0, first["stderr"]
    assert first["compiled"] > 20 and first["analysed"] == 1
    kept = Path(first["folder"])
    assert kept.is_relative_to(tmp_path / "pycache")
    assert len(list(kept.glob("*.cache"))) == first["compiled"] and (kept / "template-facts.json").is_file()
    second = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "two"))
    assert second["code"] == 0, second["stderr"]
    assert second["compiled"] == 0 and second["analysed"] == 0
    assert pages(tmp_path / "one") == pages(tmp_path / "two")
    # A first build that fills the site's cache starts from them too.
    third = build(tmp_path, site, "--out", str(tmp_path / "three"))
    assert third["code"] == 0 and third["compiled"] == 0 and third["analysed"] == 0
    assert pages(tmp_path / "three") == pages(tmp_path / "one")


def test_nothing_is_kept_when_python_writes_no_bytecode(tmp_path):
    site = site_of(tmp_path)
    for _ in range(2):
        run = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "out"), PYTHONDONTWRITEBYTECODE="1")
        assert run["code"] == 0 and run["compiled"] > 20 and run["analysed"] == 1
    assert not Path(run["folder"]).exists()


def test_a_site_template_is_compiled_for_the_site_and_a_broken_one_is_still_reported(tmp_path):
    own = '{% extends "base.html" %}{% block main %}<h1>{{ page.title }}</h1>own{% endblock %}\n'
    site = site_of(tmp_path, **{"term.html": own})
    first = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "one"))
    assert first["code"] == 0, first["stderr"]
    second = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "two"))
    # The site's template is not the theme's: compiled again without a cache, never kept in the package.
    assert second["compiled"] == 1 and second["analysed"] == 0
    assert not any(b"</h1>own" in p.read_bytes() for p in Path(first["folder"]).glob("*.cache"))
    assert pages(tmp_path / "one") == pages(tmp_path / "two")
    assert b"own" in (tmp_path / "two" / "countries" / "japan" / "index.html").read_bytes()
    (site / "templates" / "term.html").write_text(own.replace("{% endblock %}", "{% if %}{% endblock %}"))
    broken = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "three"))
    assert broken["code"] == 1
    assert "templates/term.html:1: template syntax error" in broken["stderr"]


def test_a_damaged_compiled_template_or_analysis_is_made_again(tmp_path):
    site = site_of(tmp_path)
    first = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "one"))
    kept = Path(first["folder"])
    for path in kept.glob("*.cache"):
        path.write_bytes(path.read_bytes()[:40])
    (kept / "template-facts.json").write_text("{not json")
    again = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "two"))
    assert again["code"] == 0, again["stderr"]
    assert again["compiled"] == first["compiled"] and again["analysed"] == 1
    assert pages(tmp_path / "one") == pages(tmp_path / "two")
    assert build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "three"))["compiled"] == 0
    # Valid JSON of the wrong shape (a name where a list belongs) is analysed again too.
    table = json.loads((kept / "template-facts.json").read_text())
    (kept / "template-facts.json").write_text(json.dumps({key: {"archive": "article.html", "body_html": []}
                                                          for key in table}))
    assert build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "four"))["analysed"] == 1
    assert pages(tmp_path / "four") == pages(tmp_path / "one")


def test_a_read_only_package_folder_builds_as_before(tmp_path):
    site = site_of(tmp_path)
    prefix = tmp_path / "pycache"
    prefix.mkdir()
    prefix.chmod(0o555)
    try:
        if os.access(prefix, os.W_OK):  # root writes anywhere: a file in the way instead
            prefix.chmod(0o755)
            prefix.rmdir()
            prefix.write_text("not a folder")
        run = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "out"))
    finally:
        if prefix.is_dir():
            prefix.chmod(0o755)
    assert run["code"] == 0, run["stderr"]
    assert run["compiled"] > 20 and "Traceback" not in run["stderr"]
    assert (tmp_path / "out" / "index.html").is_file()


def test_a_damaged_template_in_the_sites_cache_is_compiled_again(tmp_path):
    site = site_of(tmp_path, **{"_footer.html": '<footer class="site-footer">Own footer</footer>\n'})
    assert build(tmp_path, site, "--out", str(tmp_path / "one"))["code"] == 0
    damaged = list((site / ".cache" / "templates").glob("*"))
    assert damaged  # the site's own template, compiled into its cache
    for path in damaged:
        path.write_bytes(path.read_bytes()[:40])
    (site / "content" / "a.md").write_text(article("A", "2025-06-01", countries="[Japan]", body="Edited."))
    again = build(tmp_path, site, "--out", str(tmp_path / "one"))
    assert again["code"] == 0, again["stderr"]
    assert "Own footer" in (tmp_path / "one" / "index.html").read_text()


def test_the_folders_of_other_code_are_kept_to_the_newest_three(tmp_path):
    site = site_of(tmp_path)
    first = build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "one"))
    kept = Path(first["folder"])
    tag = kept.name.rsplit(".", 1)[1]
    shutil.rmtree(kept)
    others = [kept.parent / f"theme-{n:012d}.{tag}" for n in range(5)]
    for age, other in enumerate(others):
        other.mkdir()
        os.utime(other, (1_000_000 + age, 1_000_000 + age))
    assert build(tmp_path, site, "--no-cache", "--out", str(tmp_path / "two"))["code"] == 0
    assert kept.is_dir()
    assert [other.exists() for other in others] == [False, False, True, True, True]
