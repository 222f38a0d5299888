"""Text rules every output shares: which characters a page, a feed or a sitemap can
carry, what happens to the others, and how a message quotes a value.

Every text of an article reaches XML (Atom feeds, sitemaps), HTML and JSON. XML 1.0
allows only its ``Char`` production (tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD,
U+10000–U+10FFFF), and HTML calls DEL, the C1 controls and the noncharacters parse
errors too: those characters are *unpublishable*. Front matter holding one is refused
(builder.frontmatter says where); a body has each replaced by U+FFFD before it is
rendered (``clean_body``), as CommonMark does for U+0000 and markdown-it for a
character reference such as ``&#1;``: the reader sees that something was there, no
words are silently glued together, and HTML, feeds and search all show the same text.

Bidirectional controls: the explicit embeddings and overrides (U+202A–U+202E) reorder
everything after them up to the end of the paragraph, which in a ``<title>``, a
``<meta>`` or a feed is text the article does not own; right-to-left headlines never
need them. They are refused in front matter, as is an isolate (U+2066–U+2068) left
open or a U+2069 closing none. Right-to-left letters and the marks U+200E, U+200F and
U+061C stay allowed; the theme isolates headlines, names and summaries in HTML.
"""

from __future__ import annotations

import re
import reprlib
import unicodedata
from functools import lru_cache

REPLACEMENT = "\ufffd"
EXCERPT_LIMIT = 60  # characters of a value a message shows

# C0 controls but tab, LF and CR; DEL and the C1 controls; surrogates; the noncharacters
# U+FDD0–U+FDEF and U+FFFE, U+FFFF. The other planes' U+nFFFE and U+nFFFF are matched as
# a range and checked one by one: a class listing those 32 characters makes every search
# several times slower, on any text.
_CANDIDATES = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U0001fffe-\U0010ffff"
_UNPUBLISHABLE = re.compile(f"[{_CANDIDATES}]")
EMBEDDINGS = re.compile("[\u202a-\u202e]")  # LRE, RLE, PDF, LRO, RLO
_ISOLATES = re.compile("[\u2066-\u2069]")  # LRI, RLI, FSI open; PDI closes
_PDI = "\u2069"
_SUSPECT = re.compile(f"[{_CANDIDATES}\u202a-\u202e\u2066-\u2069]")
_PLAIN_ASCII = bytes(range(0x20, 0x7f)) + b"\t\n\r"


def _unusual(text: str) -> str:
    """``text`` without printable ASCII, tab, LF and CR: usually a few characters.

    bytes.translate drops those at memory speed; a regular expression walks the
    text ten times slower, which on every body of a large archive adds up.
    """
    if text.isascii():
        return text.encode("ascii").translate(None, _PLAIN_ASCII).decode("ascii")
    return text.encode("utf-8", "surrogatepass").translate(None, _PLAIN_ASCII).decode("utf-8", "surrogatepass")


def _is_unpublishable(char: str) -> bool:
    """For a character the class matched: those past U+FFFF only when U+nFFFE or U+nFFFF."""
    code = ord(char)
    return code <= 0xffff or code & 0xfffe == 0xfffe


def first_unpublishable(text: str) -> str | None:
    """The first character of ``text`` no page or feed can carry, or None."""
    for found in _UNPUBLISHABLE.finditer(text):
        if _is_unpublishable(found[0]):
            return found[0]
    return None


def may_need_check(text: str) -> bool:
    """Whether ``text`` has any character ``text_problem`` could object to (cheap)."""
    rest = _unusual(text)
    return bool(rest) and _SUSPECT.search(rest) is not None


