"""Host limits: one table (builder.hosting, shown with its sources in docs/deploy.md), the
output measured against ``[hosting] target`` by build (a warning, or a failure with
``--strict``) and by report with the same numbers; one content-type table for the preview
server and the object-storage deploy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builder import hosting
from builder.hosting import Host, Limit, Measure, check_limits, content_type, host_table, measure
from conftest import REPO, article, counts, messages, run_cli, write_files

MIB = 1024 ** 2


def docs_limit_rows() -> dict[str, list[str]]:
    """target -> the cells of its row in docs/deploy.md's table of host limits."""
    text = (REPO / "docs/deploy.md").read_text(encoding="utf-8")
    section = text.split("\n## Host limits\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z0-9-]+)` \|(.*)\|$", line)
        if match:
            rows[match[1]] = [cell.strip() for cell in match[2].split("|")]
    return rows


def test_the_table_of_limits_in_the_docs_is_the_one_in_the_code():
    rows = docs_limit_rows()
    assert list(rows) == list(host_table()) == list(hosting.TARGETS)
    for target, host in host_table().items():
        name, total, files, folder, largest, sources = rows[target]
        assert name == host.name, target
        shown = [limit.shown if limit else "no limit"
                 for limit in (host.total_bytes, host.files, host.folder_entries, host.file_bytes)]
        assert [total, files, folder, largest] == shown, target
        for source in host.sources:
            assert f"]({source})" in sources, (target, source)


def test_every_target_the_config_accepts_has_limits_and_the_default_is_github_pages():
    from builder.config import HostingConfig
    assert HostingConfig().target == "github-pages" and set(hosting.TARGETS) == set(host_table())
    assert host_table()["github-pages"].total_bytes.amount == 1024 ** 3
    assert host_table()["cloudflare-pages"].files.amount == 20_000
    assert host_table()["cloudflare-pages-paid"].files.amount == 100_000
    assert host_table()["netlify"].folder_entries.amount == 54_000


def test_measure_counts_bytes_files_the_fullest_folder_and_the_largest_file(tmp_path):
    out = write_files(tmp_path / "out", {
        "index.html": "x" * 10, "a/b/one.html": "y" * 300, "a/b/two.html": "z" * 20, "a/b/c/three.txt": "w",
        "a/four.txt": "v" * 5, "a/five.txt": "", "a/six.txt": "u"})
    found = measure(out)
    assert found == Measure(total_bytes=10 + 300 + 20 + 1 + 5 + 0 + 1, files=7, fullest_folder="a/",
                            folder_entries=4,  # b/ and three files; b/ holds c/ and two files: 3
                            largest_file="a/b/one.html", largest_bytes=300)
    listed = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert measure(out, listed) == found  # from the build's own file list: the same numbers


def host_with(**limits) -> Host:
    values = dict(total_bytes=None, files=None, folder_entries=None, file_bytes=None)
    values.update(limits)
    return Host("test", "Test Host", "Test Host's", sources=(), **values)


def test_each_limit_names_what_is_over_and_by_how_much():
    found = Measure(total_bytes=12 * MIB, files=23_456, fullest_folder="2025/06/", folder_entries=60_000,
                    largest_file="images/big.jpg", largest_bytes=30 * MIB)
    host = host_with(total_bytes=Limit(10 * MIB, "10 MiB"), files=Limit(20_000, "20,000"),
                     folder_entries=Limit(54_000, "54,000"), file_bytes=Limit(25 * MIB, "25 MiB"))
    messages_ = {excess.what: excess.message for excess in check_limits(host, found)}
    assert messages_ == {
        "total_bytes": "the site is 12 MB, over Test Host's 10 MiB limit for a published site by 2.0 MiB (120% of it)",
        "files": "the site has 23,456 files, over Test Host's limit of 20,000 files a site by 3,456 (117% of it)",
        "folder_entries": "the folder 2025/06/ holds 60,000 files and folders, over Test Host's limit of 54,000 "
                          "files in one folder by 6,000 (111% of it)",
        "file_bytes": "images/big.jpg is 30.0 MiB, over Test Host's limit of 25 MiB a file by 5.0 MiB (120% of it)"}
    assert all(excess.over for excess in check_limits(host, found))


