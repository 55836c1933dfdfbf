"""OTO004 before LibCST: what the rule is, the project view that finds the uses of
unique ForeignKeys' reverse managers (OTO001 reads it too), the screens, and the
template check."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cached_property
from typing import NamedTuple

from o2o_lint.discovery import is_template_path
from o2o_lint.django_api import MANAGER_METHODS
from o2o_lint.findings import Finding
from o2o_lint.index.model import ModelInfo, ProjectIndex, RelationKind, ReverseRelation
from o2o_lint.index.name_reads import (
    ATTRIBUTE, FIELDS, GETATTR, HASATTR, ITERATION, LOOKUP, SOURCE, NameRead, name_reads,
)
from o2o_lint.index.receivers import ModelTypes
from o2o_lint.index.templates import (
    CONTAINER_ATTRIBUTES, JINJA2, TemplateTypes, segment_column, template_language, template_reads,
)
from o2o_lint.rules.base import FileContext, Fixability, Rule, TemplateContext
from o2o_lint.sourcefile import char_column, split_lines
from o2o_lint.syntax import parse_module


class ManagerUse(NamedTuple):
    """A read of *name* as a related manager, and the model its receiver is, if known."""

    name: str
    end: tuple[int, int]  # (line, column in characters) where the accessor or the string ends
    receiver: ModelInfo | None
    #: a lookup string: it breaks only when the conversion renames the accessor
    #: (``prefetch_related("memberships")`` still works on a one-to-one, verified 4.2-6.1)
    renamed_only: bool = False
    #: counts for OTO001's safety but is never reported (a serializer's ``Meta.fields``
    #: entry whose model the index cannot resolve: any field may have that name)
    silent: bool = False
    place: str = ATTRIBUTE  # where the name is spelled (:mod:`o2o_lint.index.name_reads`)


#: Where a name is read, beyond :mod:`o2o_lint.index.name_reads`' places: a template.
TEMPLATE, JINJA2_TEMPLATE = "template", "jinja2 template"


def manager_uses(tree: ast.AST) -> set[str]:
    """Names *tree* reads as related managers: ``x.invoice_set``, ``x.items.all()``."""
    return {read.name for read in _manager_reads(tree)}


def _manager_reads(tree: ast.AST) -> Iterator[NameRead]:
    """The reads of *tree* that break if their name is a reverse manager that becomes a
    single object: ``x.invoice_set`` in any form, ``x.items.<manager method>``, lookup
    strings, serializer sources that read a manager and ``Meta.fields`` entries."""
    for read in name_reads(tree):
        if read.method == ITERATION:
            continue  # a manager is not iterable either: iterating one was already broken
        if read.place in (LOOKUP, FIELDS, GETATTR, HASATTR) or read.name.endswith("_set"):
            yield read
        elif read.method is not None or read.many:
            yield read


class ReverseManagerUses:
    """The project view (``index.view(ReverseManagerUses)``): the reverse managers of
    unique ForeignKeys, which converting the field to a OneToOneField turns into single
    objects, and where the project uses them as managers.

    A use belongs to a relation when its receiver is an instance of the relation's target
    model (or of a subclass), as far as :class:`~o2o_lint.index.receivers.ModelTypes`
    can tell; a use whose receiver is unknown *may* belong to any relation of that name.

    Everything is computed on first use: a project without a unique ForeignKey never
    reads a file for it. Files are read through :meth:`ProjectIndex.source_text`, so the
    text being analysed (standard input, an editor buffer, a fix pass) counts for its
    path; that one file's uses are never cached.
    """

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._uses_by_path: dict[str, tuple[ManagerUse, ...]] = {}

    @cached_property
    def relations(self) -> dict[str, list[ReverseRelation]]:
        """Reverse managers of unique ForeignKeys (Django's fields.W342), by accessor."""
        found: dict[str, list[ReverseRelation]] = defaultdict(list)
        for relation in self.index.reverse_relations:
            if relation.field is not None and relation.field.is_unique_foreign_key:
                found[relation.accessor].append(relation)
        for relation in self.unresolved:
            found[relation.accessor].append(relation)
        return found

    @cached_property
    def unresolved(self) -> list[ReverseRelation]:
        """Unique ForeignKeys to a model outside the project (a third-party app): the
        accessor's name comes from the declaring model, so it is known; the target is not
        (``owner`` is empty), so no resolved receiver is ever taken for it."""
        index = self.index
        found = []
        for model in index.models.values():
            if model.abstract or model.external:
                continue
            for field in index._inherited_fields(model):
                if not field.is_unique_foreign_key or index.resolve_target(model, field.target) is not None:
                    continue
                names = index.reverse_names(model, field)
                if names is not None:
                    found.append(ReverseRelation(
                        owner="", accessor=names[0], query_name=names[1], related_model=model.key,
                        related_model_name=model.name, field_name=field.name, kind=field.kind,
                        field=field, one_to_one_accessor=names[1],
                    ))
        return found

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """Matches the text of a file that may use a unique ForeignKey's reverse manager."""
        names = sorted(self.relations)
        # "invoice_set__lines", "company__invoice_set" (prefetch lookups) count: `__` may surround the name
        return re.compile(r"(?:\b|(?<=__))(?:%s)(?:\b|__)" % "|".join(map(re.escape, names))) if names else None

    @cached_property
    def _shared_names(self) -> frozenset[str]:
        """Accessor names some other relation of the project also gives a manager: another
        model's reverse ForeignKey or many-to-many accessor, a ManyToManyField."""
        names = {r.accessor for r in self.index.reverse_relations
                 if r.accessor in self.relations and not (r.field is not None and r.field.is_unique_foreign_key)}
        names.update(f.name for m in self.index.models.values() for f in m.fields
                     if f.kind == RelationKind.MANY_TO_MANY and f.name in self.relations)
        return frozenset(names)

    def candidates(self, use: ManagerUse) -> list[ReverseRelation]:
        """The unique ForeignKeys whose reverse manager *use* may be."""
        relations = self.relations.get(use.name, [])
        if use.renamed_only:
            relations = [r for r in relations if r.one_to_one_accessor != r.accessor]
        if use.receiver is None:
            return list(relations)
        owners = {model.key for model in self.index.django.ancestors(use.receiver)}
        return [r for r in relations if r.owner in owners]

    def reported(self, use: ManagerUse) -> list[ReverseRelation]:
        """The relations OTO004 blames *use* on: those it may be, when its receiver is
        known; when it is not, all of them only if no other relation has the name."""
        if use.silent or (use.receiver is None and use.name in self._shared_names):
            return []
        return self.candidates(use)

    def files_using(self, relation: ReverseRelation | str) -> list[str]:
        """The files with a use that may be *relation*'s reverse manager (given a name:
        that may be the reverse manager of some unique ForeignKey of that name)."""
        name = relation if isinstance(relation, str) else relation.accessor
        if name not in self.relations:
            return []
        return [path for path in [*sorted(self.index.facts_by_path), *self.index.template_paths]
                if any((relation in candidates) if not isinstance(relation, str) else bool(candidates)
                       for use in self.uses(path) if use.name == name
                       for candidates in [self.candidates(use)])]

    def uses(self, path: str, parsed: tuple[str, ast.Module] | None = None) -> tuple[ManagerUse, ...]:
        """The unique ForeignKeys' reverse managers *path* reads as managers: a text search
        first, confirmed on the file's ``ast`` (*parsed*: a text and its tree the caller
        has, used when it is the text the index reads for *path*)."""
        overlaid = self.index.overlaid is not None and self.index.overlaid[0] == path
        found = None if overlaid else self._uses_by_path.get(path)
        if found is None:
            text = self.index.source_text(path)
            tree = parsed[1] if parsed is not None and parsed[0] == text else None
            found = self._search(path, text, tree)
            if not overlaid:
                self._uses_by_path[path] = found
        return found

    def _search(self, path: str, text: str | None, tree: ast.Module | None = None) -> tuple[ManagerUse, ...]:
        pattern = self.pattern
        if text is None or pattern is None or pattern.search(text) is None:
            return ()
        if is_template_path(path):
            return self.template_uses(text, template_language(path))
        if tree is None:
            try:
                tree = parse_module(text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return ()
        try:
            return self._uses_in(path, text, tree)
        except RecursionError:
            # too deep to follow receivers: every name the text spells may be this relation's
            # (OTO001's conversion stays unsafe), and none is placed (OTO004 stays silent)
            return tuple(ManagerUse(name, (0, 0), None) for name in sorted(self.relations)
                         if re.search(rf"(?:\b|(?<=__)){re.escape(name)}(?:\b|__)", text))

    def template_uses(self, text: str, language: str) -> tuple[ManagerUse, ...]:
        """The reads of a template (:mod:`o2o_lint.index.templates`) that break if their name
        is a reverse manager that becomes a single object: ``x.invoice_set`` in any form,
        ``x.items.<manager method>``; the end is the name's (line, column)."""
        pattern = self.pattern
        if pattern is None or pattern.search(text) is None:
            return ()
        types = self.index.view(TemplateTypes)
        found: dict[tuple[str, tuple[int, int]], ManagerUse] = {}
        for read in template_reads(text, language):
            for position, name in enumerate(read.path[1:], 1):
                if name not in self.relations:
                    continue
                method = read.path[position + 1] if position + 1 < len(read.path) else None
                if not name.endswith("_set") and method not in MANAGER_METHODS:
                    continue
                end = (read.line, segment_column(read, position)[1])
                receiver = types.model_of(read.path[:position])
                # `data.items.count`: on a variable of unknown type, a dict's or a list's, most likely
                silent = receiver is None and name in CONTAINER_ATTRIBUTES
                found.setdefault((name, end), ManagerUse(name, end, receiver, silent=silent, place=TEMPLATE))
        return tuple(found.values())

    def _uses_in(self, path: str, text: str, tree: ast.Module) -> tuple[ManagerUse, ...]:
        facts = self.index.overlaid[1] if self.index.overlaid and self.index.overlaid[0] == path else None
        facts = facts or self.index.facts_by_path.get(path)
        module = facts["module"] if facts else ""
        lines = split_lines(text)  # as the tokenizer counts lines (not str.splitlines: \f, \v...)
        types: ModelTypes | None = None
        found: dict[tuple[str, tuple[int, int]], ManagerUse] = {}
        for read in _manager_reads(tree):
            node = read.node
            if read.name not in self.relations or node.end_lineno is None or node.end_col_offset is None:
                continue
            if types is None:
                types = ModelTypes.of(self.index, module, tree)
            model = types.read_on(read)
            end = (node.end_lineno, char_column(lines, node.end_lineno, node.end_col_offset))
            silent = read.place == FIELDS and model is None
            found.setdefault((read.name, end), ManagerUse(read.name, end, model, read.place == LOOKUP, silent, read.place))
        return tuple(found.values())


class ReverseManagerUseScreen(Rule):
    code = "OTO004"
    name = "reverse-manager-of-unique-foreign-key"
    summary = "Use of a reverse manager that becomes a single object once OTO001 is fixed"
    findings_outlive_relation_change = True  # a use the conversion breaks stays broken
    fixable = Fixability.NEVER
    reads_templates = True

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        pattern = context.index.view(ReverseManagerUses).pattern
        return pattern is not None and pattern.search(context.text) is not None

    @classmethod
    def screen_tree(cls, context: FileContext, tree: ast.Module) -> bool:
        """Every finding is a use the view blames (:meth:`_check_use`), and the view finds
        them on the ``ast``: a file that only spells a reverse manager's name (another
        model's ``chapter_set``) is never parsed with LibCST."""
        return bool(_blamed_names(context, tree))

    @classmethod
    def check_template(cls, context: TemplateContext) -> list[Finding]:
        view = context.index.view(ReverseManagerUses)
        place = JINJA2_TEMPLATE if template_language(context.path) == JINJA2 else TEMPLATE
        findings = []
        for use in view.template_uses(context.text, template_language(context.path)):
            relations = view.reported(use)
            if relations:
                line, end = use.end
                findings.append(context.finding(cls.code, line, end - len(use.name), end,
                                                _message(f"`{use.name}`", relations, place)))
        return findings


def _blamed_names(context: FileContext, tree: ast.Module | None = None) -> frozenset[str]:
    """The names of the file's uses OTO004 blames, computed once per file text (the tree
    screen and the visitor share them)."""
    def compute() -> frozenset[str]:
        view = context.index.view(ReverseManagerUses)
        parsed = None if tree is None else (context.text, tree)
        return frozenset(use.name for use in view.uses(context.abspath, parsed) if view.reported(use))
    return context.memo(_blamed_names, compute)


def _message(shown: str, relations: list[ReverseRelation], place: str) -> str:
    relation = relations[0]
    declared = f"{relation.related_model_name}.{relation.field_name}"
    if relation.one_to_one_accessor != relation.accessor:
        becomes = f"it becomes `{relation.one_to_one_accessor}`, a single object"
    else:
        becomes = "it returns a single object"
    also = f" (and {len(relations) - 1} more)" if len(relations) > 1 else ""
    return (f"{shown} is the reverse manager of {declared}{also}, a ForeignKey(unique=True); "
            f"once converted to OneToOneField (OTO001) {becomes}, not a manager{_CONSEQUENCES.get(place, '')}")


#: What the conversion does to a use, by where the name is spelled, beyond "not a manager".
_CONSEQUENCES = {
    HASATTR: ": `hasattr` then returns False, silently",
    LOOKUP: ": prefetch_related then raises AttributeError",
    SOURCE: ": the serializer field then drops out of the response, silently",
    FIELDS: ": the serializer then raises ImproperlyConfigured, or gives one pk for a list",
    TEMPLATE: ": the template then renders nothing there, silently",
    JINJA2_TEMPLATE: ": the Jinja2 template then raises UndefinedError there (read bare, it renders nothing)",
}
