"""Rename: ``builder rename OLD-SLUG NEW-SLUG`` changes an article's slug without breaking a link.

The article's front matter gets ``slug: NEW`` and its old address in ``aliases`` (so the
old URL becomes a page that redirects to the new one); every other article whose
``related`` list names the old slug names the new one. Lines are edited in place, so
comments and the rest of the front matter stay as the editor wrote them; every changed
file is parsed again before anything is written, and the files are replaced together:
all of them or none.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from builder.articles import ParseSettings, parse_article
from builder.config import load_config
from builder.new import existing_articles
from builder.problems import BuildFailed, Problem, UsageError, line_of_key
from builder.text import is_slug, slugify
from builder.urls import Urls


@dataclass(frozen=True)
class Edit:
    """One file's new text."""

    relative: str  # relative to the site folder
    before: str
    after: str


def rename(site: Path, old: str, new: str) -> list[Edit]:
    """Rename slug ``old`` to ``new`` across the site; return the edits made (all written)."""
    if not is_slug(new):
        raise UsageError(f"'{new}' is not a slug: use lowercase letters, digits and hyphens "
                         f"(such as '{slugify(new) or 'my-article'}')")
    config = load_config(site)
    existing = existing_articles(config)
    target = next((a for a in existing.articles if a.slug == old), None)
    if target is None:
        raise UsageError(f"no article has the slug '{old}' (builder report lists the archive)")
    if new == old:
        raise UsageError(f"the article already has the slug '{new}'")
    if new in existing.taken_slugs:
        owner = next((a.path for a in existing.articles if a.slug == new), "a file that does not parse")
        raise UsageError(f"the slug '{new}' is taken by {owner}")
    urls = Urls("/")
    old_address = urls.article(target)
    edits = [Edit(target.path, *_pair(config.root / target.path, lambda text: _renamed(text, new, old_address)))]
    for article in existing.articles:
        if article.path != target.path and any(item.slug == old for item in article.related):
            edits.append(Edit(article.path, *_pair(config.root / article.path,
                                                   lambda text: _related_renamed(text, old, new))))
    _verify(config, edits, old, new, old_address)
    _write_all(config.root, edits)
    return edits


def _pair(path: Path, change) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8")
    return text, change(text)


def _front_matter(text: str) -> tuple[list[str], int]:
    """The file's lines and the index of the closing '---' of its front matter."""
    lines = text.split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
    return lines, end


def _renamed(text: str, new: str, old_address: str) -> str:
    """The article's text with ``slug: new`` and the old address added to its aliases."""
    lines, end = _front_matter(text)
    meta = "\n".join(lines[1:end])
    slug_line = line_of_key(meta, "slug", first_line=1)
    if slug_line:
        lines[slug_line] = f"slug: {new}"
    else:
        title_line = line_of_key(meta, "title", first_line=1) or 0
        lines.insert(title_line + 1, f"slug: {new}")
        end += 1
        meta = "\n".join(lines[1:end])
    alias = json.dumps(old_address)
    aliases_line = line_of_key(meta, "aliases", first_line=1)
    if not aliases_line:
        lines.insert(end, f"aliases: [{alias}]")
        return "\n".join(lines)
    value = lines[aliases_line].split(":", 1)[1].strip()
    if value.startswith("[") and value.endswith("]"):  # a flow list on one line
        inner = value[1:-1].strip()
        lines[aliases_line] = f"aliases: [{inner + ', ' if inner else ''}{alias}]"
    elif not value or value.startswith("#"):  # a block list below the key
        last = aliases_line
        while last + 1 < end and re.match(r"^\s+-\s", lines[last + 1]):
            last += 1
        indent = re.match(r"^(\s+)-", lines[last]).group(1) if last > aliases_line else "  "
        lines.insert(last + 1, f"{indent}- {alias}")
    else:  # a single string
        single = json.dumps(value.strip("\"'"))
        lines[aliases_line] = f"aliases: [{single}, {alias}]"
    return "\n".join(lines)


def _related_renamed(text: str, old: str, new: str) -> str:
    """The text with every ``related`` entry naming ``old`` naming ``new``."""
    lines, end = _front_matter(text)
    meta = "\n".join(lines[1:end])
    start = line_of_key(meta, "related", first_line=1)
    if not start:
        return text
    word = re.compile(rf"(?<![a-z0-9-]){re.escape(old)}(?![a-z0-9-])")
    value = lines[start].split(":", 1)[1]
    if value.strip().startswith("["):  # a flow list
        lines[start] = lines[start].split(":", 1)[0] + ":" + word.sub(new, value)
        return "\n".join(lines)
    for index in range(start + 1, end):
        if not lines[index].startswith((" ", "\t")):
            break  # the next key
        match = re.match(r"^(\s+-\s+)(['\"]?)([a-z0-9-]+)\2(\s*(#.*)?)$", lines[index])
        if match and match.group(3) == old:
            lines[index] = f"{match.group(1)}{new}{match.group(4)}"
    return "\n".join(lines)


def _verify(config, edits: list[Edit], old: str, new: str, old_address: str) -> None:
    """Parse every new text as the build will; refuse (changing nothing) if any is not what it should be."""
    settings = ParseSettings.from_config(config)
    problems = []
    for number, edit in enumerate(edits):
        parsed = parse_article(edit.relative, edit.after.encode("utf-8"), settings)
        article = parsed.article
        if parsed.problems or article is None:
            problems += [Problem(edit.relative, p.line, f"would not build after the rename: {p.message}")
                         for p in parsed.problems]
            continue
        expected = (article.slug == new and old_address in article.aliases) if number == 0 else \
            (any(i.slug == new for i in article.related) and not any(i.slug == old for i in article.related))
        if not expected:
            problems.append(Problem(edit.relative, 0, "its front matter is written in a way this command "
                                                      "cannot edit safely: make the change by hand"))
    if problems:
        raise BuildFailed(problems)


def _write_all(root: Path, edits: list[Edit]) -> None:
    """Replace every file, or none: each new text goes to a temporary file first, then all are
    renamed into place; if a rename fails, the ones already replaced get their old text back."""
    staged: list[tuple[Path, str]] = []
    try:
        for edit in edits:
            path = root / edit.relative
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".rename-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(edit.after)
            staged.append((path, temporary))
        done: list[Edit] = []
        try:
            for (path, temporary), edit in zip(staged, edits):
                os.replace(temporary, path)
                done.append(edit)
        except OSError:
            for edit in done:
                (root / edit.relative).write_text(edit.before, encoding="utf-8")
            raise
    finally:
        for _, temporary in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)


def run(args) -> int:
    edits = rename(args.site, args.old, args.new)
    for edit in edits:
        args.console.result(edit.relative)
    args.console.info(f"renamed '{args.old}' to '{args.new}' in {len(edits)} file{'s' if len(edits) != 1 else ''}; "
                      "its old address redirects to the new one")
    return 0
