"""The documentation tells the truth: docs/config.md matches the configuration schema, the
README stays a front door, every link between the documents resolves, and nothing points
at a folder a user's clone does not have."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

from builder.config import schema_keys
from conftest import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))


def config_rows() -> list[tuple[str, str]]:
    """(key, default column) of every row of the table in docs/config.md."""
    rows = []
    for line in (REPO / "docs/config.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([^`]+)` \| [^|]+ \| ([^|]+) \|", line)
        if match:
            rows.append((match[1], match[2].strip()))
    return rows


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, tuple):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    return json.dumps(value)


def test_the_config_reference_documents_every_key_of_the_schema_and_nothing_else():
    documented = config_rows()
    assert [key for key, _ in documented] == [k.key for k in schema_keys()]
    for (key, default), schema in zip(documented, schema_keys()):
        if schema.default != "":  # an empty default may be described ('the title')
            assert default == f"`{toml_value(schema.default)}`", key


def test_the_starter_site_toml_uses_only_schema_keys():
    data = tomllib.loads((REPO / "builder/starter/site.toml").read_text(encoding="utf-8"))
    known = {k.key for k in schema_keys()}
    for key, value in data.items():
        if isinstance(value, dict):
            assert all(f"[{key}] {sub}" in known for sub in value), key
        else:
            assert key in known, key


def test_the_readme_is_a_front_door():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= 16_000
    assert "## Contents" in readme and "## Quick start" in readme
    for doc in ("content", "config", "templates", "search", "deploy", "architecture", "benchmarks"):
        assert f"docs/{doc}.md" in readme, doc


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


def test_every_link_between_the_documents_resolves():
    broken = []
    for path in [REPO / "README.md", *DOCS]:
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        text = re.sub(r"`[^`\n]+`", "", text)  # inline code shows syntax, not links
        for target in re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text):
            if re.match(r"^[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"{path.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{path.name}: {target} (no such heading)")
    assert broken == []


def test_nothing_points_at_the_workplace_shared_folder():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    pointing = [name for name in tracked if name.endswith((".md", ".py", ".toml", ".yml", ".sh")) or name.startswith(".ci/")
                if "../shared" in (REPO / name).read_text(encoding="utf-8", errors="replace")
                and name != "tests/test_docs.py"]
    assert pointing == []


def test_no_tracked_file_is_larger_than_2_mb():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    large = [name for name in tracked if (REPO / name).is_file() and (REPO / name).stat().st_size > 2_000_000]
    assert large == []
