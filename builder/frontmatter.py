"""Front matter: split a source file into its YAML mapping and Markdown body."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

try:  # libyaml's loader is several times faster on large archives
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - only without libyaml
    from yaml import SafeLoader

from builder.problems import Problem

FENCE = "---"


class _TextDatesLoader(yaml.SafeLoader):
    """A SafeLoader that leaves timestamps as strings."""


_TextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                 lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Source:
    """A source file split in two."""

    meta: dict  # the YAML mapping
    meta_text: str  # the YAML text (for pointing at lines on errors)
    body: str  # Markdown after the closing fence
    body_line: int  # line number where the body starts


def split_front_matter(path: str, raw: bytes) -> Source | Problem:
    """Decode and split ``raw``; a Problem says what is wrong and where."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return Problem(path, line, f"not valid UTF-8 (byte 0x{raw[error.start]:02x}); "
                                   "save the file as UTF-8")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return Problem(path, 1, "file is empty; an article needs front matter with a title and a date")
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        return Problem(path, 1, "no front matter: an article starts with a '---' line, "
                                "then YAML (title, date, …), then '---'")
    for number in range(1, len(lines)):
        if lines[number].rstrip() == FENCE:
            break
    else:
        return Problem(path, 1, "front matter opened with '---' is never closed with a '---' line")
    meta_text = "\n".join(lines[1:number])
    try:
        meta = yaml.load(meta_text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 2 if mark else 1  # +1 for 1-based, +1 for the opening fence
        what = error.problem or "invalid YAML"
        return Problem(path, line, f"invalid YAML in front matter: {what}")
    except yaml.YAMLError as error:
        return Problem(path, 1, f"invalid YAML in front matter: {error}")
    except ValueError:
        # libyaml matched a timestamp that is no real date (2025-13-45):
        # read the dates as text so the article stage names the bad one.
        meta = yaml.load(meta_text, Loader=_TextDatesLoader)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return Problem(path, 2, "front matter must be a mapping of keys (title: …, date: …)")
    return Source(meta=meta, meta_text=meta_text, body="\n".join(lines[number + 1:]),
                  body_line=number + 2)
