"""Small text helpers shared by the stages: slugs, plain-text summaries."""

from __future__ import annotations

import re
import unicodedata

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str) -> str:
    """Lowercase ASCII letters, digits and single hyphens: 'Côte d'Ivoire' -> 'cote-d-ivoire'."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def is_slug(text: str) -> bool:
    return bool(SLUG_PATTERN.match(text))


def shorten(text: str, limit: int = 200) -> str:
    """Cut plain text at a word boundary no longer than ``limit``, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


def month_name(month: int) -> str:
    """'June' for 6 (English, whatever the machine's locale: strftime's %B is not)."""
    return _MONTHS[month - 1]


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
