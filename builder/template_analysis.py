"""Template analysis: which templates read a name, through all they extend, include, import or render."""

from __future__ import annotations

import jinja2


def templates_reading(env: jinja2.Environment, wanted: dict[str, bool]) -> dict[str, set[str]]:
    """For each name of ``wanted`` (such as 'body_html'), the templates whose source, or that
    of a template they extend, include, import or render (``fragment``, ``part``), mentions
    it; with ``wanted[name]`` true, reads the global variable of that name (such as
    'archive'). Each template is parsed once, for every name: parsing is most of the work."""
    from jinja2 import meta, nodes
    sources: dict[str, dict[str, bool]] = {name: {} for name in wanted}
    references: dict[str, set[str]] = {}
    for template in env.list_templates(extensions=("html", "xml", "txt", "json")):
        source = env.loader.get_source(env, template)[0]
        tree = env.parse(source)
        loaded = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"}
        for name, as_global in wanted.items():
            # A template that loads no variable of that name cannot read the global: the exact
            # check (which compiles the template) only runs on those that do.
            sources[name][template] = (name in loaded and name in meta.find_undeclared_variables(tree)) \
                if as_global else (name in source)
        references[template] = {r for r in meta.find_referenced_templates(tree) if r}
        # ``fragment`` and ``part`` render the template their first argument names.
        calls = [call for call in tree.find_all(nodes.Filter) if call.name == "fragment"]
        calls += [call for call in tree.find_all(nodes.Call)
                  if isinstance(call.node, nodes.Name) and call.node.name == "part"]
        for call in calls:
            named = call.args[0] if call.args else None
            if isinstance(named, nodes.Const) and isinstance(named.value, str):
                references[template].add(named.value)
            else:  # a name only known while rendering: assume the worst
                for name in wanted:
                    sources[name][template] = True

    def uses(found: dict[str, bool], template: str, seen: frozenset) -> bool:
        if found.get(template):
            return True
        return any(uses(found, r, seen | {template}) for r in references.get(template, ()) if r not in seen)

    return {name: {template for template in found if uses(found, template, frozenset())}
            for name, found in sources.items()}
