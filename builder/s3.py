"""Object storage: publish a built site to an S3 bucket (``deploy --to s3://BUCKET[/PREFIX]``).

Amazon S3, Cloudflare R2, Google Cloud Storage, MinIO and SeaweedFS all speak the S3
API. boto3 finds credentials and region the standard AWS way (environment variables,
``AWS_PROFILE`` and the shared files, an instance or CI role); ``--endpoint-url`` (or
``[s3] endpoint_url``) names a service other than Amazon's.

**Only what changed is uploaded.** The bucket holds a manifest,
``PREFIX/.builder-manifest.json``: every object this tool put there, with the sha256 of
its bytes, its size, content type and cache control. A deploy hashes the output folder
and compares: an object is uploaded when it is new or its bytes or headers differ, never
because of a file time, so a cold rebuild or a fresh CI checkout uploads nothing that did
not change. Objects the manifest lists and the site no longer has are deleted; objects
the manifest does not list (put there by someone else) are never touched.

**Order**, so that a reader never meets a page whose assets are missing, and a deploy
that dies half-way leaves a complete site that the next deploy finishes:

0. the manifest, with every key about to be written marked *pending* (a journal: a
   manifest never vouches for an object a deploy did not finish, and every object a
   deploy may have created is listed, so none is ever orphaned);
1. new files: nothing the bucket serves links them yet (only changed files will);
2. changed files;
3. the manifest of what the bucket holds (the objects to delete still listed), the
   deletes, then the final manifest.

Within 1 and 2: assets first (every file that is neither a page nor an entry point:
the theme's files, images, Pagefind's scripts and hashed index files), then pages, then
entry points (feeds, sitemaps, ``robots.txt``, the search shards' ``shards.json`` and each
``pagefind-entry.json``),
which name pages and index files. So when a changed page goes up, everything it links is
there; when the search entry goes up, every index file it names is.

Nothing is deleted before every upload succeeded. A deploy with nothing to change
writes nothing at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from builder import __version__
from builder.hosting import content_type, folder_files
from builder.output import MARKER
from builder.problems import BuildFailed, Problem, UsageError
from builder.urls import SEARCH_BUNDLE

MANIFEST = ".builder-manifest.json"
MANIFEST_FORMAT = 1
PENDING = ""  # the sha256 of an object a deploy started to write and did not finish
WORKERS = 16  # uploads in flight
MULTIPART_FROM = 64 * 1024 ** 2  # bytes: larger files go up in parts (boto3's transfer manager)
DELETE_BATCH = 1000  # keys per DeleteObjects request (the API's maximum)
BUCKET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,220}[A-Za-z0-9]$")
# Pagefind's index files carry a hash of their bytes in their name: en_6b81938.pf_filter,
# pagefind.en_13fad0ec24.pf_meta. Its scripts, each shard's pagefind-entry.json and the
# shards' manifest (shards.json, which the search page reads first) do not.
HASHED_INDEX_FILE = re.compile(rf"^{SEARCH_BUNDLE}/(.*/)?[^/]*_[0-9a-f]{{6,}}\.pf_[a-z]+$")
ENTRY_NAMES = {"feed.json", "robots.txt", "pagefind-entry.json", "shards.json"}  # and every .xml: feeds, sitemaps


class S3Failed(Exception):
    """The object store could not do what the deploy needs (one line: what, where, why)."""


@dataclass(frozen=True)
class Destination:
    """Where the site goes: a bucket and a key prefix ('' or ending in '/')."""

    bucket: str
    prefix: str = ""

    def key(self, relative: str) -> str:
        return self.prefix + relative

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_destination(text: str) -> Destination:
    """``s3://BUCKET`` or ``s3://BUCKET/PREFIX``; UsageError (exit code 2) for anything else."""
    parts = urlsplit(text)
    usage = f"--to {text!r}: give s3://BUCKET or s3://BUCKET/PREFIX"
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(usage)
    if not BUCKET_NAME.match(parts.netloc):
        raise UsageError(f"{usage} ({parts.netloc!r} is not a bucket name: 3 or more letters, digits, "
                         "dots, dashes or underscores)")
    segments = [segment for segment in parts.path.split("/") if segment]
    if any(segment in (".", "..") for segment in segments):
        raise UsageError(f"{usage} (no '.' or '..' in the prefix)")
    return Destination(parts.netloc, "".join(segment + "/" for segment in segments))


