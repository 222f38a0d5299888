"""Countries: resolve any spelling an editor uses to one ISO 3166-1 country.

pycountry supplies the ISO table; this module adds the familiar display
names ('Russia', not 'Russian Federation') and the aliases newsrooms use
('U.S.', 'UK', 'Ivory Coast') that pycountry's lookup does not know.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


from builder.records import Compact
from builder.text import slugify


@dataclass(frozen=True, order=True)
class Country(Compact):
    """An ISO 3166-1 country as the archive shows it."""

    name: str  # familiar display name, e.g. 'Russia'
    code: str  # ISO 3166-1 alpha-2, e.g. 'RU'
    slug: str  # URL segment, e.g. 'russia'


    @property
    def kind(self) -> str:
        return "country"


# Display names where ISO's short name is not the one readers know.
FAMILIAR_NAMES = {
    "BO": "Bolivia", "BN": "Brunei", "CD": "DR Congo", "CG": "Republic of the Congo",
    "CZ": "Czechia", "FK": "Falkland Islands", "FM": "Micronesia", "GB": "United Kingdom",
    "IR": "Iran", "KP": "North Korea", "KR": "South Korea", "LA": "Laos", "MD": "Moldova",
    "MF": "Saint Martin", "NL": "Netherlands", "PS": "Palestine", "RU": "Russia",
    "SX": "Sint Maarten", "SY": "Syria", "TR": "Turkey", "TW": "Taiwan", "TZ": "Tanzania",
    "US": "United States", "VA": "Vatican City", "VE": "Venezuela", "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands", "VN": "Vietnam", "BQ": "Caribbean Netherlands",
    "SH": "Saint Helena", "CC": "Cocos Islands", "MK": "North Macedonia",
}

# Spellings in common news use that ISO's names and codes do not cover.
ALIASES = {
    "U.S.": "US", "U.S.A.": "US", "USA": "US", "America": "US", "United States of America": "US",
    "UK": "GB", "U.K.": "GB", "Britain": "GB", "Great Britain": "GB",
    "Russia": "RU", "Ivory Coast": "CI", "Burma": "MM", "Swaziland": "SZ", "Turkey": "TR",
    "Türkiye": "TR", "Czech Republic": "CZ", "Holland": "NL", "Vatican": "VA", "Holy See": "VA",
    "UAE": "AE", "U.A.E.": "AE", "Emirates": "AE", "DRC": "CD", "Congo-Kinshasa": "CD",
    "Democratic Republic of the Congo": "CD", "Congo-Brazzaville": "CG", "East Timor": "TL",
    "Cape Verde": "CV", "Macedonia": "MK", "South Korea": "KR",
    "North Korea": "KP", "Taiwan": "TW", "Palestinian Territories": "PS", "Laos": "LA",
    "Vietnam": "VN", "Syria": "SY", "Iran": "IR", "Moldova": "MD", "Bolivia": "BO",
    "Venezuela": "VE", "Tanzania": "TZ", "Brunei": "BN", "Micronesia": "FM",
    "Kosovo": "XK", "Saint Kitts": "KN", "St. Lucia": "LC", "St. Vincent": "VC",
}

# Kosovo uses the user-assigned code XK (not in ISO 3166-1 proper), as the EU,
# the IMF and most newsrooms do; without it a news archive cannot file Kosovo.
EXTRA_COUNTRIES = {"XK": "Kosovo"}


def normalize(name: str) -> str:
    """A lookup key: case, accents, dots, apostrophe styles and spacing folded."""
    text = unicodedata.normalize("NFKD", name.replace("’", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace(".", "").replace("&", "and")
    text = re.sub(r"^the\s+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def iso_3166_records() -> list[dict]:
    """pycountry's ISO 3166-1 entries (alpha_2, alpha_3, name and, where set, common_name
    and official_name), in pycountry's order.

    Read from pycountry's own database file, which is what ``pycountry.countries`` loads:
    importing pycountry costs 40 ms of every patch, most of it ``importlib.metadata``
    looking up pycountry's version. Where the file is not found (another layout), the
    package is imported and asked.
    """
    spec = importlib.util.find_spec("pycountry")  # finds the package without running it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        try:
            with open(os.path.join(folder, "databases", "iso3166-1.json"), encoding="utf-8") as file:
                entries = json.load(file)["3166-1"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(entries, list) and all(isinstance(e, dict) and "alpha_2" in e for e in entries):
            return entries
    import pycountry
    fields = ("alpha_2", "alpha_3", "name", "common_name", "official_name")
    return [{key: getattr(record, key) for key in fields if hasattr(record, key)} for record in pycountry.countries]


class CountryIndex:
    """Every known spelling mapped to its Country."""

    def __init__(self, extra_aliases: dict[str, str] | None = None):
        self.by_code: dict[str, Country] = {}
        self.keys: dict[str, str] = {}  # normalized spelling -> code
        for record in iso_3166_records():
            name = FAMILIAR_NAMES.get(record["alpha_2"]) or record.get("common_name") or record["name"]
            self._add_country(record["alpha_2"], name)
            for spelling in (record["alpha_3"], record["name"], record.get("common_name", ""),
                             record.get("official_name", "")):
                self._add_key(spelling, record["alpha_2"])
        for code, name in EXTRA_COUNTRIES.items():
            self._add_country(code, name)
        for spelling, code in ALIASES.items():
            self._add_key(spelling, code)
        self.problems: list[tuple[str, str]] = []  # (alias spelling, message)
        for spelling, target in (extra_aliases or {}).items():
            country = self.resolve(target)
            if country is None:
                close = self.suggestions(target)
                hint = f" (closest: {', '.join(close)})" if close else ""
                self.problems.append((spelling, f"country alias '{spelling}' points to unknown "
                                                f"country '{target}'{hint}"))
            else:
                self._add_key(spelling, country.code)

    def _add_country(self, code: str, name: str) -> None:
        self.by_code[code] = Country(name=name, code=code, slug=slugify(name))
        self._add_key(code, code)
        self._add_key(name, code)

    def _add_key(self, spelling: str, code: str) -> None:
        if spelling:
            self.keys.setdefault(normalize(spelling), code)

    def resolve(self, spelling: str) -> Country | None:
        """The Country a spelling names, or None."""
        code = self.keys.get(normalize(spelling))
        return self.by_code.get(code) if code else None

    def suggestions(self, spelling: str, count: int = 3) -> list[str]:
        """Display names of the countries closest to an unknown spelling."""
        names = {normalize(c.name): c.name for c in self.by_code.values()}
        close = difflib.get_close_matches(normalize(spelling), list(self.keys), n=count * 3, cutoff=0.6)
        result: list[str] = []
        for key in close:
            name = self.by_code[self.keys[key]].name
            if name not in result:
                result.append(name)
        if not result:
            result = [names[k] for k in difflib.get_close_matches(normalize(spelling), list(names),
                                                                   n=count, cutoff=0.4)]
        return result[:count]


@lru_cache(maxsize=8)
def country_index(extra_aliases: tuple[tuple[str, str], ...] = ()) -> CountryIndex:
    """The shared index for a set of site aliases (built once per process)."""
    return CountryIndex(dict(extra_aliases))
