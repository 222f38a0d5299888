"""Front matter: split a source file into its YAML mapping and Markdown body.

YAML is read strictly and within bounds, so that no file can stop or crash a build:

- at most ``MAX_BYTES`` of front matter and ``MAX_DEPTH`` levels of lists and
  mappings (libyaml's composer recurses in C: a few tens of thousands of ``[``
  crash the process, and its parser slows down quadratically before that);
- no anchors used again as aliases (``&a`` … ``*a``): nested aliases expand
  exponentially (the "billion laughs") wherever the value is walked or printed;
- no key given twice in a mapping (YAML requires unique keys; PyYAML keeps the last);
- no text a page or feed cannot carry (builder.safetext), pointed at its key's line.

The checks cost next to nothing on an ordinary file: the bound on nesting is read
from a few character counts, aliases and odd characters are looked for only when
the text has a ``*``, a backslash or a bidi control, and duplicates are found by
comparing the length of each mapping with the number of its pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

try:  # libyaml's loader is several times faster on large archives
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - only without libyaml
    from yaml import SafeLoader

from builder.problems import Problem
from builder.safetext import excerpt, first_unpublishable, may_need_check, printable, text_problem

FENCE = "---"
MAX_BYTES = 64 * 1024  # front matter is a few hundred bytes; long text belongs in the body
MAX_DEPTH = 64  # the schema needs 3 levels (related: - title: …)
FIRST_LINE = 2  # YAML's line 0 is the file's line 2: the opening fence comes first


class _Refused(Exception):
    """Front matter that is not read at all; carries the line and the message."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