def test_close_to_a_limit_is_a_warning_and_below_80_percent_is_nothing():
    host = host_with(files=Limit(1000, "1,000"))
    close = check_limits(host, Measure(0, 850, "", 0, "", 0))
    assert [(e.over, e.message) for e in close] == [
        (False, "the site has 850 files, close to Test Host's limit of 1,000 files a site (85% of it)")]
    assert check_limits(host, Measure(0, 799, "", 0, "", 0)) == []
    assert check_limits(host, Measure(0, 1000, "", 0, "", 0))[0].over is False  # at the limit is allowed
    assert check_limits(host_with(), Measure(10 ** 12, 10 ** 7, "", 10 ** 7, "x", 10 ** 12)) == []


@pytest.fixture
def big_file_site(make_site):
    """A site whose one static file is 26 MiB: over Cloudflare Pages' 25 MiB a file."""
    site = make_site({"content/a.md": article("A"),
                      "site.toml": '[search]\nenabled = false\n[hosting]\ntarget = "cloudflare-pages"\n'})
    (site / "static").mkdir()
    with open(site / "static/video.mp4", "wb") as handle:
        handle.truncate(26 * MIB)
    return site


CLOUDFLARE_NOTE = ("video.mp4 is 26.0 MiB, over Cloudflare Pages' free-plan limit of 25 MiB a file by 1.0 MiB "
                   "(104% of it)")


def test_the_build_warns_naming_what_is_over_and_strict_fails(big_file_site):
    warned = run_cli("build", "--site", str(big_file_site))
    assert warned.returncode == 0
    assert f"note: {CLOUDFLARE_NOTE}; see docs/deploy.md" in warned.stderr
    strict = run_cli("build", "--site", str(big_file_site), "--strict")
    assert strict.returncode == 1
    lines = messages(strict.stderr)
    assert lines[0] == f"{big_file_site / 'output'}: {CLOUDFLARE_NOTE}"
    assert lines[1].startswith("error: the output is over 1 limit of its host (--strict)")
    assert not any(line.startswith("note: video.mp4") for line in lines)  # said once, as the failure
    counts(strict.stdout)  # the build itself ran and says what it did


def test_a_build_that_changes_nothing_warns_from_the_measure_it_kept(big_file_site, monkeypatch):
    from builder import build as build_module
    from builder.build import BuildOptions, build
    first = build(BuildOptions(site=big_file_site))
    assert [note for note in first.notes if CLOUDFLARE_NOTE in note]

    def unmeasured(*args, **kwargs):
        raise AssertionError("a build that changed nothing measured the output again")
    monkeypatch.setattr(build_module, "measure", unmeasured)
    again = build(BuildOptions(site=big_file_site))
    assert again.rendered == 0 and again.notes == first.notes  # every file was not stat'ed again
    (big_file_site / "content/b.md").write_text(article("B"), encoding="utf-8")
    added = build(BuildOptions(site=big_file_site))  # new files: the measure follows from what was written
    assert added.written and not added.patched and added.notes == first.notes
    (big_file_site / "content/b.md").unlink()
    build(BuildOptions(site=big_file_site))  # files removed: the same
    (big_file_site / "static/video.mp4").unlink()  # the largest file goes: only a new measure can tell
    with pytest.raises(AssertionError, match="measured the output again"):
        build(BuildOptions(site=big_file_site))


def kept_measure(site):
    """The output's measure and file list the site's cache keeps."""
    from builder.build import BuildOptions
    from builder.cache import Cache
    from builder.options import cache_key, site_config
    config = site_config(BuildOptions(site=site))
    cache = Cache.open(config.cache_dir, cache_key(config))
    try:
        return cache.state.output.measure, cache.state.output.files
    finally:
        cache.close()


