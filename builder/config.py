"""Site configuration: ``site.toml`` read against a schema into a frozen SiteConfig.

Every key is declared once below with its type, default and meaning; an
unknown key or a wrong type is a Problem with its line, never ignored.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from builder.countries import country_index
from builder.hosting import DEFAULT_TARGET, TARGETS
from builder.problems import Problem, UsageError, line_of_key, raise_if_any

CONFIG_FILE = "site.toml"


def _default_theme() -> Path:
    """The default theme: ``builder/theme/`` in an installed wheel, else the checkout's ``templates/``."""
    package = Path(__file__).resolve().parent
    installed = package / "theme"
    return installed if installed.is_dir() else package.parent / "templates"


DEFAULT_THEME = _default_theme()


def _doc(text: str, **kwargs):
    return field(metadata={"doc": text}, **kwargs)


@dataclass(frozen=True)
class SearchConfig:
    """``[search]``: the Pagefind index."""

    enabled: bool = _doc("Build the Pagefind search index and the /search/ page.", default=True)
    language: str = _doc("Language code Pagefind stems words for (default: the site's).", default="")
    exclude_selectors: tuple[str, ...] = _doc(
        "CSS selectors whose text is left out of the index.", default=())


@dataclass(frozen=True)
class FeedsConfig:
    """``[feeds]``: Atom and JSON feeds."""

    size: int = _doc("How many newest articles each feed carries.", default=20)


@dataclass(frozen=True)
class ImagesConfig:
    """``[images]``: the resized variants and crops made of every local picture (builder.images)."""

    widths: tuple[int, ...] = _doc("Widths in pixels of the resized variants (never wider than the picture).",
                                   default=(320, 640, 960, 1280, 1920))
    quality: int = _doc("JPEG and WebP quality of the variants, 1 to 100.", default=82)
    crop_width: int = _doc("Width of the 16:9, 4:3 and 1:1 crops of a lead image for search engines "
                           "and social cards (Google asks for 1,200 px at least).", default=1200)
    thumbnail: int = _doc("Width of the thumbnails in listings.", default=480)


@dataclass(frozen=True)
class FooterConfig:
    """``[footer]``: what every page's foot links to besides the feeds and indexes."""

    links: dict = _doc("Pages the foot links to, title = URL: {\"About\" = \"/about/\", "
                       "\"Corrections policy\" = \"/corrections-policy/\"}.", default_factory=dict)


@dataclass(frozen=True)
class FaviconConfig:
    """``[favicon]``: the site's icons (favicon, touch icon, web app manifest)."""

    image: str = _doc("A square picture for the icons, relative to the site folder (PNG, JPEG or SVG); "
                      "default: the initials.", default="")
    initials: str = _doc("Up to three letters drawn on the icon (default: the title's initials).", default="")
    background: str = _doc("The icon's colour, and the manifest's theme colour (#rgb or #rrggbb).",
                           default="#9c1c1c")
    foreground: str = _doc("The initials' colour (#rgb or #rrggbb).", default="#ffffff")

    @property
    def vector(self) -> bool:
        """Whether there is a favicon.svg (the initials, or an SVG image)."""
        return not self.image or self.image.lower().endswith(".svg")


@dataclass(frozen=True)
class AuthorEntry:
    """``[authors.<slug>]``: one author of the archive (the table's name is the author page's slug)."""

    slug: str = field(default="", metadata={"internal": True})
    name: str = _doc("The author's name as bylines show it (required).", default="")
    url: str = _doc("A page about the author elsewhere (http(s) or a site path); the JSON-LD url "
                    "(default: the author page).", default="")
    bio: str = _doc("A sentence or two shown on the author page.", default="")
    image: str = _doc("A portrait: a site path (under static/) or an http(s) URL.", default="")


@dataclass(frozen=True)
class AliasesConfig:
    """``[aliases]``: articles' old addresses (``aliases:`` in front matter)."""

    redirects_file: bool = _doc("Also write a _redirects file (Netlify, Cloudflare Pages) with a 301 per alias.",
                                default=False)