class _StrictLoader(SafeLoader):
    """The safe loader (libyaml's when installed) that notes keys given twice."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []  # (line, message)

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) != len(node.value):  # fewer keys than pairs: a key came twice
            self._note_duplicates(node)
        return mapping

    def _note_duplicates(self, node) -> None:
        first: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node)  # already built: this reads the cache
            line = key_node.start_mark.line + FIRST_LINE
            if key in first:
                self.duplicates.append((line, f"duplicate key {excerpt(key)} (also on line "
                                              f"{first[key]}): keep one of them"))
            else:
                first[key] = line


class _CarefulLoader(_StrictLoader):
    """The second try after a value failed to build: timestamps are left as text (so
    the article stage names a date such as 2025-13-45), and any other value that
    cannot be built (``!!int x``, ``!!bool maybe``) is refused with its line."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, _Refused):
            raise
        except Exception:  # explicit tags run constructors that raise anything
            tag = printable(node.tag.replace("tag:yaml.org,2002:", "!!"), 60)
            what = excerpt(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            raise _Refused(node.start_mark.line + FIRST_LINE,
                           f"invalid YAML in front matter: cannot read {what} as {tag}") from None


_CarefulLoader.add_constructor("tag:yaml.org,2002:timestamp",
                               lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Source:
    """A source file split in two."""

    meta: dict  # the YAML mapping
    meta_text: str  # the YAML text (for pointing at lines on errors)
    body: str  # Markdown after the closing fence
    body_line: int  # line number where the body starts
    problems: tuple[Problem, ...] = field(default=())  # found while reading; the values are still usable
    root: object = None  # YAML's node tree, for the lines of keys (see key_lines)


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
        meta, problems, root = read_yaml(meta_text)
    except _Refused as refused:
        return Problem(path, refused.line, refused.message)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return Problem(path, 2, "front matter must be a mapping of keys (title: …, date: …)")
    return Source(meta=meta, meta_text=meta_text, body="\n".join(lines[number + 1:]),
                  body_line=number + 2, problems=tuple(Problem(path, line, message) for line, message in problems),
                  root=root)


def read_yaml(meta_text: str) -> tuple[object, list[tuple[int, str]], object]:
    """The YAML value of ``meta_text``, the (line, message) problems that leave it
    usable (keys given twice, unpublishable text) and its node tree; raises _Refused
    when it cannot be read."""
    _check_size(meta_text)
    _check_structure(meta_text)
    try:
        return _load(meta_text, _StrictLoader)
    except _Refused:
        raise
    except Exception:  # noqa: BLE001 - the careful loader meets the same error and words it
        pass  # (or reads the file: a timestamp libyaml matched that is no real date)
    try:
        return _load(meta_text, _CarefulLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        what = error.problem or "invalid YAML"
        raise _Refused(mark.line + FIRST_LINE if mark else 1,
                       f"invalid YAML in front matter: {printable(what, 200)}") from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow, as it is in the file
        raw = first_unpublishable(meta_text)
        if raw is None:
            raise _Refused(1, f"invalid YAML in front matter: {printable(str(error), 200)}") from None
        raise _Refused(meta_text.count("\n", 0, meta_text.index(raw)) + FIRST_LINE,
                       f"front matter contains {text_problem(raw)}") from None
    except yaml.YAMLError as error:
        raise _Refused(1, f"invalid YAML in front matter: {printable(str(error), 200)}") from None


def _load(meta_text: str, loader_class) -> tuple[object, list[tuple[int, str]], object]:
    loader = loader_class(meta_text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [], None
        # Only an escape ("\x01"), or a raw bidi control or noncharacter (never ASCII),
        # can put unpublishable text in a value: libyaml refuses raw control characters.
        suspect = "\\" in meta_text or (not meta_text.isascii() and may_need_check(meta_text))
        problems = _inspect(node) if suspect else []
        value = loader.construct_document(node)
        return value, sorted(loader.duplicates + problems), node
    finally:
        loader.dispose()


def key_lines(node) -> dict[str, int]:
    """Top-level key (as written) -> its line in the file, the first for a key given
    twice; from ``Source.root``, and only when a problem needs one."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    lines: dict[str, int] = {}
    for key, _ in reversed(node.value):
        if isinstance(key, yaml.ScalarNode):
            lines[key.value] = key.start_mark.line + FIRST_LINE
    return lines


def _check_size(meta_text: str) -> None:
    """Refuse front matter over MAX_BYTES, pointing at the line that crosses the limit."""
    if len(meta_text) <= MAX_BYTES // 4:  # UTF-8 takes at most 4 bytes a character
        return
    size = len(meta_text.encode("utf-8", "surrogatepass"))
    if size <= MAX_BYTES:
        return
    line = meta_text.encode("utf-8", "surrogatepass")[:MAX_BYTES].count(b"\n") + FIRST_LINE
    raise _Refused(line, f"front matter is {size:,} bytes, over the limit of {MAX_BYTES // 1024} KiB: "
                         "keep long text in the body")


def _check_structure(meta_text: str) -> None:
    """Refuse aliases, and lists and mappings nested deeper than MAX_DEPTH, before
    libyaml composes them (it would recurse in C)."""
    # Each list or mapping starts at one of these characters: their count bounds the
    # depth, so only text with many of them, or with a '*', is read event by event
    # (libyaml's parser keeps its own stack, and is stopped at the first offence).
    bound = (meta_text.count("[") + meta_text.count("{") + meta_text.count(":") + meta_text.count("?")
             + meta_text.count("- ") + meta_text.count("-\n") + meta_text.count("-\t") + 1)
    deep, aliases = bound > MAX_DEPTH, "*" in meta_text
    if not (deep or aliases):
        return
    loader = SafeLoader(meta_text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Refused(event.start_mark.line + FIRST_LINE,
                                   f"front matter nests lists and mappings more than {MAX_DEPTH} deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                raise _Refused(event.start_mark.line + FIRST_LINE,
                               "YAML aliases (*name) are not allowed in front matter: "
                               "write the value out where it is used")
    except yaml.YAMLError:
        return  # reading it again reports the error (and where it is)
    finally:
        loader.dispose()


def _inspect(root) -> list[tuple[int, str]]:
    """The (line, message) of every scalar with text no output can carry: each at the
    line of its key, named by its path such as 'source.name' (aliases are refused
    before, so this walks a tree)."""
    problems: list[tuple[int, str]] = []
    stack = [(root, "", root.start_mark.line + FIRST_LINE)]
    while stack:
        node, path, line = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            found = text_problem(node.value)
            if found:
                problems.append((line, f"{excerpt(path) if path else 'front matter'} contains {found}"))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, path, item.start_mark.line + FIRST_LINE) for item in reversed(node.value))
        else:
            for key, value in reversed(node.value):
                key_line = key.start_mark.line + FIRST_LINE
                if isinstance(key, yaml.ScalarNode):
                    found = text_problem(key.value)
                    if found:
                        problems.append((key_line, f"key {excerpt(key.value)} contains {found}"))
                    name = "?" if found else key.value
                else:  # a list or mapping as a key: its insides are checked too
                    name = "?"
                    stack.append((key, path, key_line))
                stack.append((value, f"{path}.{name}" if path else name, key_line))
    return problems