def describe(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE'; 'U+0001' for a character Unicode gives no name."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot go into a page or feed as it is (None when it can):
    the words after 'contains' in a message."""
    if not _SUSPECT.search(text):
        return None
    bad = first_unpublishable(text)
    if bad:
        kind = ("a surrogate" if "\ud800" <= bad <= "\udfff" else
                "a control character" if bad <= "\x9f" else "a noncharacter")
        return f"{describe(bad)}, {kind} that no page or feed can carry: remove it"
    embedding = EMBEDDINGS.search(text)
    if embedding:
        return (f"{describe(embedding[0])}, which reorders the text after it wherever it is shown: "
                "remove it (right-to-left text needs no control characters)")
    return _isolate_problem(text)


def _isolate_problem(text: str) -> str | None:
    """An isolate left open, or a U+2069 that closes none (isolates nest)."""
    opened: list[str] = []
    for char in _ISOLATES.findall(text):
        if char != _PDI:
            opened.append(char)
        elif opened:
            opened.pop()
        else:
            return f"{describe(_PDI)} without an isolate to close: remove it"
    if opened:
        return (f"{describe(opened[-1])} that is never closed with {describe(_PDI)}: "
                "close it or remove it")
    return None


def clean_body(text: str) -> str:
    """The Markdown source with each unpublishable character replaced by U+FFFD."""
    rest = _unusual(text)
    if not rest or first_unpublishable(rest) is None:  # the common case: no copy
        return text
    return _replace_unpublishable(text)


def _replace_unpublishable(text: str) -> str:
    return _UNPUBLISHABLE.sub(lambda found: REPLACEMENT if _is_unpublishable(found[0]) else found[0], text)


def plain_inline(text: str) -> str:
    """Text taken out of its paragraph (a summary made from the body) made safe for a
    <title>, a <meta> or a feed: no unpublishable characters, no embeddings or
    overrides, every isolate closed (a lone U+2069 dropped)."""
    if not _SUSPECT.search(text):
        return text
    text = EMBEDDINGS.sub("", _replace_unpublishable(text))
    if not _ISOLATES.search(text):
        return text
    kept, depth = [], 0
    for char in text:
        if char == _PDI:
            if not depth:
                continue
            depth -= 1
        elif "\u2066" <= char <= "\u2068":
            depth += 1
        kept.append(char)
    return "".join(kept) + _PDI * depth


# Strong right-to-left classes, and the isolates (their insides may be right-to-left).
_RIGHT_TO_LEFT = frozenset({"R", "AL", "RLI", "FSI", "LRI", "PDI"})


@lru_cache(maxsize=65536)  # the same headlines and names recur on many pages
def has_right_to_left(text: str) -> bool:
    """Whether ``text`` holds right-to-left letters (Hebrew, Arabic, …) or isolates:
    text that HTML must isolate so it cannot reorder what stands next to it. Text
    without them (the bidi overrides are refused) never reorders anything."""
    return not text.isascii() and any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in text)


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxdict = 2, 4, 4
_SHORT_REPR.maxtuple, _SHORT_REPR.maxset, _SHORT_REPR.maxstring = 4, 4, EXCERPT_LIMIT


def printable(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """``text`` (a library's message, say) unquoted but cut like ``excerpt``, each
    non-printable character written as an escape such as \\x01 or \\u202e."""
    cut = text[:limit]
    shown = cut if cut.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return shown + "…" if len(text) > limit else shown


def excerpt(value, limit: int = EXCERPT_LIMIT) -> str:
    """A value as a message shows it: quoted like repr (control characters escaped, so
    none reaches the terminal), at most about ``limit`` characters, '…' where cut.

    Every message that prints a value goes through here: a value can be megabytes of
    text, or a structure YAML aliases would expand a billion times if printed whole.
    """
    if isinstance(value, str):
        shown = repr(value[:limit])
        return shown[:-1] + "…" + shown[-1] if len(value) > limit else shown
    if hasattr(value, "isoformat"):  # dates and times as written, not datetime.date(…)
        return value.isoformat()
    if isinstance(value, (int, float)) or value is None:  # bool is an int
        shown = repr(value)  # YAML gives no int of over 4300 digits
    else:
        shown = _SHORT_REPR.repr(value)  # bounded: a few items of a few levels
    return shown if len(shown) <= limit else shown[:limit] + "…"