# --------------------------------------------------------------- what is where


@dataclass(frozen=True)
class Entry:
    """One object as the manifest records it."""

    sha256: str  # PENDING: a deploy started writing it and did not finish
    size: int
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class CachePolicy:
    """Which files are versioned (cached for long, immutable) and the two Cache-Control values."""

    versioned_files: frozenset[str]  # the theme's assets: static/NAME, linked with ?v=HASH
    versioned: str
    short: str

    @classmethod
    def of(cls, config) -> "CachePolicy":
        from builder.theme_files import static_files
        assets = frozenset(f"static/{name}" for name in static_files(config.template_dirs))
        return cls(assets, config.s3.cache_control_versioned, config.s3.cache_control)

    def cache_control(self, relative: str) -> str:
        versioned = relative in self.versioned_files or HASHED_INDEX_FILE.match(relative)
        return self.versioned if versioned else self.short


def local_entries(output: Path, policy: CachePolicy) -> dict[str, Entry]:
    """Every file the site publishes (the output folder but the tool's marker), hashed."""
    entries = {}
    for relative, size in sorted(folder_files(output)):
        if relative == MARKER:
            continue
        if relative == MANIFEST:
            raise BuildFailed([Problem(relative, 0, "the site has a file named like the deploy's manifest; "
                                                    "rename it (nothing was uploaded)")])
        digest = hashlib.sha256()
        with open(output / relative, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        entries[relative] = Entry(digest.hexdigest(), size, content_type(relative), policy.cache_control(relative))
    return entries


def kind_of(relative: str) -> int:
    """Upload order among new (or changed) files: 0 assets, 1 pages, 2 entry points (which name
    pages and index files)."""
    if relative.endswith(".html"):
        return 1
    if relative.endswith(".xml") or relative.rpartition("/")[2] in ENTRY_NAMES:
        return 2
    return 0


@dataclass
class Plan:
    """What a deploy does: uploads in order (each phase finishes before the next starts)."""

    phases: list[list[tuple[str, str]]] = field(default_factory=list)  # [(relative, 'new'|'changed')]
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def uploads(self) -> list[tuple[str, str]]:
        return [item for phase in self.phases for item in phase]


def make_plan(local: dict[str, Entry], remote: dict[str, Entry] | None) -> Plan:
    """Compare the site with the manifest (None: no manifest, every file is new)."""
    remote = remote or {}
    groups: dict[tuple[int, int], list[tuple[str, str]]] = {}
    plan = Plan()
    for relative, entry in local.items():
        before = remote.get(relative)
        if before == entry:
            plan.unchanged += 1
            continue
        # A pending object may or may not be there: it goes up with the new ones.
        how = "new" if before is None or before.sha256 == PENDING else "changed"
        groups.setdefault((how == "changed", kind_of(relative)), []).append((relative, how))
    plan.phases = [sorted(groups[key]) for key in sorted(groups)]
    plan.deletes = sorted(set(remote) - set(local))
    return plan


# ------------------------------------------------------------------- the bucket


def make_client(endpoint_url: str = ""):
    """An S3 client: credentials, region and addressing style the standard AWS way."""
    import boto3
    from botocore.config import Config
    config = Config(retries={"max_attempts": 4, "mode": "standard"}, max_pool_connections=WORKERS,
                    connect_timeout=10, read_timeout=120,
                    # Integrity by Content-MD5, which every S3-compatible service checks; the newer
                    # default checksums are not understood everywhere (older MinIO, GCS).
                    request_checksum_calculation="when_required", response_checksum_validation="when_required")
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config)