def test_a_full_build_keeps_the_measure_exact_from_the_files_it_added_and_removed(make_site):
    from builder.build import BuildOptions, build
    site = make_site({"content/a.md": article("A"), "content/b.md": article("B", body="Long. " * 5_000),
                      "site.toml": 'page_size = 1\n[search]\nenabled = false\n'})
    build(BuildOptions(site=site))
    for step in range(3):  # add articles (new pages, a new listing page), then take two away
        if step == 0:
            for n in range(5):
                (site / f"content/c{n}.md").write_text(article(f"C {n}", countries="[Peru]"), encoding="utf-8")
        else:
            (site / ("content/c0.md" if step == 1 else "content/a.md")).unlink()
        result = build(BuildOptions(site=site))
        assert not result.patched and (result.written or result.removed)
        found, files = kept_measure(site)
        assert found is not None and found == measure(site / "output", files), step


def test_a_patch_keeps_the_measure_exact_from_the_sizes_it_changed(make_site):
    from builder.build import BuildOptions, build
    site = make_site({"content/a.md": article("A"), "content/b.md": article("B", body="Short."),
                      "site.toml": '[search]\nenabled = false\n'})
    build(BuildOptions(site=site))
    assert kept_measure(site)[0] is not None
    path = site / "content/b.md"
    path.write_text(article("B", body="Long. " * 5_000), encoding="utf-8")  # b's page is the largest file now
    assert build(BuildOptions(site=site)).patched
    found, files = kept_measure(site)
    assert found == measure(site / "output", files) and found.largest_file.endswith("/b/index.html")
    path.write_text(article("B", body="Short again."), encoding="utf-8")  # the largest shrank: measured anew
    assert build(BuildOptions(site=site)).patched
    found, files = kept_measure(site)
    assert found == measure(site / "output", files) and not found.largest_file.endswith("/b/index.html")


def test_remeasured_adds_the_size_changes_and_gives_up_when_the_largest_file_shrank():
    found = Measure(total_bytes=1_000, files=3, fullest_folder="", folder_entries=3,
                    largest_file="big.html", largest_bytes=600)
    grown = hosting.remeasured(found, {"small.html": 100}, {"small.html": 700})
    assert grown == Measure(1_600, 3, "", 3, "small.html", 700)
    assert hosting.remeasured(found, {"big.html": 600}, {"big.html": 650}) == Measure(1_050, 3, "", 3, "big.html", 650)
    assert hosting.remeasured(found, {"big.html": 600}, {"big.html": 500}) is None


def test_the_same_site_for_another_host_is_within_its_limits(big_file_site):
    run_cli("build", "--site", str(big_file_site), check=True)
    toml = big_file_site / "site.toml"
    toml.write_text(toml.read_text().replace('"cloudflare-pages"', '"github-pages"'))
    result = run_cli("build", "--site", str(big_file_site), "--strict")
    assert result.returncode == 0 and "video.mp4" not in result.stderr
    assert counts(result.stdout)["rendered"] == 0  # [hosting] shapes no byte of the site: nothing rebuilt
    toml.write_text(toml.read_text().replace('"github-pages"', '"s3"'))
    assert counts(run_cli("build", "--site", str(big_file_site), check=True).stdout)["rendered"] == 0


def test_report_shows_the_numbers_the_build_checks(big_file_site):
    build = run_cli("build", "--site", str(big_file_site), check=True)
    output = json.loads(run_cli("report", "--site", str(big_file_site), "--json", check=True).stdout)["output"]
    found = measure(big_file_site / "output")
    assert output["limits"] == {"target": "cloudflare-pages", "host": "Cloudflare Pages, free plan", "total_bytes": 0,
                                "files": 20_000, "folder_entries": 0, "file_bytes": 25 * MIB}
    assert (output["total_bytes"], output["files"], output["folder_entries"]) == (
        found.total_bytes, found.files, found.folder_entries)
    assert output["largest_file"] == {"path": "video.mp4", "bytes": 26 * MIB}
    assert output["over_or_close"] == [CLOUDFLARE_NOTE] and CLOUDFLARE_NOTE in build.stderr
    text = run_cli("report", "--site", str(big_file_site), check=True).stdout
    assert 'Against [hosting] target "cloudflare-pages" (Cloudflare Pages, free plan):' in text
    assert re.search(r"  files +[\d,]+  0\.\d\d% of 20,000\n", text)
    assert re.search(r"  largest file +26\.0 MB  104\.00% of 25 MiB  OVER THE LIMIT  \(video\.mp4\)\n", text)
    assert f"  warning: {CLOUDFLARE_NOTE}\n" in text