@dataclass(frozen=True)
class DeployConfig:
    """``[deploy]``: ``python -m builder deploy`` to a branch."""

    branch: str = _doc("Branch the built site is committed to.", default="gh-pages")
    remote: str = _doc("Git remote (name or URL) the branch is pushed to.", default="origin")
    cname: str = _doc("Custom domain written to CNAME (empty: no CNAME file).", default="")


@dataclass(frozen=True)
class HostingConfig:
    """``[hosting]``: the host whose limits the build checks the output against."""

    target: str = _doc("Host whose limits the build checks the output against: github-pages, "
                       "cloudflare-pages, cloudflare-pages-paid, netlify or s3.", default=DEFAULT_TARGET)


@dataclass(frozen=True)
class S3Config:
    """``[s3]``: ``python -m builder deploy --to s3://BUCKET[/PREFIX]``."""

    endpoint_url: str = _doc("S3 API endpoint for deploy --to s3://… (R2, Google Cloud Storage, MinIO, "
                             "SeaweedFS); empty: Amazon S3's. --endpoint-url overrides it.", default="")
    cache_control: str = _doc("Cache-Control of pages, feeds, sitemaps, the search index's entry and every "
                              "other file that is not versioned (empty: none).", default="public, max-age=300")
    cache_control_versioned: str = _doc(
        "Cache-Control of versioned files: the theme's assets (linked with ?v=) and Pagefind's "
        "hashed index files (empty: none).", default="public, max-age=31536000, immutable")


