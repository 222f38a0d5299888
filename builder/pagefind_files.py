"""Pagefind's files: read and rewrite the index Pagefind writes (no Pagefind API does this).

Each index file is gzip around a ``pagefind_dcd`` signature and a payload: CBOR for the
metadata and filter files, JSON for fragments. The build reads them back to check the
index (builder.search_check) and rewrites the few that Pagefind writes in a varying
order, so that the same site gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

PAGEFIND_SIGNATURE = b"pagefind_dcd"  # starts every gzipped index file
SORT_KEY = "date"  # the sort every article page carries (data-pagefind-sort)


def make_reproducible(bundle: Path) -> None:
    """Rewrite the files Pagefind writes in a varying order, so that the same site gives the
    same index bytes.

    Pagefind lists each filter's values (and the filters in its metadata file) in hash-map
    order, which changes from run to run; its other files are reproducible. The filter
    files are rewritten with values in sorted order and renamed by their new content hash,
    and the metadata file and the entry file that name them are rewritten to match.
    """
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language, info in entry["languages"].items():
        meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
        meta = decode_cbor(unpack(meta_path))
        filters = []
        for name, old_hash in sorted(meta[3]):
            old_path = bundle / "filter" / f"{old_hash}.pf_filter"
            filter_name, values = decode_cbor(unpack(old_path))
            values = sorted([value, sorted(pages)] for value, pages in values)
            new_hash = _write_packed(bundle / "filter", language, 7, ".pf_filter",
                                     encode_cbor([filter_name, values]))
            if new_hash != old_hash:
                old_path.unlink()
            filters.append([name, new_hash])
        meta[3] = filters
        meta_hash = _write_packed(bundle, language, 10, ".pf_meta", encode_cbor(meta), prefix="pagefind.")
        if meta_hash != info["hash"]:
            meta_path.unlink()
        info["hash"] = meta_hash
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _write_packed(folder: Path, language: str, digits: int, suffix: str, payload: bytes,
                  prefix: str = "") -> str:
    """Write a Pagefind file (gzip, no timestamp) named by its content; return its hash name."""
    data = gzip.compress(PAGEFIND_SIGNATURE + payload, compresslevel=9, mtime=0)
    name = f"{language}_{hashlib.sha256(data).hexdigest()[:digits]}"
    (folder / f"{prefix}{name}{suffix}").write_bytes(data)
    return name


@dataclass(frozen=True)
class Record:
    """One page as Pagefind indexed it."""

    filters: dict  # name → list of values
    meta: dict  # name → text
    has_sort_key: bool  # listed under the date sort


def read_records(bundle: Path, language_hash: str) -> dict[str, Record]:
    """Pages of one language's index by URL, read from Pagefind's own files."""
    # pf_meta: [version, pages [[fragment hash, words]], index chunks, filter chunks,
    #           sorts [[name, [page numbers]]], meta field names]
    meta = decode_cbor(unpack(bundle / f"pagefind.{language_hash}.pf_meta"))
    fragments, sorts = meta[1], dict((name, set(numbers)) for name, numbers in meta[4])
    records = {}
    for number, (fragment_hash, _words) in enumerate(fragments):
        fragment = json.loads(unpack(bundle / "fragment" / f"{fragment_hash}.pf_fragment"))
        records[fragment["url"]] = Record(filters=fragment.get("filters", {}),
                                           meta=fragment.get("meta", {}),
                                           has_sort_key=number in sorts.get(SORT_KEY, ()))
    return records


def unpack(path: Path) -> bytes:
    """A Pagefind file: gzip around a 'pagefind_dcd' signature and the payload."""
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(PAGEFIND_SIGNATURE):
        raise ValueError(f"{path.name} is not a Pagefind file")
    return data[len(PAGEFIND_SIGNATURE):]


def decode_cbor(data: bytes):
    """The CBOR subset Pagefind's metadata uses: integers, text, bytes, arrays, maps."""
    def item(at: int):
        initial = data[at]
        major, info = initial >> 5, initial & 31
        at += 1
        if info < 24:
            value = info
        elif info <= 27:
            size = 1 << (info - 24)
            value = int.from_bytes(data[at:at + size], "big")
            at += size
        else:
            raise ValueError(f"unsupported CBOR item {initial:#x}")
        if major == 0:
            return value, at
        if major == 1:
            return -1 - value, at
        if major in (2, 3):
            raw = data[at:at + value]
            return (raw if major == 2 else raw.decode("utf-8")), at + value
        if major == 4:
            items = []
            for _ in range(value):
                element, at = item(at)
                items.append(element)
            return items, at
        if major == 5:
            mapping = {}
            for _ in range(value):
                key, at = item(at)
                mapping[key], at = item(at)
            return mapping, at
        if major == 7 and value in (20, 21, 22):
            return {20: False, 21: True, 22: None}[value], at
        raise ValueError(f"unsupported CBOR item {initial:#x}")

    value, _ = item(0)
    return value


def encode_cbor(value) -> bytes:
    """The inverse of _decode_cbor, in CBOR's shortest form (as Pagefind writes it)."""
    def head(major: int, number: int) -> bytes:
        if number < 24:
            return bytes([major << 5 | number])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if number < 1 << (8 * size):
                return bytes([major << 5 | info]) + number.to_bytes(size, "big")
        raise ValueError(f"number too large for CBOR: {number}")

    if isinstance(value, bool) or value is None:
        return bytes([0xF4 if value is False else 0xF5 if value is True else 0xF6])
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return head(3, len(encoded)) + encoded
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(encode_cbor(item) for item in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(encode_cbor(k) + encode_cbor(v) for k, v in value.items())
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")