def test_an_unknown_target_is_refused_with_its_line(make_site):
    site = make_site({"content/a.md": article("A"), "site.toml": 'title = "T"\n[hosting]\ntarget = "netlfy"\n'})
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 1
    assert ("site.toml:3: 'hosting.target' must be one of github-pages, cloudflare-pages, cloudflare-pages-paid, "
            "netlify, s3, not 'netlfy' (did you mean 'netlify'?)") in result.stderr


def test_wrong_s3_settings_are_refused_with_their_lines(make_site):
    site = make_site({"content/a.md": article("A"), "site.toml": '[s3]\ncache_control = 300\n'})
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1 and "site.toml:2: 's3.cache_control' must be a string, not int 300" in result.stderr
    (site / "site.toml").write_text('title = "T"\n[s3]\nendpoint_url = "r2.example.com"\n')
    result = run_cli("check", "--site", str(site))
    assert result.returncode == 1
    assert ("site.toml:3: 's3.endpoint_url' must be an http(s) URL such as "
            "'https://ACCOUNT.r2.cloudflarestorage.com', not 'r2.example.com'") in result.stderr


def test_content_types_are_one_table_for_the_preview_server_and_the_deploy():
    from builder import serve
    assert serve.content_type is content_type
    assert content_type("pagefind/wasm.en.pagefind") == "application/octet-stream"
    assert content_type("x/module.wasm") == "application/wasm"
    for suffix in ("pf_meta", "pf_index", "pf_fragment", "pf_filter"):
        assert content_type(f"pagefind/index/en_abc1234.{suffix}") == "application/octet-stream"
    assert content_type("a/index.html") == "text/html; charset=utf-8"
    assert content_type("robots.txt") == "text/plain; charset=utf-8"
    assert content_type("feed.xml") == "application/xml" and content_type("feed.json") == "application/json"
    assert content_type("static/style.css") == "text/css" and content_type("pagefind/pagefind.js") == "text/javascript"
    assert content_type("logo.PNG") == "image/png" and content_type("photo.jpeg") == "image/jpeg"
    assert content_type("clip.mp4") == "video/mp4"  # Python's own table, never the machine's
    assert content_type("data.unknown-kind") == "application/octet-stream"


def test_cache_control_long_for_versioned_files_short_for_the_rest():
    from builder.s3 import CachePolicy
    policy = CachePolicy(frozenset({"static/style.css", "static/search.js"}), "LONG", "SHORT")
    long = ["static/style.css", "static/search.js", "pagefind/index/en_b761c1f.pf_index",
            "pagefind/fragment/en_f81e462.pf_fragment", "pagefind/filter/en_604825f.pf_filter",
            "pagefind/pagefind.en_13fad0ec24.pf_meta"]
    short = ["index.html", "2025/06/a/index.html", "feed.xml", "feed.json", "sitemap.xml", "robots.txt",
             "pagefind/pagefind-entry.json", "pagefind/pagefind.js", "pagefind/wasm.en.pagefind",
             "static/other.css", "logo.png", "pagefind_x.pf_meta"]
    assert {name: policy.cache_control(name) for name in long + short} == {
        **{name: "LONG" for name in long}, **{name: "SHORT" for name in short}}


def test_s3_destinations():
    from builder.problems import UsageError
    from builder.s3 import Destination, parse_destination
    assert parse_destination("s3://my-bucket") == Destination("my-bucket", "")
    assert parse_destination("s3://my-bucket/") == Destination("my-bucket", "")
    assert parse_destination("s3://my-bucket/news/archive") == Destination("my-bucket", "news/archive/")
    assert parse_destination("s3://my-bucket//news//") == Destination("my-bucket", "news/")
    assert str(parse_destination("s3://b.example.org/x")) == "s3://b.example.org/x/"
    for wrong in ("my-bucket", "https://my-bucket/", "s3://", "s3://x", "s3://bucket/a/../b", "s3://bucket?x=1"):
        with pytest.raises(UsageError):
            parse_destination(wrong)


