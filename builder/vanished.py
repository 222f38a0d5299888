"""Vanished: article addresses the last build published that this build no longer has.

A changed slug or date moves an article to a new address, and a deleted article
leaves its address answering "not found"; every link and bookmark to it breaks. When
no alias covers the old address, the build and ``check`` name it, the article that
moved (found by its file, else by its slug), and the alias line that would keep it.
"""

from __future__ import annotations

from builder.content import Content
from builder.model import Article
from builder.pages import Page
from builder.urls import Urls


def published(pages: tuple[Page, ...], urls: Urls) -> dict[str, tuple[str, str]]:
    """{article address relative to the base path: (source path, slug)} of this build."""
    return {_relative(page.url, urls): (page.context.article.path, page.context.article.slug)
            for page in pages if page.kind == "article"}


def vanished_notes(before: dict[str, tuple[str, str]], pages: tuple[Page, ...], content: Content,
                   urls: Urls) -> list[str]:
    """A note for every address published before and answered by no page now."""
    if not before:
        return []
    now = {_relative(page.url, urls) for page in pages}
    by_path = {a.path: a for a in content.articles}
    by_slug = {a.slug: a for a in content.articles}
    scheduled = {a.path: a for a in content.scheduled}
    notes = []
    for address, (path, slug) in sorted(before.items()):
        if address in now:
            continue
        old = "/" + address
        moved = by_path.get(path) or by_slug.get(slug)
        if moved is not None:
            notes.append(f"{moved.path} moved from {old} to {_site_path(urls.article(moved), urls)}: add "
                         f"aliases: [\"{old}\"] to its front matter to keep its old address working")
        elif path in scheduled:
            notes.append(f"{path} was published at {old} and is now held back until "
                         f"{_when(scheduled[path])}: its address answers 'not found' until then")
        else:
            notes.append(f"the article published at {old} ({path}) is gone: its address now answers "
                         f"'not found'; to send readers elsewhere, add \"{old}\" to another article's aliases")
    return notes


def _relative(url: str, urls: Urls) -> str:
    return url[len(urls.base_path):] if url.startswith(urls.base_path) else url.lstrip("/")


def _site_path(url: str, urls: Urls) -> str:
    return "/" + _relative(url, urls)


def _when(article: Article) -> str:
    return article.date.isoformat()