@dataclass(frozen=True)
class SiteConfig:
    """Everything ``site.toml`` says, validated, plus the folders it applies to."""

    title: str = _doc("The archive's name, shown in every page header.", default="News Archive")
    description: str = _doc("One sentence on what the archive is.", default="")
    base_url: str = _doc(
        "Where the site is published: an absolute URL such as "
        "'https://user.github.io/archive/' or a path such as '/archive/'.", default="/")
    language: str = _doc("BCP 47 language of the pages (the <html lang>).", default="en")
    timezone: str = _doc("IANA time zone for naive dates and for /YYYY/MM/ URLs.", default="UTC")
    publisher: str = _doc("Publisher name for metadata (default: the title).", default="")
    page_size: int = _doc("Articles per listing page (home, country, topic, author, year); a listing's newest page"
                          " takes up to twice as many (pages count from the oldest).", default=20)
    allow_html: bool = _doc("Let raw HTML in Markdown through (default: escaped).", default=False)
    output: str = _doc("Output folder, relative to the site folder.", default="output")
    cache: str = _doc("Cache folder, relative to the site folder.", default=".cache")
    country_aliases: dict = _doc(
        "Extra spellings for countries: {\"Republic of Korea\" = \"KR\"}.", default_factory=dict)
    topic_vocabulary: dict = _doc(
        "Closed topic list: {\"Trade\" = [\"commerce\"]} (name = synonyms). "
        "Empty: topics are free.", default_factory=dict)
    search: SearchConfig = _doc("Search settings.", default_factory=SearchConfig)
    feeds: FeedsConfig = _doc("Feed settings.", default_factory=FeedsConfig)
    deploy: DeployConfig = _doc("Branch deploy settings.", default_factory=DeployConfig)
    aliases: AliasesConfig = _doc("Old addresses of articles.", default_factory=AliasesConfig)
    favicon: FaviconConfig = _doc("The site's icons.", default_factory=FaviconConfig)
    footer: FooterConfig = _doc("What every page's foot links to.", default_factory=FooterConfig)
    images: ImagesConfig = _doc("Picture processing.", default_factory=ImagesConfig)
    hosting: HostingConfig = _doc("Host limits settings.", default_factory=HostingConfig)
    s3: S3Config = _doc("Object-storage deploy settings.", default_factory=S3Config)
    authors: tuple[AuthorEntry, ...] = _doc("The registry of authors (empty: authors are free text).", default=())
    # Not from site.toml: where the site lives and which templates apply.
    root: Path = field(default=Path("."), metadata={"internal": True})

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def output_dir(self) -> Path:
        return (self.root / self.output).resolve()

    @property
    def cache_dir(self) -> Path:
        return (self.root / self.cache).resolve()

    @property
    def template_dirs(self) -> tuple[Path, ...]:
        """The site's own templates first, then the default theme."""
        own = self.root / "templates"
        if own.is_dir() and own.resolve() != DEFAULT_THEME:
            return (own, DEFAULT_THEME)
        return (DEFAULT_THEME,)

    @property
    def base_path(self) -> str:
        """The URL path every internal link starts with, '/' or '/archive/'."""
        path = urlsplit(self.base_url).path or "/"
        return "/" + path.strip("/") + "/" if path.strip("/") else "/"

    @property
    def origin(self) -> str:
        """Scheme and host of base_url ('' when base_url is only a path)."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def publisher_name(self) -> str:
        return self.publisher or self.title

    @property
    def search_language(self) -> str:
        return self.search.language or self.language

    def fingerprint(self) -> str:
        """A hash of every setting that shapes the output (not the folders)."""
        values = dataclasses.asdict(self)
        values.pop("root")
        values.pop("output")
        values.pop("cache")
        values.pop("hosting")  # where the site is published does not change a byte of it
        values.pop("s3")
        text = json.dumps(values, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SchemaKey:
    """One key of site.toml as docs/config.md documents it."""

    key: str  # as the docs name it: 'title', '[search] enabled', '[countries] aliases'
    default: object
    doc: str


def schema_keys() -> list[SchemaKey]:
    """Every key site.toml accepts, with its default and its one-line meaning (from the
    ``_doc`` metadata): the reference docs/config.md is checked against it."""
    keys = []
    for item in dataclasses.fields(SiteConfig):
        if item.metadata.get("internal") or item.name in SECTIONS or item.name == "authors":
            continue
        nested = {target: table for table, target in NESTED_KEYS.items()}
        name = f"[{nested[item.name][0]}] {nested[item.name][1]}" if item.name in nested else item.name
        keys.append(SchemaKey(name, _default(item), item.metadata["doc"]))
    for section, cls in SECTIONS.items():
        for item in dataclasses.fields(cls):
            keys.append(SchemaKey(f"[{section}] {item.name}", _default(item), item.metadata["doc"]))
    for item in dataclasses.fields(AuthorEntry):
        if not item.metadata.get("internal"):
            keys.append(SchemaKey(f"[authors.<slug>] {item.name}", _default(item), item.metadata["doc"]))
    return keys


def _default(item: dataclasses.Field):
    return item.default_factory() if item.default is dataclasses.MISSING else item.default


# Fields set through a [table] of their own rather than a top-level key.
TABLE_FIELDS = {"search", "feeds", "deploy", "aliases", "favicon", "footer", "images", "hosting", "s3", "authors",
                "country_aliases", "topic_vocabulary"}
SECTIONS = {"search": SearchConfig, "feeds": FeedsConfig, "deploy": DeployConfig, "aliases": AliasesConfig,
            "favicon": FaviconConfig, "footer": FooterConfig, "images": ImagesConfig, "hosting": HostingConfig,
            "s3": S3Config}
# site.toml groups country aliases and topics in tables of their own.
NESTED_KEYS = {("countries", "aliases"): "country_aliases", ("topics", "vocabulary"): "topic_vocabulary"}


def _type_name(value_type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", dict: "a table",
            tuple: "a list of strings", Numbers: "a list of whole numbers"}.get(value_type, str(value_type))


class Numbers(tuple):
    """The expected type of a list of whole numbers (``tuple[int, ...]`` fields)."""


def _expected_type(cls, name: str):
    hint = {f.name: f for f in dataclasses.fields(cls)}[name].type
    return {"str": str, "int": int, "bool": bool, "dict": dict, "tuple[int, ...]": Numbers}.get(hint, tuple)


def _check_value(value, expected, where: str, problems: list[Problem], path: str, line: int):
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is tuple:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if expected is Numbers:
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        expected = tuple
    if not ok:
        problems.append(Problem(path, line, f"'{where}' must be {_type_name(expected)}, "
                                            f"not {type(value).__name__} {value!r}"))
        return None
    return tuple(value) if expected is tuple else value


def _unknown(key: str, known: list[str], where: str, path: str, line: int) -> Problem:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return Problem(path, line, f"unknown key '{where}'{hint}")


def _read_section(cls, table: dict, prefix: str, text: str, path: str, problems: list[Problem]):
    known = [f.name for f in dataclasses.fields(cls)
             if not f.metadata.get("internal") and f.name not in TABLE_FIELDS]
    values = {}
    for key, value in table.items():
        where = f"{prefix}{key}"
        line = _line(text, key, prefix.rstrip("."))
        if key not in known:
            problems.append(_unknown(key, known, where, path, line))
            continue
        checked = _check_value(value, _expected_type(cls, key), where, problems, path, line)
        if checked is not None:
            values[key] = checked
    return values


def check_site_folder(folder: Path) -> None:
    """Refuse, with what to do instead, a --site that is no site folder."""
    if folder.is_file():
        if folder.name == CONFIG_FILE:
            raise UsageError(f"--site {folder} is the configuration file; give the folder that holds it: "
                             f"--site {folder.parent}")
        raise UsageError(f"--site {folder} is a file; give the site folder (the one holding site.toml "
                         "and content/)")
    if not folder.exists():
        raise UsageError(f"--site {folder}: no such folder (builder init {folder} starts a new site there)")
    if not folder.is_dir():
        raise UsageError(f"--site {folder} is not a folder")
    if not (folder / CONFIG_FILE).is_file() and not (folder / "content").is_dir():
        where = str(folder) if folder.is_absolute() else f"{folder} ({folder.resolve()})"
        raise UsageError(f"{where} is not a site folder: it has no site.toml and no content/; "
                         "pass --site DIR, or start a site with builder init")


def load_config(root: Path, base_url: str | None = None) -> SiteConfig:
    """Read ``root/site.toml`` (defaults when absent); raise BuildFailed on any problem."""
    root = root.resolve()
    path = root / CONFIG_FILE
    problems: list[Problem] = []
    data: dict = {}
    text = ""
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except UnicodeDecodeError as error:
            problems.append(Problem(CONFIG_FILE, 0, f"not valid UTF-8 ({error.reason})"))
        except tomllib.TOMLDecodeError as error:
            line = getattr(error, "lineno", 0) or _line_from_message(str(error))
            problems.append(Problem(CONFIG_FILE, line, f"invalid TOML: {error}"))
    raise_if_any(problems)
    _check_text(data, text, problems)

    top = {}
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                problems.append(Problem(CONFIG_FILE, line_of_key(text, key),
                                        f"'{key}' must be a table ([{key}])"))
                continue
            top[key] = SECTIONS[key](**_read_section(SECTIONS[key], value, f"{key}.", text,
                                                     CONFIG_FILE, problems))
        elif key == "authors":
            top["authors"] = _read_authors(value, text, problems)
        elif key in ("countries", "topics"):
            inner = value if isinstance(value, dict) else {}
            for sub, sub_value in inner.items():
                target = NESTED_KEYS.get((key, sub))
                if target is None:
                    problems.append(_unknown(sub, [k[1] for k in NESTED_KEYS if k[0] == key],
                                             f"{key}.{sub}", CONFIG_FILE, _line(text, sub, key)))
                else:
                    top[target] = sub_value
            if not isinstance(value, dict):
                problems.append(Problem(CONFIG_FILE, line_of_key(text, key),
                                        f"'{key}' must be a table ([{key}])"))
        else:
            top.update(_read_section(SiteConfig, {key: value}, "", text, CONFIG_FILE, problems))
    _check_tables(top, text, problems)
    if base_url is not None:
        top["base_url"] = base_url
    raise_if_any(problems)
    config = SiteConfig(root=root, **top)
    _check_semantics(config, text, problems)
    raise_if_any(problems)
    return config


def _read_authors(value, text: str, problems: list[Problem]) -> tuple[AuthorEntry, ...]:
    """``[authors.<slug>]`` tables, each with a name (and optional url, bio, image)."""
    from builder.text import is_slug
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        problems.append(Problem(CONFIG_FILE, line_of_key(text, "authors"),
                                "'authors' must be tables of authors: [authors.a-reporter] with name = \"…\""))
        return ()
    entries = []
    for slug, table in value.items():
        where = f"authors.{slug}"
        line = _line(text, "name", where) if "name" in table else _table_line(text, where)
        if not is_slug(slug):
            problems.append(Problem(CONFIG_FILE, _table_line(text, where), f"[{where}]: '{slug}' is not a slug "
                                    "(lowercase letters, digits, hyphens): it names the author page"))
            continue
        values = _read_section(AuthorEntry, table, f"{where}.", text, CONFIG_FILE, problems)
        if not str(values.get("name", "")).strip():
            problems.append(Problem(CONFIG_FILE, line, f"[{where}] needs a name (name = \"A. Reporter\")"))
            continue
        url = values.get("url", "")
        if url and not url.startswith(("http://", "https://", "/")):
            problems.append(Problem(CONFIG_FILE, _line(text, "url", where),
                                    f"'{where}.url' must start with http://, https:// or /"))
        entries.append(AuthorEntry(slug=slug, **{k: " ".join(str(v).split()) if k == "name" else v
                                                  for k, v in values.items()}))
    return tuple(entries)


def _table_line(text: str, table: str) -> int:
    """The line of the header ``[table]`` (quoted keys such as [authors."a b"] included)."""
    for number, line in enumerate(text.splitlines(), start=1):
        header = line.split("#", 1)[0].strip()
        if header.startswith("[") and header.endswith("]"):
            name = ".".join(part.strip().strip("\"'") for part in header.strip("[]").split("."))
            if name == table:
                return number
    return 0


def _check_tables(top: dict, text: str, problems: list[Problem]) -> None:
    aliases = top.get("country_aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        problems.append(Problem(CONFIG_FILE, line_of_key(text, "aliases"),
                                "'countries.aliases' must map spellings to country codes or names"))
        top.pop("country_aliases", None)
    vocabulary = top.get("topic_vocabulary", {})
    if not isinstance(vocabulary, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in vocabulary.values()):
        problems.append(Problem(CONFIG_FILE, line_of_key(text, "vocabulary"),
                                "'topics.vocabulary' must map each topic to a list of synonyms"))
        top.pop("topic_vocabulary", None)


def _check_text(data, text: str, problems: list[Problem], where: str = "") -> None:
    """Every string in site.toml must be publishable: titles and names reach every page and feed."""
    from builder.safetext import excerpt, text_problem
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        name = f"{where}.{key}" if where else str(key)
        if isinstance(value, (dict, list)):
            _check_text(value, text, problems, name)
        elif isinstance(value, str):
            for piece, what in ((value, excerpt(name)), (str(key), f"the key {excerpt(name)}")):
                reason = text_problem(piece)
                if reason:
                    table, _, leaf = name.rpartition(".")
                    line = _line(text, leaf, table) or _line(text, f'"{leaf}"', table) or _table_line(text, table)
                    problems.append(Problem(CONFIG_FILE, line, f"{what} contains {reason}"))
                    break


def _check_semantics(config: SiteConfig, text: str, problems: list[Problem]) -> None:
    try:
        config.zone
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(CONFIG_FILE, line_of_key(text, "timezone"),
                                f"unknown time zone '{config.timezone}' (use an IANA name "
                                "such as 'Asia/Tokyo' or 'UTC')"))
    if config.page_size < 1:
        problems.append(Problem(CONFIG_FILE, line_of_key(text, "page_size"),
                                "'page_size' must be at least 1"))
    if config.feeds.size < 1:
        problems.append(Problem(CONFIG_FILE, _line(text, "size", "feeds"), "'feeds.size' must be at least 1"))
    aliases = tuple(sorted(config.country_aliases.items()))
    for spelling, message in country_index(aliases).problems if aliases else ():
        line = _line(text, spelling, "countries.aliases") or _line(text, "aliases", "countries")
        problems.append(Problem(CONFIG_FILE, line, message))
    images = config.images
    if not images.widths or any(not 16 <= w <= 8192 for w in images.widths):
        problems.append(Problem(CONFIG_FILE, _line(text, "widths", "images"),
                                "'images.widths' must list widths from 16 to 8192 pixels"))
    if not 1 <= images.quality <= 100:
        problems.append(Problem(CONFIG_FILE, _line(text, "quality", "images"), "'images.quality' must be from 1 to 100"))
    for key in ("crop_width", "thumbnail"):
        if not 16 <= getattr(images, key) <= 8192:
            problems.append(Problem(CONFIG_FILE, _line(text, key, "images"), f"'images.{key}' must be from 16 to 8192"))
    for title, link in config.footer.links.items():
        if not isinstance(link, str) or not link.startswith(("http://", "https://", "/")):
            problems.append(Problem(CONFIG_FILE, _line(text, "links", "footer") or _line(text, title, "footer.links"),
                                    f"'footer.links' {title!r} must be a URL (http://, https:// or a site path /…)"))
    for key in ("background", "foreground"):
        if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", getattr(config.favicon, key)):
            problems.append(Problem(CONFIG_FILE, _line(text, key, "favicon"),
                                    f"'favicon.{key}' must be a colour such as \"#9c1c1c\""))
    if len(config.favicon.initials) > 3:
        problems.append(Problem(CONFIG_FILE, _line(text, "initials", "favicon"),
                                "'favicon.initials' must be at most three letters"))
    if config.favicon.image and not (config.root / config.favicon.image).is_file():
        problems.append(Problem(CONFIG_FILE, _line(text, "image", "favicon"),
                                f"'favicon.image': no file {config.favicon.image} in the site folder"))
    parts = urlsplit(config.base_url)
    if parts.scheme not in ("", "http", "https") or (parts.scheme and not parts.netloc):
        problems.append(Problem(CONFIG_FILE, line_of_key(text, "base_url"),
                                f"'base_url' must be an http(s) URL or a path, not {config.base_url!r}"))
    if config.hosting.target not in TARGETS:
        close = difflib.get_close_matches(config.hosting.target, TARGETS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(Problem(CONFIG_FILE, _line(text, "target", "hosting"),
                                f"'hosting.target' must be one of {', '.join(TARGETS)}, not "
                                f"{config.hosting.target!r}{hint}"))
    endpoint = urlsplit(config.s3.endpoint_url)
    if config.s3.endpoint_url and (endpoint.scheme not in ("http", "https") or not endpoint.netloc):
        problems.append(Problem(CONFIG_FILE, _line(text, "endpoint_url", "s3"),
                                f"'s3.endpoint_url' must be an http(s) URL such as "
                                f"'https://ACCOUNT.r2.cloudflarestorage.com', not {config.s3.endpoint_url!r}"))


TABLE_HEADER = re.compile(r"^\[\[?\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(#.*)?$")


def _line(text: str, key: str, table: str = "") -> int:
    """The line of ``key`` inside ``[table]`` ('' = the top level), else of its first use.

    The same key name can appear in several tables ('language' at the top and
    in [search]); a problem must point at the one it is about.
    """
    lines = text.splitlines()
    headers = [(i, m.group(1)) for i, line in enumerate(lines) if (m := TABLE_HEADER.match(line.strip()))]
    if table:
        starts = [i for i, name in headers if name == table]
        if not starts:  # an inline table or dotted keys: the first match will do
            return line_of_key(text, key)
        start = starts[0] + 1
        end = next((i for i, _ in headers if i >= start), len(lines))
    else:
        start, end = 0, headers[0][0] if headers else len(lines)
    for candidate in (key, f'"{key}"'):
        line = line_of_key("\n".join(lines[start:end]), candidate, first_line=start + 1)
        if line:
            return line
    return line_of_key(text, key)


def _line_from_message(message: str) -> int:
    marker = "line "
    if marker in message:
        digits = message.split(marker, 1)[1].split()[0].rstrip(",)")
        if digits.isdigit():
            return int(digits)
    return 0
