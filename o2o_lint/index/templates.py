"""Django templates, read statically: which files are templates, and the dotted variable
paths they read, with their line and column.

A template is found the way Django's loaders find one: under a directory named
``templates`` (``APP_DIRS``, and the ``BASE_DIR / "templates"`` most settings name in
``TEMPLATES[...]["DIRS"]``) or ``jinja2`` (the Jinja2 backend's app directory), with a
text extension (:data:`~o2o_lint.discovery.TEMPLATE_EXTENSIONS`). Nothing is imported:
settings are never run.

The lexer is Django's own: a tag is ``{% ... %}``, ``{{ ... }}`` or ``{# ... #}`` on one
line (``django.template.base.tag_re``); ``{% verbatim %}`` and ``{% comment %}`` blocks
are text; string literals are not variables. Every dotted path of a variable or a tag
(``{{ a.b.c|default:d.e }}``, ``{% for x in a.b.all %}``, ``{% with x=a.b %}``,
``{% if a.b.count %}``) is one :class:`TemplateRead`. Jinja2 templates
(:func:`template_language`) are read the same way: ``a.b.all()`` reads the path
``a.b.all``; ``{% raw %}`` is text; whitespace control (``{%- ... -%}``) is understood;
a comment ``{# ... #}`` may span lines, and a tag's strings may hold ``}}`` (as Jinja2's
lexer has them); a tag spanning lines (which Jinja2 allows) is not read. Knows Django templates, no rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from o2o_lint.discovery import TEMPLATE_DIRECTORY_NAMES, TEMPLATE_EXTENSIONS, is_template_path
from o2o_lint.index.model import RelationKind

if TYPE_CHECKING:
    from o2o_lint.index.model import ModelInfo, ProjectIndex

__all__ = ["CONTAINER_ATTRIBUTES", "DJANGO", "JINJA2", "TEMPLATE_DIRECTORY_NAMES", "TEMPLATE_EXTENSIONS",
           "TemplateRead", "TemplateTypes", "is_template_path", "segment_column", "template_language",
           "template_reads"]

#: What a template variable that is a dict, list or string answers (``{% for k, v in
#: data.items %}``, ``{{ names.count }}``): read on a variable of unknown type, such a
#: name is more likely the container's than a relation's.
CONTAINER_ATTRIBUTES = frozenset(name for kind in (dict, list, tuple, set, str) for name in dir(kind)
                                 if not name.startswith("_"))

# django.template.base.tag_re: a tag never spans lines
_TAG = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})")
_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")
# Jinja2's lexer: a comment spans lines; a tag's strings may hold `}}` or `%}`
_JINJA2_IN_TAG = r"""(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[^"'\n])*?"""
_JINJA2_TAG = re.compile(rf"({{#.*?#}}|{{%{_JINJA2_IN_TAG}%}}|{{{{{_JINJA2_IN_TAG}}}}})", re.DOTALL)
_PATH = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.\w+)+)(?:\(\))?")
_FOR = re.compile(r"^\s*for\s+.+?\s+in\s+(?P<iterable>[A-Za-z_][\w.]*?)(?:\(\))?(?:\s+reversed)?\s*$")
#: A template's language: Django's template language, or Jinja2 (Django's ``Jinja2``
#: backend: ``jinja2`` app directories, ``.jinja``/``.jinja2``/``.j2`` files).
DJANGO, JINJA2 = "django", "jinja2"
_JINJA2_EXTENSIONS = (".jinja", ".jinja2", ".j2")
#: Tags whose arguments name no variable (library names, block names).
_NO_VARIABLES = frozenset({"load", "block", "endblock", "extends", "csrf_token", "templatetag"})


class TemplateRead(NamedTuple):
    """A dotted variable path a template reads: ``company.address_set.all``."""

    path: tuple[str, ...]
    line: int  # 1-based
    column: int  # 0-based, where the path starts
    iterated: bool = False  # the iterable of a ``{% for %}``


