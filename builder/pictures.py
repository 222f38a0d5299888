"""Pictures: the helpers that show a local picture with its resized variants (lead, thumbnail, body, meta)."""

from __future__ import annotations

import re
from html import unescape

from markupsafe import Markup

LEAD_SIZES = "(min-width: 64rem) 42rem, 100vw"  # the article column: 42rem on a desktop, the screen below
BODY_SIZES = "(min-width: 64rem) 40rem, 100vw"
THUMB_SIZES = "(min-width: 64rem) 20rem, (min-width: 48rem) 45vw, 100vw"
LEAD_CARD_SIZES = "(min-width: 64rem) 44rem, 100vw"


def make_pictures(urls, images) -> dict:
    """The helpers that show pictures: every local one with its resized variants, width and
    height (no layout shift), lazily but for an article's lead picture."""
    index = images

    def picture_markup(found, alt: str, sizes: str, eager: bool = False, css: str = "") -> Markup:
        own = found.picture.suffix
        largest = found.largest
        loading = Markup(' loading="eager" fetchpriority="high"') if eager else Markup(' loading="lazy"')
        return Markup('<picture{}><source type="image/webp" srcset="{}" sizes="{}">'
                      '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}"{} decoding="async"></picture>'
                      ).format(Markup(f' class="{css}"') if css else "", _srcset(urls, found, "webp"), sizes,
                               urls.image(largest.output), _srcset(urls, found, own), sizes, largest.width,
                               largest.height, alt, loading)

    def lead_picture(article, eager: bool = False) -> Markup:
        """The lead image: its variants, or an http(s) picture as it is."""
        image = article.image
        found = index.lead(image) if index is not None else None
        if found is None:
            return Markup('<img src="{}" alt="{}"{}>').format(
                urls.link(image.src), image.alt, Markup("") if eager else Markup(' loading="lazy"'))
        return picture_markup(found, image.alt, LEAD_SIZES, eager)

    def thumbnail(article, large: bool = False) -> Markup:
        """A listing's 4:3 picture of the lead image ('' when it has none, or an http(s) one):
        the thumbnail, and the 4:3 crop for a lead story or a wide screen. Decorative: the
        story's headline says what the card is."""
        found = index.lead(article.image) if index is not None and article.image else None
        if found is None or found.thumbnail is None:
            return Markup("")
        thumb, crop = found.thumbnail, dict(found.crops)["4x3"]
        srcset = f"{urls.image(thumb.output)} {thumb.width}w"
        if crop.width > thumb.width:
            srcset += f", {urls.image(crop.output)} {crop.width}w"
        # The lead story's picture is the home page's largest paint: fetched at once, first.
        loading = Markup('loading="eager" fetchpriority="high"') if large else Markup('loading="lazy"')
        return Markup('<img class="story-thumb" src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="" '
                      '{} decoding="async">').format(urls.image(thumb.output), srcset,
                                                     LEAD_CARD_SIZES if large else THUMB_SIZES,
                                                     thumb.width, thumb.height, loading)

    def image_meta(article) -> list:
        """(absolute URL, width, height) of the lead image's crops (16:9, 4:3, 1:1), or of an
        http(s) picture as it is (no size known); [] without a lead image."""
        image = article.image
        if image is None:
            return []
        found = index.lead(image) if index is not None else None
        if found is None:
            return [(urls.absolute(urls.link(image.src)), 0, 0)]
        return [(urls.absolute(urls.image(v.output)), v.width, v.height) for _, v in found.crops]

    def body_pictures(html: str, article) -> str:
        """A body with each placeholder (builder.markdown) replaced by its picture."""
        def replace(match) -> str:
            found = index.body(unescape(match[1])) if index is not None else None
            if found is None:
                return match[0]
            return str(picture_markup(found, Markup(match[2]), BODY_SIZES, css="body-picture"))
        return PLACEHOLDER.sub(replace, html)

    return {"lead_picture": lead_picture, "thumbnail": thumbnail, "image_meta": image_meta,
            "body_pictures": body_pictures}


PLACEHOLDER = re.compile(r'<img data-builder-image="([^"]*)" alt="([^"]*)">')


def _srcset(urls, found, kind: str) -> str:
    return ", ".join(f"{urls.image(v.output)} {v.width}w" for v in found.variants if v.kind == kind)
