"""Deterministic output: the same input builds byte-identical trees, whatever the hash seed."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO, article, write_files


def build_with_seed(site, out, seed: str, *extra):
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONHASHSEED=seed)
    subprocess.run([sys.executable, "-m", "builder", "build", "--site", str(site), "--out", str(out), *extra],
                   cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return out


def tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_tree(first, second):
    a, b = tree(first), tree(second)
    assert sorted(a) == sorted(b)
    differing = [name for name in a if a[name] != b[name]]
    assert differing == []


def test_generated_archive_builds_identically_across_seeds_jobs_and_cache(corpus, tmp_path):
    """Cold in one process, cold in two workers, then twice with the cache (filled, then warm):
    four hash seeds, one output."""
    outs = [build_with_seed(corpus, tmp_path / "cold-1", "1", "--no-cache", "--jobs", "1"),
            build_with_seed(corpus, tmp_path / "cold-2", "2", "--no-cache", "--jobs", "2"),
            build_with_seed(corpus, tmp_path / "cache-fill", "3"),
            build_with_seed(corpus, tmp_path / "cache-warm", "4")]
    assert len(tree(outs[0])) > 500
    for other in outs[1:]:
        assert_same_tree(outs[0], other)


def test_ties_and_spellings_build_identically_across_hash_seeds(tmp_path):
    """Equal counts of two spellings, same-time articles and many shared terms: every
    tie must be broken by something other than set or dict order."""
    files = {
        "site.toml": 'timezone = "Europe/Berlin"\npage_size = 2\n',
        "content/a.md": article("A", "2025-06-13T10:00:00", topics="[Trade, Oil and gas]",
                                countries="[US, Japan, Germany]"),
        "content/b.md": article("B", "2025-06-13T10:00:00", topics="[trade, 'Oil and Gas']",
                                countries="[U.S., JP, DE]"),
        "content/c.md": article("C", "2025-06-13T10:00:00", topics="[TRADE, oil and gas, Tariffs]",
                                countries="[United States, Germany]", mood="{a: 1, b: [2, 3]}"),
        "content/d.md": article("D", "2025-06-12", topics="[Tariffs, Autos]", countries="[Japan]",
                                related="[a, b, {title: Elsewhere, url: 'https://example.org/'}]"),
        "content/e.md": article("E", "2025-06-12", topics="[Autos]", countries="[Germany, Japan, US]"),
    }
    site = write_files(tmp_path / "site", files)
    outs = [build_with_seed(site, tmp_path / f"out-{seed}", seed, "--no-search") for seed in ("0", "1", "2", "3")]
    for other in outs[1:]:
        assert_same_tree(outs[0], other)


def test_sample_site_builds_identically_twice(tmp_path):
    first = build_with_seed(REPO, tmp_path / "one", "random")
    second = build_with_seed(REPO, tmp_path / "two", "random")
    assert_same_tree(first, second)


def test_second_build_rewrites_nothing(tmp_path):
    """Unchanged pages are carried over as they are: same bytes, inode and modification time."""
    site = write_files(tmp_path / "site", {"content/a.md": article("A", "2025-06-13", topics="[Trade]"),
                                           "content/b.md": article("B", "2025-06-14", related="[a]")})
    out = build_with_seed(site, tmp_path / "out", "0", "--no-search")

    def state():
        # The marker file says "made by builder"; it is not part of the site.
        return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
                for p in sorted(out.rglob("*")) if p.is_file() and p.name != ".builder-output"}

    before = state()
    build_with_seed(site, out, "1", "--no-search")
    assert state() == before
