"""Favicon: the site's icons and web app manifest, made from site.toml.

From ``[favicon] image`` (a square picture the site provides) or, by default, the
site's initials on a coloured square: ``favicon.svg`` (when it can be a vector),
``favicon.ico`` (16, 32 and 48 px: what browsers and crawlers ask for at the root),
``apple-touch-icon.png`` (180 px), ``icon-192.png`` and ``icon-512.png`` for
``manifest.webmanifest``. Pillow draws them; the same settings give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path
from html import escape  # quotes too: two of these go into attribute values

ICON_SIZES = {"apple-touch-icon.png": 180, "icon-192.png": 192, "icon-512.png": 512}
ICO_SIZES = [(16, 16), (32, 32), (48, 48)]


def initials(title: str) -> str:
    """Up to two letters for an icon: 'Curated News Archive' gives 'CN'."""
    words = [w for w in title.replace("-", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "N"


def icon_files(config, image_path: Path | None, remembered: dict | None = None) -> dict[str, bytes]:
    """Every icon file and the manifest, by output path.

    ``remembered`` (kept in the cache): the icons the last build made and what they were made
    from; they are reused when that is the same (drawing and compressing them, with Pillow's
    import, took 0.2 s of every full build), and the dict is updated otherwise.
    """
    settings = config.favicon
    text = settings.initials or initials(config.title)
    source = image_path.read_bytes() if image_path else b""
    suffix = image_path.suffix.lower() if image_path else ""
    made_from = (text, settings.background, settings.foreground, hashlib.sha256(source).hexdigest(), suffix)
    if remembered is not None and remembered.get("made_from") == made_from:
        files = dict(remembered["icons"])
    else:
        icons = _icons(text, settings.background, settings.foreground, source, suffix)
        if remembered is not None:
            remembered.clear()
            remembered.update(made_from=made_from, icons=icons)
        files = dict(icons)
    files["manifest.webmanifest"] = manifest(config).encode("utf-8")
    return files


@lru_cache(maxsize=4)  # serve rebuilds: the icons change only with their settings
def _icons(text: str, background: str, foreground: str, source: bytes, suffix: str) -> tuple:
    from PIL import Image
    if source and suffix == ".svg":
        square = None  # a vector image: kept as it is, PNGs drawn from the initials
        svg = source
    elif source:
        square = _square(Image.open(io.BytesIO(source)))
        svg = None
    else:
        square, svg = None, _initials_svg(text, background, foreground).encode("utf-8")
    made = {}
    if svg is not None:
        made["favicon.svg"] = svg
    for name, size in ICON_SIZES.items():
        made[name] = _png(square.resize((size, size), Image.LANCZOS) if square else
                          _initials_png_image(text, background, foreground, size))
    largest = square.resize((48, 48), Image.LANCZOS) if square else _initials_png_image(text, background, foreground, 48)
    buffer = io.BytesIO()
    largest.save(buffer, format="ICO", sizes=ICO_SIZES)
    made["favicon.ico"] = buffer.getvalue()
    return tuple(sorted(made.items()))


def _square(image):
    """The picture cropped to its centre square, in RGBA (EXIF and other metadata dropped)."""
    image = image.convert("RGBA")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side))


def _initials_svg(text: str, background: str, foreground: str) -> str:
    size = 44 if len(text) > 1 else 52
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
            f'<rect width="100" height="100" rx="18" fill="{escape(background)}"/>'
            f'<text x="50" y="50" dy=".35em" text-anchor="middle" font-family="Georgia, serif" '
            f'font-weight="700" font-size="{size}" fill="{escape(foreground)}">{escape(text)}</text></svg>\n')


def _initials_png_image(text: str, background: str, foreground: str, size: int):
    from PIL import Image, ImageDraw, ImageFont
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=max(2, size * 18 // 100), fill=background)
    font = ImageFont.load_default(size=max(8, size * (44 if len(text) > 1 else 52) // 100))
    draw.text((size / 2, size / 2), text, fill=foreground, font=font, anchor="mm")
    return image


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def manifest(config) -> str:
    """The web app manifest: name, icons, colours, where the site starts."""
    base = config.base_path
    data = {
        "name": config.title,
        "short_name": config.title[:12].strip() or config.title,
        "description": config.description or config.title,
        "lang": config.language,
        "start_url": base,
        "scope": base,
        "display": "browser",
        "background_color": config.favicon.background,
        "theme_color": config.favicon.background,
        "icons": [{"src": f"{base}icon-192.png", "sizes": "192x192", "type": "image/png"},
                  {"src": f"{base}icon-512.png", "sizes": "512x512", "type": "image/png"}],
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"
