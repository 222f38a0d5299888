"""A static-site generator for curated news archives.

Glossary (one word per concept, used throughout the code and templates):

Article   one Markdown file with YAML front matter under ``content/``.
Country   an ISO 3166-1 country an article is about (resolved from any spelling).
Topic     a subject label; topics merge case- and space-insensitively.
Term      a Country or a Topic: the two taxonomies share listing pages and feeds.
Archive   the site model: every article plus taxonomies, cross-links and date archives.
Page      one output file planned from the Archive (an article, a listing, a feed…).
Problem   a located message (``path:line: message``) about bad input.

The pipeline (``builder.build``) reads top to bottom:
config → content → archive → pages → render → write → search index.
"""

__version__ = "0.3.0"

from builder import classcode  # noqa: E402  (before any module of the package creates a dataclass)

classcode.install()