def template_language(path: str) -> str:
    """:data:`DJANGO` or :data:`JINJA2`, from where the template lies and its extension."""
    if path.endswith(_JINJA2_EXTENSIONS) or "jinja2" in re.split(r"[\\/]", path)[:-1]:
        return JINJA2
    return DJANGO


def segment_column(read: TemplateRead, index: int) -> tuple[int, int]:
    """Start and end column of segment *index* of *read*'s path."""
    start = read.column + sum(len(part) + 1 for part in read.path[:index])
    return start, start + len(read.path[index])


def template_reads(text: str, language: str = DJANGO) -> Iterator[TemplateRead]:
    """Every dotted path *text* (a template in *language*) reads, in order (see the module
    docstring)."""
    line_starts = [0]
    line_starts.extend(match.end() for match in re.finditer(r"\n", text))
    skipping: str | None = None  # the end tag of a verbatim or comment block
    line = 1
    for match in (_JINJA2_TAG if language == JINJA2 else _TAG).finditer(text):
        start = match.start()
        while line < len(line_starts) and line_starts[line] <= start:
            line += 1
        token = match.group()
        kind = token[:2]
        content = token[2:-2]
        if content[:1] in ("-", "+"):  # Jinja2's whitespace control: {%- ... -%}
            content = " " + content[1:]
        if content[-1:] in ("-", "+"):
            content = content[:-1] + " "
        if kind == "{#":
            continue
        words = content.split()
        if skipping is not None:
            if kind == "{%" and " ".join(words) == skipping:
                skipping = None
            continue
        if kind == "{%":
            if not words:
                continue
            if words[0] == "verbatim":
                skipping = " ".join(["endverbatim", *words[1:]])
                continue
            if words[0] == "raw":  # Jinja2's verbatim
                skipping = "endraw"
                continue
            if words[0] == "comment":
                skipping = "endcomment"
                continue
            if words[0] in _NO_VARIABLES:
                continue
        offset = start + 2
        blanked = _STRING.sub(lambda m: " " * len(m.group()), content)
        iterable_at = -1
        if kind == "{%" and words[0] == "for":
            found = _FOR.match(blanked)
            if found is not None:
                iterable_at = found.start("iterable")
        for path in _PATH.finditer(blanked):
            column = offset + path.start(1) - line_starts[line - 1]
            yield TemplateRead(tuple(path.group(1).split(".")), line, column, path.start(1) == iterable_at)


#: The variables Django's ``auth`` context processor and ``RequestContext`` put in every
#: template that are the user model: ``{{ user.x }}``, ``{{ request.user.x }}``.
_USER_PATHS = (("user",), ("request", "user"))


class TemplateTypes:
    """Which model a template path names, where that is cheap to know statically: the user
    (``user``, ``request.user``, as ``AUTH_USER_MODEL``), and forward relations and
    reverse one-to-one accessors followed from it (``user.profile.company``). Any other
    variable comes from a view's context: unknown."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index

    @cached_property
    def user(self) -> ModelInfo | None:
        value = self.index.settings.get("AUTH_USER_MODEL", "auth.User")
        app_label, _, name = value.rpartition(".")
        found = self.index.models_by_key.get(f"{app_label}.{name}")
        if found is None:
            found = next((m for m in self.index.models.values()
                          if m.app_label.lower() == app_label.lower() and m.name.lower() == name.lower()), None)
        return found

    def model_of(self, path: tuple[str, ...]) -> ModelInfo | None:
        """The model an instance at *path* is, if known."""
        for user_path in _USER_PATHS:
            if path[:len(user_path)] == user_path:
                model = self.user
                rest = path[len(user_path):]
                break
        else:
            return None
        django = self.index.django
        for name in rest:
            if model is None:
                return None
            forward = django.forward(model).get(name)
            if forward is not None:
                if forward.kind not in (RelationKind.FOREIGN_KEY, RelationKind.ONE_TO_ONE):
                    return None
                model = forward.target
                continue
            reverse = django.reverse_one_to_one(model).get(name)
            model = reverse.model if reverse is not None else None
        return model
