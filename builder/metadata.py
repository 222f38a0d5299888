"""Metadata: what an article page tells search engines and link previews, computed once
in Python: its absolute URL, lead image crops, section and schema.org NewsArticle (JSON-LD).

The theme's ``_article_meta.html`` wrote the JSON-LD with a dozen ``tojson`` filters, loops
and conditions on every article page; one Python call makes the same bytes. Each value is
serialised as ``tojson`` does (jinja2's ``htmlsafe_json_dumps``: ``json.dumps``, then ``<``,
``>``, ``&`` and ``'`` as Unicode escapes, so no value can close the ``<script>``); a test
compares them on hostile text.
"""

from __future__ import annotations

from dataclasses import dataclass
from json.encoder import encode_basestring_ascii

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup


def _json(value: str) -> str:
    """A string as ``tojson`` writes it: what ``json.dumps`` gives (ASCII, C code), without
    building a JSONEncoder for each value, then the HTML-unsafe characters escaped."""
    if type(value) is not str:  # every field it is given is text; anything else as tojson writes it
        return htmlsafe_json_dumps(value, sort_keys=True)
    return (encode_basestring_ascii(value).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("'", "\\u0027"))


def _json_list(values) -> str:
    """A list of strings as ``tojson`` writes it (``json.dumps``' separators)."""
    return "[" + ", ".join(_json(value) for value in values) + "]"


@dataclass(frozen=True)
class ArticleMeta:
    """An article page's metadata, as ``_article_meta.html`` shows it."""

    link: str  # the page's absolute URL
    images: list  # (absolute URL, width, height) of the lead image's crops; [] without one
    image: str  # the first of them ('' without)
    section: object  # the first topic, else the first country, else None
    json_ld: Markup  # the NewsArticle, one key a line, safe inside <script>


def make_metadata(urls, language: str, publisher: str, author_url, image_meta, datetime_attr) -> dict:
    """The ``article_meta`` helper every template can call, for this site's URLs and names."""
    publisher_json = _json(publisher)
    language_json = _json(language)
    organization = f'{{"@type": "Organization", "name": {publisher_json}}}'

    def person(author) -> str:
        link = f', "url": {_json(author_url(author))}' if author.slug else ""
        return f'{{"@type": "Person", "name": {_json(author.name)}{link}}}'

    def article_meta(article, links, page_url: str) -> ArticleMeta:
        """``article``'s metadata; ``links`` names its story, ``page_url`` is its page."""
        absolute = urls.absolute(page_url)
        images = image_meta(article)
        image = images[0][0] if images else ""
        section = (article.topics or article.countries or (None,))[0]
        return ArticleMeta(absolute, images, image, section, json_ld(article, links, absolute, images, image))

    def json_ld(article, links, absolute: str, images: list, image: str) -> Markup:
        link = _json(absolute)
        lines = ['{',
                 '  "@context": "https://schema.org",',
                 '  "@type": "NewsArticle",',
                 f'  "headline": {_json(article.title)},',
                 f'  "description": {_json(article.summary)},',
                 f'  "url": {link},',
                 f'  "mainEntityOfPage": {link},',
                 f'  "datePublished": {_json(datetime_attr(article.date))},',
                 f'  "dateModified": {_json(datetime_attr(article.last_modified))},',
                 f'  "inLanguage": {language_json},',
                 f'  "author": [{", ".join(person(a) for a in article.authors) or organization}],']
        if links.story:
            story = links.story.story
            lines.append(f'  "isPartOf": {{"@type": "CreativeWorkSeries", "name": {_json(story.name)}, '
                         f'"url": {_json(urls.absolute(urls.story(story)))}}},')
        lines.append(f'  "publisher": {organization},')
        if image:
            lines.append(f'  "image": {_json_list(crop[0] for crop in images)},')
        if article.corrections:
            corrections = ", ".join(f'{{"@type": "CorrectionComment", "datePublished": '
                                    f'{_json(datetime_attr(c.date))}, "text": {_json(c.text)}}}'
                                    for c in article.corrections)
            lines.append(f'  "correction": [{corrections}],')
        if article.source and article.source.url:
            lines.append(f'  "isBasedOn": {_json(urls.link(article.source.url))},')
        lines.append(f'  "keywords": {_json_list(term.name for term in article.terms)}')
        lines.append('}')
        return Markup("\n".join(lines))

    return {"article_meta": article_meta}