def test_a_plan_uploads_new_files_first_then_changed_ones_and_deletes_last():
    from builder.s3 import PENDING, Entry, make_plan

    def entry(sha: str) -> Entry:
        return Entry(sha, 1, "t", "c")

    remote = {"index.html": entry("1"), "feed.xml": entry("1"), "static/style.css": entry("1"),
              "old/index.html": entry("1"), "same.png": entry("1"), "half/index.html": entry(PENDING)}
    local = {"index.html": entry("2"), "feed.xml": entry("2"), "static/style.css": entry("2"),
             "same.png": entry("1"), "half/index.html": entry("3"), "new/index.html": entry("4"),
             "new/feed.xml": entry("4"), "new.png": entry("4")}
    plan = make_plan(local, remote)
    assert plan.phases == [[("new.png", "new")], [("half/index.html", "new"), ("new/index.html", "new")],
                           [("new/feed.xml", "new")], [("static/style.css", "changed")],
                           [("index.html", "changed")], [("feed.xml", "changed")]]
    assert plan.deletes == ["old/index.html"] and plan.unchanged == 1
    headers_only = make_plan({"same.png": Entry("1", 1, "t", "other")}, {"same.png": entry("1")})
    assert headers_only.uploads == [("same.png", "changed")]  # a new Cache-Control is uploaded too
    assert make_plan(local, None).unchanged == 0 and len(make_plan(local, None).uploads) == len(local)


# -- the build cache in CI -----------------------------------------------------------------------

WORKFLOWS = [REPO / ".github/workflows/pages.yml", REPO / "builder/starter/pages.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=["this-repository", "init"])
def test_both_workflows_restore_and_save_the_cache_and_the_folder_they_publish(path):
    import yaml
    steps = yaml.safe_load(path.read_text())["jobs"]["build"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    cache = steps[next(i for i, u in enumerate(uses) if u.startswith("actions/cache/restore@"))]
    saved = steps[next(i for i, u in enumerate(uses) if u.startswith("actions/cache/save@"))]
    build = next(i for i, step in enumerate(steps) if "builder build" in step.get("run", ""))
    upload = steps[next(i for i, u in enumerate(uses) if u.startswith("actions/upload-pages-artifact@"))]
    assert steps.index(cache) < build < steps.index(saved)  # restored before the build, saved after it
    assert set(cache["with"]["path"].split()) == set(saved["with"]["path"].split()) == {".cache", upload["with"]["path"]}
    key, restore = cache["with"]["key"], cache["with"]["restore-keys"]
    assert key.endswith("-${{ github.run_id }}") and key == restore + "${{ github.run_id }}"
    assert saved["with"]["key"] == "${{ steps.cache.outputs.cache-primary-key }}" and cache["id"] == "cache"
    out = re.search(r"--out (\S+)", steps[build]["run"])
    assert (out[1] if out else "output") == upload["with"]["path"]


def test_a_cache_restored_into_another_folder_with_new_file_times_renders_and_writes_nothing(make_site, tmp_path):
    """What actions/cache gives a fresh checkout: the cache and output elsewhere, every time new."""
    import shutil
    site = make_site({"content/2025/a.md": article("A", countries="[Japan]"),
                      "content/2025/b.md": article("B", "2025-06-14", topics="[Trade]"),
                      "site.toml": '[search]\nenabled = false\n'})
    run_cli("build", "--site", str(site), check=True)
    moved = Path(shutil.copytree(site, tmp_path / "elsewhere" / "checkout", copy_function=shutil.copy))
    for path in (moved / ".cache").rglob("*"):
        if path.is_file():
            assert str(site).encode() not in path.read_bytes(), path  # no absolute path in the cache
    again = counts(run_cli("build", "--site", str(moved), check=True).stdout)
    assert (again["rendered"], again["written"], again["removed"]) == (0, 0, 0)
    write_files(moved, {"content/2025/c.md": article("C", "2025-06-15")})
    added = counts(run_cli("build", "--site", str(moved), check=True).stdout)
    assert 0 < added["rendered"] < added["pages"]