class Bucket:
    """The destination through one client; every failure raises S3Failed in one line."""

    def __init__(self, client, destination: Destination):
        self.client = client
        self.destination = destination

    def check(self) -> None:
        """The bucket exists and these credentials reach it."""
        try:
            self.client.head_bucket(Bucket=self.destination.bucket)
        except Exception as error:  # botocore's errors, named in the message
            status = _status(error)
            if status == 404:
                raise S3Failed(f"{self.destination}: no such bucket (create it first; see docs/deploy.md)") from None
            if status == 403:
                raise S3Failed(f"{self.destination}: access denied (the credentials cannot use this "
                               "bucket)") from None
            raise _failure(error, f"reaching {self.destination}") from None

    def read_manifest(self) -> tuple[dict[str, Entry] | None, str]:
        """The manifest's entries (None when there is none) and a note when it is unusable."""
        key = self.destination.key(MANIFEST)
        try:
            data = self.client.get_object(Bucket=self.destination.bucket, Key=key)["Body"].read()
        except Exception as error:
            if _code(error) in ("NoSuchKey", "404") or _status(error) == 404:
                return None, ""
            raise _failure(error, f"reading {self.destination}{MANIFEST}") from None
        try:
            parsed = json.loads(data)
            if parsed.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {parsed.get('format')!r}")
            return {name: Entry(*values) for name, values in parsed["files"].items()}, ""
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            return None, (f"{self.destination}{MANIFEST} is not a manifest this builder reads ({error}); "
                          "every file is uploaded again")

    def write_manifest(self, entries: dict[str, Entry]) -> None:
        body = json.dumps({"format": MANIFEST_FORMAT, "builder": __version__,
                           "files": {name: [e.sha256, e.size, e.content_type, e.cache_control]
                                     for name, e in sorted(entries.items())}},
                          separators=(",", ":")).encode()
        self._put(MANIFEST, body, "application/json", "no-store", "")

    def upload(self, output: Path, relative: str, entry: Entry) -> None:
        path = output / relative
        if entry.size >= MULTIPART_FROM:
            self._put_large(path, relative, entry)
        else:
            self._put(relative, path.read_bytes(), entry.content_type, entry.cache_control, entry.sha256)

    def _put(self, relative: str, body: bytes, kind: str, cache_control: str, sha256: str) -> None:
        extra = {"CacheControl": cache_control} if cache_control else {}
        if sha256:
            extra["Metadata"] = {"sha256": sha256}
        try:
            self.client.put_object(Bucket=self.destination.bucket, Key=self.destination.key(relative), Body=body,
                                   ContentType=kind, ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(),
                                   **extra)
        except Exception as error:
            raise _failure(error, f"uploading {relative} to {self.destination}") from None

    def _put_large(self, path: Path, relative: str, entry: Entry) -> None:
        from boto3.s3.transfer import TransferConfig
        extra = {"ContentType": entry.content_type, "Metadata": {"sha256": entry.sha256}}
        if entry.cache_control:
            extra["CacheControl"] = entry.cache_control
        try:
            self.client.upload_file(str(path), self.destination.bucket, self.destination.key(relative),
                                    ExtraArgs=extra, Config=TransferConfig(multipart_threshold=MULTIPART_FROM,
                                                                           use_threads=False))
        except Exception as error:
            raise _failure(error, f"uploading {relative} to {self.destination}") from None

    def delete(self, relatives: list[str]) -> None:
        for start in range(0, len(relatives), DELETE_BATCH):
            batch = relatives[start:start + DELETE_BATCH]
            try:
                answer = self.client.delete_objects(Bucket=self.destination.bucket, Delete={
                    "Objects": [{"Key": self.destination.key(name)} for name in batch], "Quiet": True})
            except Exception as error:
                raise _failure(error, f"deleting {len(batch):,} objects from {self.destination}") from None
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise S3Failed(f"deleting {first.get('Key')} from {self.destination}: {first.get('Code')} "
                               f"({first.get('Message')})" + (f", and {len(errors) - 1:,} more" if len(errors) > 1 else ""))


