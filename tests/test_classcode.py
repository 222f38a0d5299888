"""The table of dataclass code: written once, then reused, and the classes it makes behave
as freshly compiled ones do. Each case runs a new Python with its own pycache prefix, so
the table lives under tmp_path and no other test sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import REPO, article, write_files

PROBE = """
import dataclasses, json
import builder.model, builder.pages  # the package's own classes, created through the table
from builder import classcode

@dataclasses.dataclass(frozen=True)
class Probe:
    name: str
    count: int = 0
    tags: tuple = ()

a, b = Probe("x", 2), Probe("x", 2)
try:
    a.count = 3
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(json.dumps({
    "compiled": classcode._compiled,
    "table": classcode.table_path(),
    "same": a == b and hash(a) == hash(b) and a != Probe("y"),
    "repr": repr(a),
    "frozen": frozen,
    "defaults": Probe("z").count == 0 and Probe("z").tags == (),
    "init_returns": repr(Probe.__init__.__annotations__.get("return")),
}))
"""


def environment(tmp_path, **env) -> dict:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environment.update(PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"), **env)
    return environment


def probe(tmp_path, **env) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env=environment(tmp_path, **env), cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def behaves(run: dict) -> None:
    assert run["same"] and run["frozen"] and run["defaults"]
    assert run["repr"] == "Probe(name='x', count=2, tags=())"
    assert run["init_returns"] == "None"  # compiled without any caller's __future__ flags


def test_the_second_command_compiles_no_dataclass_code(tmp_path):
    first = probe(tmp_path)
    assert first["compiled"] > 50 and os.path.isfile(first["table"])
    assert first["table"].startswith(str(tmp_path / "pycache"))
    second = probe(tmp_path)
    assert second["compiled"] == 0
    behaves(first)
    behaves(second)


def test_nothing_is_written_when_python_writes_no_bytecode(tmp_path):
    run = probe(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert run["compiled"] > 50 and not os.path.exists(run["table"])
    behaves(run)


def test_a_damaged_or_foreign_table_is_compiled_again(tmp_path):
    table = probe(tmp_path)["table"]
    for damage in (b"", b"not a table", open(table, "rb").read()[:-100], b"\0\0\0\0" + open(table, "rb").read()[4:]):
        with open(table, "wb") as file:
            file.write(damage)
        run = probe(tmp_path)
        assert run["compiled"] > 50
        behaves(run)
        assert probe(tmp_path)["compiled"] == 0  # and written again whole


def test_a_build_command_writes_the_table_though_it_ends_without_atexit(tmp_path):
    site = write_files(tmp_path / "site", {"site.toml": 'title = "T"\n',
                                           "content/a.md": article("A", "2025-06-01")})
    result = subprocess.run([sys.executable, "-m", "builder", "build", "--site", str(site), "--no-search"],
                            capture_output=True, text=True, env=environment(tmp_path), cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    run = probe(tmp_path)
    assert os.path.isfile(run["table"])
    assert run["compiled"] < 10  # only the probe's own class: the build's were in the table
    behaves(run)
