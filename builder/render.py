"""Render: turn planned Pages into bytes with the Jinja environment."""

from __future__ import annotations

from pathlib import Path

import jinja2

from builder.pages import Page
from builder.problems import Problem
from builder.template_problems import runtime_problem


class Renderer:
    """Renders pages; the same template error on many pages is reported once."""

    def __init__(self, env: jinja2.Environment, globals_: dict, template_dirs: tuple[Path, ...], bodies):
        self.env = env
        env.bodies = bodies  # resolves article.body_html (builder.templates)
        env.body_pictures = globals_.get("body_pictures")
        # Environment globals, not render arguments: imported macros see them too.
        env.globals.update(globals_)
        if env.cache is not None:  # templates loaded earlier (to check them) hold the globals they saw
            env.cache.clear()
        env.parts.clear()  # parts made with other globals (builder.templates._parts)
        self.template_dirs = template_dirs
        self.problems: dict[tuple, Problem] = {}
        # Jinja's own template cache is an LRU behind a lock: a dict lookup is a tenth of it.
        self.templates: dict[str, jinja2.Template] = {}

    def render(self, page: Page) -> bytes | None:
        try:
            template = self.templates.get(page.template)
            if template is None:
                template = self.templates[page.template] = self.env.get_template(page.template)
            text = template.render(page=page, **page.context.variables())
        except jinja2.TemplateNotFound as error:
            self._note(Problem(f"templates/{page.template}", 0,
                               f"template '{error.name}' not found (needed for {page.url})"))
            return None
        except Exception as error:  # a template bug must become a Problem, whatever it is
            self._note(runtime_problem(error, page.template, self.template_dirs, page.url))
            return None
        return text.encode("utf-8")

    def _note(self, problem: Problem) -> None:
        # Keyed without the page URL: one broken line is one problem, not 10,000.
        key = (problem.path, problem.line, problem.message.split(":", 1)[-1])
        self.problems.setdefault(key, problem)
