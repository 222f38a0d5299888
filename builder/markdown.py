"""Markdown to HTML with markdown-it-py: CommonMark plus tables, strikethrough,
footnotes and heading anchors; raw HTML escaped unless the site allows it."""

from __future__ import annotations

from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin

from builder.safetext import clean_body, plain_inline
from builder.text import shorten, slugify
from builder.urls import local_image_file, under_base


@lru_cache(maxsize=4)
def markdown_renderer(allow_html: bool, base_path: str, origin: str = "") -> MarkdownIt:
    """A configured renderer (built once per process and setting)."""
    # The 'commonmark' preset plus single rules: 'gfm-like' adds linkify,
    # which costs about 4x the time on a large archive (see the bench notes).
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=slugify, permalink=False)
    # Links repeat across an archive; normalizing one (punycode, percent-encoding) is costly.
    md.normalizeLink = lru_cache(maxsize=8192)(md.normalizeLink)
    md.core.ruler.push("site_tokens", _site_tokens(base_path, origin))
    _quiet_block_rules()
    return md


def _quiet_block_rules() -> None:
    """markdown-it's block rules log a debug line each time one is tried (a million calls at
    10,000 articles, 2 % of parsing): with debug logging off, their loggers do nothing."""
    import logging
    if logging.getLogger("markdown_it").isEnabledFor(logging.DEBUG):
        return
    import importlib
    import pkgutil
    import markdown_it.rules_block as rules
    for module in pkgutil.iter_modules(rules.__path__):
        rule = importlib.import_module(f"{rules.__name__}.{module.name}")
        if isinstance(getattr(rule, "LOGGER", None), logging.Logger):
            rule.LOGGER = _Silent()


class _Silent:
    def debug(self, *args, **kwargs) -> None:
        pass


IMAGE_PLACEHOLDER = '<img data-builder-image="{file}" alt="{alt}">'
EXTERNAL_HINT = '<span class="visually-hidden" data-pagefind-ignore> (external site)</span>'


def _site_tokens(base_path: str, origin: str):
    """One pass over the parsed tokens for what the site changes in a body:

    - a '# Heading' becomes <h2>: the page's one <h1> is the article's title;
    - a picture kept with the site (beside the article, or under static/) becomes a
      placeholder that the renderer fills with its resized variants (builder.images); its
      file, alt text and line are noted in ``env['images']``;
    - root-relative links and other pictures ('/2025/…') move under the base path (builder.urls);
    - links to other sites get rel="external noopener", the class ``external`` (the theme
      marks them) and a hint for screen readers, kept out of the search index.
    """
    from markdown_it.token import Token
    prefix = base_path != "/"

    def rule(state) -> None:
        article = state.env.get("article_path", "")
        first_line = state.env.get("first_line", 1)
        found = state.env.setdefault("images", [])
        for token in state.tokens:
            if token.tag == "h1" and token.type in ("heading_open", "heading_close"):
                token.tag = "h2"
            children = token.children
            if not children:
                continue
            external = []
            for index, child in enumerate(children):
                kind = child.type
                if kind == "link_open":
                    href = child.attrGet("href")
                    if prefix and isinstance(href, str):
                        href = under_base(href, base_path)
                        child.attrSet("href", href)
                    if is_external(href, origin):
                        child.attrSet("rel", "external noopener")
                        child.attrJoin("class", "external")
                        external.append(index)
                elif kind == "image":
                    src = child.attrGet("src")
                    file = local_image_file(article, src) if isinstance(src, str) else None
                    if file is None:
                        if prefix and isinstance(src, str):
                            child.attrSet("src", under_base(src, base_path))
                        continue
                    alt = state.md.renderer.renderInlineAsText(child.children or [], state.md.options, state.env)
                    found.append((file, alt, first_line + token.map[0] if token.map else 0))
                    placeholder = Token("html_inline", "", 0)
                    placeholder.content = IMAGE_PLACEHOLDER.format(file=escape(file), alt=escape(alt))
                    children[index] = placeholder
            for index in reversed(external):
                children.insert(_link_close(children, index), _hint(Token))

    return rule


def _link_close(children: list, index: int) -> int:
    """Where the link opened at ``index`` closes (links may hold links: autolinks in text)."""
    depth, close = 0, index
    for close in range(index + 1, len(children)):
        kind = children[close].type
        depth += kind == "link_open"
        if kind == "link_close":
            if depth == 0:
                break
            depth -= 1
    return close


def _hint(token_class):
    hint = token_class("html_inline", "", 0)
    hint.content = EXTERNAL_HINT
    return hint


def is_external(url, origin: str = "") -> bool:
    """A link to another site: http(s) and not under this site's own origin."""
    return isinstance(url, str) and url.startswith(("http://", "https://")) and not (
        origin and (url == origin or url.startswith(origin + "/")))


def render_markdown(text: str, allow_html: bool, base_path: str, origin: str = "",
                    article_path: str = "", first_line: int = 1) -> tuple[str, str, tuple[tuple[str, str, int], ...]]:
    """Render Markdown; return (html, plain text of the first paragraph).

    Characters no page or feed can carry (control characters…) become U+FFFD in the
    source first, so the HTML, the feeds, the search index and the summary agree
    (see builder.safetext); markdown-it does the same for references such as ``&#1;``.
    """
    md = markdown_renderer(allow_html, base_path, origin)
    env: dict = {"article_path": article_path, "first_line": first_line}
    tokens = md.parse(clean_body(text), env)
    first = ""
    for index, token in enumerate(tokens):
        if token.type == "paragraph_open" and token.level == 0:
            first = _plain_text(tokens[index + 1])
            break
    return md.renderer.render(tokens, md.options, env), first, tuple(env.get("images", ()))


def _plain_text(inline) -> str:
    parts = []
    for child in inline.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def summary_from(first_paragraph: str) -> str:
    """The default summary: the first paragraph as plain text, cut at a word boundary.

    Out of its paragraph the text lands in <meta>, feeds and listings, where a bidi
    override from the body would reorder what follows: those are taken out.
    """
    return plain_inline(shorten(first_paragraph, 240))
