"""Template problems: broken templates and rendering errors as ``path:line: message``."""

from __future__ import annotations

import traceback
from pathlib import Path

import jinja2

from builder.problems import Problem
from builder.theme_files import STATIC_FOLDER


def check_templates(env: jinja2.Environment, template_dirs: tuple[Path, ...]) -> list[Problem]:
    """Compile every template once, so all syntax errors are reported together."""
    problems = []
    for name in env.list_templates(extensions=("html", "xml", "txt", "json")):
        if name.startswith(STATIC_FOLDER + "/"):
            continue
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            problems.append(Problem(_shown_path(error.filename, error.name or name, template_dirs),
                                    error.lineno or 0, f"template syntax error: {error.message}"))
    return problems


def runtime_problem(error: Exception, template: str, template_dirs: tuple[Path, ...], url: str) -> Problem:
    """A Problem for an exception raised while rendering, pointing at the template line."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename and f.filename.endswith((".html", ".xml", ".txt", ".json"))]
    if frames:
        frame = frames[-1]
        return Problem(_shown_path(frame.filename, template, template_dirs), frame.lineno or 0,
                       f"template error while rendering {url}: {type(error).__name__}: {error}")
    return Problem(f"templates/{template}", 0,
                   f"template error while rendering {url}: {type(error).__name__}: {error}")


def _shown_path(filename: str | None, name: str, template_dirs: tuple[Path, ...]) -> str:
    """'templates/article.html' (the site's) or the theme file's path."""
    if filename:
        path = Path(filename)
        for folder in template_dirs:
            try:
                return (folder.name + "/" + path.resolve().relative_to(folder.resolve()).as_posix())
            except ValueError:
                continue
        return str(path)
    return f"templates/{name}"
