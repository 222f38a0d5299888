"""Images: every local picture of the archive resized, cropped and served responsively.

A picture kept with the site — beside an article's Markdown, or under ``static/`` —
is read once to learn its size and format (``scan_images``; a picture whose size and
time did not change is not read again), and planned as a set of files named by the
hash of its bytes and the settings (``images/<key>/…``):

- resized variants at ``[images] widths`` (never wider than the picture), in WebP and
  in the picture's own format (PNG stays PNG; other formats become JPEG);
- for a lead image, 16:9, 4:3 and 1:1 crops ``[images] crop_width`` wide (around its
  ``focus``), for search engines and social cards, and a thumbnail for listings.

``produce_images`` makes only the files the output lacks (from the cache's copies when
it has them, else with Pillow in worker processes), so a rebuild processes nothing and
a changed picture processes only itself. Outputs carry no metadata (EXIF, GPS, text
chunks): only the pixels and the colour profile are kept.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from builder.problems import Problem

CROPS = (("16x9", 16, 9), ("4x3", 4, 3), ("1x1", 1, 1))
MAX_PIXELS = 100_000_000  # a decompression bomb past this (Pillow warns at 89 million)
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png", "MPO": "jpg"}


@dataclass(frozen=True)
class Picture:
    """What the build knows of one local picture file."""

    file: str  # relative to the site folder: 'content/2025/photo.jpg', 'static/images/x.png'
    sha: str  # sha256 of its bytes
    width: int
    height: int
    format: str  # Pillow's name: 'JPEG', 'PNG', 'WEBP', 'GIF'

    @property
    def suffix(self) -> str:
        """The extension of its variants in its own format ('png' keeps transparency)."""
        return "png" if self.format in ("PNG", "GIF") else "jpg"


@dataclass(frozen=True)
class Variant:
    """One file made from a picture."""

    output: str  # relative to the output folder
    width: int
    height: int
    kind: str  # 'webp', 'jpg' or 'png'
    box: tuple[int, int, int, int] | None = None  # the crop, in the picture's pixels (None: all of it)


@dataclass(frozen=True)
class ImageSet:
    """Every file made from one picture, and what the templates show."""

    picture: Picture
    variants: tuple[Variant, ...]  # resized, in both kinds, narrowest first
    crops: tuple[tuple[str, Variant], ...]  # ('16x9', variant) … (lead images)
    thumbnail: Variant | None  # 4:3, for listings (lead images)

    @property
    def largest(self) -> Variant:
        own = [v for v in self.variants if v.kind != "webp"]
        return own[-1]

    def srcset(self, kind: str) -> str:
        return ", ".join(f"{v.output} {v.width}w" for v in self.variants if v.kind == kind)

    def files(self) -> tuple[Variant, ...]:
        return self.variants + tuple(v for _, v in self.crops) + ((self.thumbnail,) if self.thumbnail else ())


def image_key(picture: Picture, settings, focus=(0.5, 0.5)) -> str:
    """Names the folder of a picture's files: its bytes, the settings, the crops' focus."""
    text = repr((picture.sha, settings.widths, settings.quality, settings.crop_width, settings.thumbnail, focus))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_set(picture: Picture, settings, lead: bool, focus=(0.5, 0.5)) -> ImageSet:
    """The files of a picture (crops and a thumbnail only for a lead image)."""
    key = image_key(picture, settings, focus if lead else (0.5, 0.5))
    stem = _stem(picture.file)
    folder = f"images/{key}"
    widths = sorted({w for w in settings.widths if w < picture.width} | {min(picture.width, max(settings.widths))})
    variants = []
    for width in widths:
        height = round(picture.height * width / picture.width)
        for kind in ("webp", picture.suffix):
            variants.append(Variant(f"{folder}/{stem}-{width}.{kind}", width, height, kind))
    crops, thumbnail = [], None
    if lead:
        for name, across, down in CROPS:
            box = crop_box(picture.width, picture.height, across, down, focus)
            width = min(settings.crop_width, box[2] - box[0])
            height = round(width * down / across)
            crops.append((name, Variant(f"{folder}/{stem}-{name}-{width}.jpg", width, height, "jpg", box)))
        box = crop_box(picture.width, picture.height, 4, 3, focus)
        width = min(settings.thumbnail, box[2] - box[0])
        thumbnail = Variant(f"{folder}/{stem}-thumb-{width}.webp", width, round(width * 3 / 4), "webp", box)
    return ImageSet(picture, tuple(variants), tuple(crops), thumbnail)


def crop_box(width: int, height: int, across: int, down: int, focus) -> tuple[int, int, int, int]:
    """The largest across:down box in a width × height picture, centred on ``focus`` as far as
    the edges allow."""
    if width * down > height * across:  # wider than the ratio: full height
        box_height, box_width = height, round(height * across / down)
    else:
        box_width, box_height = width, round(width * down / across)
    left = min(max(round(focus[0] * width - box_width / 2), 0), width - box_width)
    top = min(max(round(focus[1] * height - box_height / 2), 0), height - box_height)
    return (left, top, left + box_width, top + box_height)


def _stem(file: str) -> str:
    from builder.text import slugify
    return slugify(os.path.splitext(os.path.basename(file))[0]) or "image"


# -- reading the pictures ------------------------------------------------------------------------

def read_picture(root: Path, file: str, known: dict) -> tuple[Picture | None, str, tuple]:
    """(the Picture or None, why not, the file's (size, mtime)); ``known`` maps a file to
    (stat, Picture) from the last build: a file whose size and time match is not read."""
    path = root / file
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None, "no such picture file", ()
    except OSError as error:
        return None, f"cannot read the picture: {error.strerror}", ()
    stat = (info.st_size, info.st_mtime_ns)
    cached = known.get(file)
    if cached and cached[0] == stat:
        return cached[1], "", stat
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, f"cannot read the picture: {error.strerror}", stat
    picture, reason = describe(file, data)
    return picture, reason, stat


def describe(file: str, data: bytes) -> tuple[Picture | None, str]:
    """A Picture from a file's bytes, or why it is none (not a picture, damaged, too large)."""
    from PIL import Image, UnidentifiedImageError
    # Opening reads only the header: the size is checked here, against our own limit,
    # before a single pixel is decoded (Pillow's own check would stop at open with no size).
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(io.BytesIO(data)) as image:
            size, kind = image.size, image.format
            if size[0] * size[1] > MAX_PIXELS:
                return None, f"the picture is {size[0]}×{size[1]} pixels: too large to process (a decompression bomb?)"
            image.load()  # a truncated or damaged file fails here, not later
    except UnidentifiedImageError:
        return None, "not a picture Pillow can read (JPEG, PNG, WebP or GIF)"
    except (OSError, SyntaxError, ValueError) as error:
        return None, f"the picture is damaged or truncated ({str(error)[:80]})"
    if kind not in FORMATS:
        return None, f"a {kind} picture: use JPEG, PNG, WebP or GIF"
    return Picture(file, hashlib.sha256(data).hexdigest(), size[0], size[1], kind), ""


@dataclass(frozen=True)
class ImageIndex:
    """Every local picture the published articles use, with its planned files."""

    sets: dict  # (file, lead, focus) -> ImageSet
    pictures: dict  # file -> Picture

    def lead(self, image):
        """The ImageSet of a lead Image (None for an http(s) one)."""
        return self.sets.get((image.file, True, image.focus)) if image is not None and image.file else None

    def body(self, file: str):
        return self.sets.get((file, False, (0.5, 0.5)))

    def key_of(self, article) -> str:
        """What an article's pages depend on of its pictures (for page fingerprints)."""
        parts = []
        if article.image is not None and article.image.file:
            found = self.lead(article.image)
            parts.append(found.variants[0].output if found else "?")
        for file, _, _ in article.body_images:
            found = self.body(file)
            parts.append(found.variants[0].output if found else "?")
        return ",".join(parts)


def scan_images(root: Path, articles, settings, known: dict) -> tuple[ImageIndex, dict, list[Problem]]:
    """The image index of ``articles``, the files' (stat, Picture) for the next build, and a
    problem for every picture that cannot be used (naming the article and the image's line)."""
    wanted: dict[str, list] = {}
    for article in articles:
        if article.image is not None and article.image.file:
            wanted.setdefault(article.image.file, []).append((article, article.image.line))
        for file, alt, line in article.body_images:
            wanted.setdefault(file, []).append((article, line))
    pictures, seen, problems = {}, {}, []
    for file in sorted(wanted):
        picture, reason, stat = read_picture(root, file, known)
        if picture is None:
            for article, line in wanted[file]:
                problems.append(Problem(article.path, line, f"image {file}: {reason}"))
            continue
        pictures[file], seen[file] = picture, (stat, picture)
    for article in articles:
        for file, alt, line in article.body_images:
            if not alt.strip():
                problems.append(Problem(article.path, line, f"the picture {file} has no alt text: describe it "
                                                            "in ![…](…)"))
    return ImageIndex(_plan_sets(articles, pictures, settings), pictures), seen, problems


def index_of(articles, known: dict, settings) -> ImageIndex:
    """The image index of ``articles`` from the pictures the last build read (a patch: no
    picture changed, or the whole pipeline would run)."""
    pictures = {file: picture for file, (_, picture) in known.items()}
    return ImageIndex(_plan_sets(articles, pictures, settings), pictures)


def _plan_sets(articles, pictures: dict, settings) -> dict:
    """The files to make of each usable picture, keyed (file, lead, focus): a lead image
    gets crops and a thumbnail, a body image only its resized variants."""
    sets = {}
    for article in articles:
        image = article.image
        if image is not None and image.file in pictures:
            sets[(image.file, True, image.focus)] = plan_set(pictures[image.file], settings, True, image.focus)
        for file, _, _ in article.body_images:
            if file in pictures:
                sets[(file, False, (0.5, 0.5))] = plan_set(pictures[file], settings, False)
    return sets


def small_lead_notes(index: ImageIndex, articles, settings) -> list[str]:
    """A warning for every lead image too small for the 1,200-pixel crops search engines ask for."""
    notes = []
    for article in articles:
        found = index.lead(article.image)
        if found is not None:
            narrowest = min(v.width for _, v in found.crops)
            if narrowest < settings.crop_width:
                notes.append(f"{article.path}: the lead image {article.image.file} makes crops only "
                             f"{narrowest} px wide (search engines ask for {settings.crop_width}): use a larger picture")
    return notes


# -- making the files ----------------------------------------------------------------------------

def render_variants(picture_bytes: bytes, picture: Picture, variants: list[Variant], quality: int) -> list[bytes]:
    """The bytes of each variant of one picture, decoded once.

    Resized variants are made widest first, each from the one before (a fraction of the
    work of resizing the whole picture every time); crops come from the widest resized
    picture when it holds enough pixels for them.
    """
    from PIL import Image, ImageOps
    with Image.open(io.BytesIO(picture_bytes)) as opened:
        image = ImageOps.exif_transpose(opened) if picture.format in ("JPEG", "MPO", "WEBP") else opened
        icc = opened.info.get("icc_profile")
        mode = "RGBA" if picture.suffix == "png" and image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
        image = image.convert(mode)
    made: dict[int, bytes] = {}
    resized: dict[tuple[int, int], object] = {}
    current = image
    whole = [(i, v) for i, v in enumerate(variants) if v.box is None]
    for index, variant in sorted(whole, key=lambda item: -item[1].width):
        size = (variant.width, variant.height)
        if size not in resized:
            resized[size] = current if current.size == size else current.resize(size, Image.LANCZOS, reducing_gap=3.0)
            current = resized[size]
        made[index] = _encode(resized[size], variant.kind, quality, icc)
    widest = max(resized.values(), key=lambda im: im.width) if resized else image
    scale = widest.width / image.width
    for index, variant in enumerate(variants):
        if variant.box is None:
            continue
        left, top, right, bottom = variant.box
        source, factor = (widest, scale) if (right - left) * scale >= variant.width else (image, 1.0)
        part = source.crop(tuple(round(edge * factor) for edge in variant.box))
        if part.size != (variant.width, variant.height):
            part = part.resize((variant.width, variant.height), Image.LANCZOS, reducing_gap=3.0)
        made[index] = _encode(part, variant.kind, quality, icc)
    return [made[index] for index in range(len(variants))]


def _encode(image, kind: str, quality: int, icc) -> bytes:
    buffer = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if kind == "webp":
        # method 2 of 6: a fifth of method 4's time for files a fifth larger, measured here
        image.save(buffer, format="WEBP", quality=quality, method=2, **extra)
    elif kind == "png":
        image.save(buffer, format="PNG", optimize=True, **extra)
    else:
        (image.convert("RGB") if image.mode != "RGB" else image).save(
            buffer, format="JPEG", quality=quality, optimize=True, progressive=True, **extra)
    return buffer.getvalue()


def produce_images(index: ImageIndex, root: Path, staging, existing, cache_folder: Path | None, quality: int,
                   jobs: int, advance=None) -> tuple[list[str], set[str]]:
    """Stage every planned picture file the output lacks; return (staged, every planned file).

    A file the output has is the file (names carry the hash of the bytes and the settings);
    one the cache's ``images/`` folder has is copied from there; the rest are made, one
    picture per job in worker processes, and kept in the cache too.
    """
    from builder import workers
    wanted: set[str] = set()
    todo: dict[str, tuple[Picture, dict[str, Variant]]] = {}
    staged: list[str] = []
    for found in index.sets.values():
        for variant in found.files():
            if variant.output in wanted:
                continue
            wanted.add(variant.output)
            if variant.output in existing:
                continue
            kept = cache_folder / variant.output if cache_folder is not None else None
            if kept is not None and kept.is_file():
                if staging.write(variant.output, kept.read_bytes()):
                    staged.append(variant.output)
                continue
            todo.setdefault(found.picture.file, (found.picture, {}))[1][variant.output] = variant

    def make(chunk):
        made = []
        for picture, variants in chunk:
            data = (root / picture.file).read_bytes()
            ordered = sorted(variants.values(), key=lambda v: v.output)
            for variant, encoded in zip(ordered, render_variants(data, picture, ordered, quality)):
                if cache_folder is not None:
                    _keep(cache_folder / variant.output, encoded)
                if staging.write(variant.output, encoded):
                    made.append(variant.output)
        return made

    staged += workers.run(make, [todo[file] for file in sorted(todo)], jobs, advance, per_worker=1)
    return sorted(staged), wanted


def _keep(path: Path, data: bytes) -> None:
    """Write a made file into the cache (atomically: a half-written one would be reused)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