def _code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _status(error: Exception) -> int:
    return int(getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _failure(error: Exception, what: str) -> S3Failed:
    """One line for a botocore or boto3 error: what was being done, and why it failed."""
    from botocore import exceptions
    if isinstance(error, exceptions.NoCredentialsError):
        why = ("no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
               "or run where a role provides them)")
    elif isinstance(error, exceptions.EndpointConnectionError):
        why = f"cannot reach {error.kwargs.get('endpoint_url', 'the endpoint')}"
    elif isinstance(error, exceptions.ClientError):
        info = error.response.get("Error", {})
        why = f"{info.get('Code') or _status(error)} ({info.get('Message') or 'no message'})"
    elif isinstance(error, (exceptions.BotoCoreError, OSError)) or type(error).__module__.startswith("boto3"):
        why = f"{type(error).__name__}: {error}"
    else:
        raise error  # not a storage failure: a bug, which the CLI reports as one
    return S3Failed(f"{what}: {why}")


# ----------------------------------------------------------------- the deploy


@dataclass
class SyncResult:
    destination: Destination
    plan: Plan
    dry_run: bool

    def summary(self) -> str:
        plan = self.plan
        if self.dry_run:
            return (f"dry run for {self.destination}: {len(plan.uploads):,} to upload, {len(plan.deletes):,} to "
                    f"delete, {plan.unchanged:,} unchanged; nothing was changed")
        return (f"{self.destination}: {len(plan.uploads):,} uploaded, {len(plan.deletes):,} deleted, "
                f"{plan.unchanged:,} unchanged")

    def actions(self) -> list[str]:
        """One line a planned action, in the order a deploy does them (for --dry-run)."""
        lines = [f"upload {how:<7}  {relative}" for relative, how in self.plan.uploads]
        return lines + [f"delete          {relative}" for relative in self.plan.deletes]


def sync(output: Path, destination: Destination, config, endpoint_url: str = "", dry_run: bool = False,
         client=None, log=None, note=None) -> SyncResult:
    """Make the bucket hold exactly the output folder, uploading only what changed (see the module).

    ``log``: told of each phase as it starts; ``note``: told what the user should know."""
    log = log or (lambda text: None)
    note = note or (lambda text: None)
    bucket = Bucket(client or make_client(endpoint_url), destination)
    bucket.check()
    local = local_entries(output, CachePolicy.of(config))
    remote, unusable = bucket.read_manifest()
    result = SyncResult(destination, make_plan(local, remote), dry_run)
    if unusable:
        note(unusable)
    elif remote is None:
        note(f"no manifest at {destination}{MANIFEST} (a first deploy): every file is uploaded; objects "
             "already under the prefix are left alone")
    plan = result.plan
    if dry_run or not (plan.uploads or plan.deletes):
        return result

    held = dict(remote or {})
    if plan.uploads:
        journal = dict(held)
        for relative, _ in plan.uploads:
            before = journal.get(relative) or local[relative]
            journal[relative] = Entry(PENDING, before.size, before.content_type, before.cache_control)
        bucket.write_manifest(journal)
        pool = ThreadPoolExecutor(max_workers=WORKERS)
        try:
            for phase in plan.phases:  # each phase ends before the next begins
                log(f"  uploading {len(phase):,} {_phase_name(phase)}")
                futures = [pool.submit(bucket.upload, output, relative, local[relative]) for relative, _ in phase]
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                failed = [future for future in futures if future in done and future.exception() is not None]
                if failed:
                    raise failed[0].exception()
        finally:  # a failure or Ctrl-C: nothing more starts; uploads under way end
            pool.shutdown(wait=True, cancel_futures=True)
    if plan.deletes:
        if plan.uploads:  # what the bucket holds now: the new site, and the objects about to go
            bucket.write_manifest({**local, **{name: held[name] for name in plan.deletes}})
        log(f"  deleting {len(plan.deletes):,} objects the site no longer has")
        bucket.delete(plan.deletes)
    bucket.write_manifest(local)
    return result


def _phase_name(phase: list[tuple[str, str]]) -> str:
    relative, how = phase[0]
    return f"{how} {('assets', 'pages', 'feeds, sitemaps and index entries')[kind_of(relative)]}"
