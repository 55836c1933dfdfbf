"""OTO004: a use of the reverse manager that converting OTO001's field would break.

Converting ``Invoice.company = ForeignKey(Company, unique=True)`` to a
``OneToOneField`` changes ``company.invoice_set`` (a ``RelatedManager``) into
``company.invoice`` (the object itself, or ``RelatedObjectDoesNotExist``). With a
``related_name`` the name stays but the kind changes: ``company.addresses.all()``
raises ``AttributeError``, and in a template ``{% for a in c.addresses.all %}``
silently renders nothing. Every such use, in any module of the project, is reported
where it stands so it can be rewritten together with the field.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cached_property
from typing import NamedTuple

import libcst as cst

from o2o_lint.astutil import dotted_name
from o2o_lint.cstutil import dotted
from o2o_lint.django_api import MANAGER_METHODS, PREFETCH_CALLS
from o2o_lint.index.model import ModelInfo, ProjectIndex, RelationKind, ReverseRelation
from o2o_lint.index.receivers import CLASS, OBJECT, QUERYSET, ModelTypes
from o2o_lint.rules.base import FileContext, Fixability, Invalid, LintRule, Valid
from o2o_lint.sourcefile import char_column, split_lines
from o2o_lint.syntax import parse_module


class ManagerUse(NamedTuple):
    """A read of *name* as a related manager, and the model its receiver is, if known."""

    name: str
    end: tuple[int, int]  # (line, column in characters) where the accessor or the string ends
    receiver: ModelInfo | None


def manager_uses(tree: ast.AST) -> set[str]:
    """Names *tree* reads as related managers: ``x.invoice_set``, ``x.items.all()``."""
    return {use[0] for use in _manager_reads(tree)}


def _manager_reads(tree: ast.AST) -> Iterator[tuple[str, ast.expr, ast.expr | None]]:
    """(name, the node to report, its receiver) for every manager-style read in *tree*;
    the receiver of a prefetch lookup is the queryset it is called on, if any."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if node.attr.endswith("_set"):
                yield node.attr, node, node.value
            if (node.attr in MANAGER_METHODS and isinstance(node.value, ast.Attribute)
                    and not node.value.attr.endswith("_set")):
                yield node.value.attr, node.value, node.value.value
        elif isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else dotted_name(node.func)
            if callee is not None and callee.rpartition(".")[2] in PREFETCH_CALLS:
                on = node.func.value if isinstance(node.func, ast.Attribute) and callee == "prefetch_related" else None
                for argument in node.args:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        yield argument.value.split("__", 1)[0], argument, on


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
        # "invoice_set__lines" (a prefetch lookup) counts: `__` may follow the name
        return re.compile(r"\b(?:%s)(?:\b|__)" % "|".join(map(re.escape, names))) if names else None

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
        if use.receiver is None:
            return list(relations)
        owners = {model.key for model in self.index.django.ancestors(use.receiver)}
        return [r for r in relations if r.owner in owners]

    def reported(self, use: ManagerUse) -> list[ReverseRelation]:
        """The relations OTO004 blames *use* on: those it may be, when its receiver is
        known; when it is not, all of them only if no other relation has the name."""
        if use.receiver is None and use.name in self._shared_names:
            return []
        return self.candidates(use)

    def files_using(self, relation: ReverseRelation | str) -> list[str]:
        """The files with a use that may be *relation*'s reverse manager (given a name:
        that may be the reverse manager of some unique ForeignKey of that name)."""
        name = relation if isinstance(relation, str) else relation.accessor
        if name not in self.relations:
            return []
        return [path for path in sorted(self.index.facts_by_path)
                if any((relation in candidates) if not isinstance(relation, str) else bool(candidates)
                       for use in self.uses(path) if use.name == name
                       for candidates in [self.candidates(use)])]

    def uses(self, path: str) -> tuple[ManagerUse, ...]:
        """The unique ForeignKeys' reverse managers *path* reads as managers: a text search
        first, confirmed on the file's ``ast``."""
        overlaid = self.index.overlaid is not None and self.index.overlaid[0] == path
        found = None if overlaid else self._uses_by_path.get(path)
        if found is None:
            found = self._search(path, self.index.source_text(path))
            if not overlaid:
                self._uses_by_path[path] = found
        return found

    def _search(self, path: str, text: str | None) -> tuple[ManagerUse, ...]:
        pattern = self.pattern
        if text is None or pattern is None or pattern.search(text) is None:
            return ()
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
                         if re.search(rf"\b{re.escape(name)}(?:\b|__)", text))

    def _uses_in(self, path: str, text: str, tree: ast.Module) -> tuple[ManagerUse, ...]:
        facts = self.index.overlaid[1] if self.index.overlaid and self.index.overlaid[0] == path else None
        facts = facts or self.index.facts_by_path.get(path)
        module = facts["module"] if facts else ""
        lines = split_lines(text)  # as the tokenizer counts lines (not str.splitlines: \f, \v...)
        types: ModelTypes | None = None
        found: list[ManagerUse] = []
        for name, node, receiver in _manager_reads(tree):
            if name not in self.relations or node.end_lineno is None or node.end_col_offset is None:
                continue
            if types is None:
                types = ModelTypes(self.index, module, tree)
            model = None
            if receiver is not None:
                kind = types.model_of(receiver)
                if kind is not None and (kind.kind in (OBJECT, CLASS) if isinstance(node, ast.Attribute)
                                         else kind.kind in (QUERYSET, CLASS)):
                    model = kind.model
            end = (node.end_lineno, char_column(lines, node.end_lineno, node.end_col_offset))
            found.append(ManagerUse(name, end, model))
        return tuple(found)


#: The models every case's snippet sees, as ``billing/models.py`` of its project.
_MODELS = """
from django.db import models

class Company(models.Model):
    pass

class Invoice(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)

class Membership(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True, related_name='memberships')
"""

#: Two apps with an ``article_set`` each: a plain ForeignKey's and a unique one's.
_TWO_ARTICLE_SETS = {
    "news/models.py": """
        from django.db import models

        class Reporter(models.Model):
            pass

        class Article(models.Model):
            reporter = models.ForeignKey(Reporter, models.CASCADE)
        """,
    "gis/models.py": """
        from django.db import models

        class Writer(models.Model):
            pass

        class Column(models.Model):
            writer = models.ForeignKey(Writer, models.CASCADE, unique=True, related_name="article_set")
        """,
}


class ReverseManagerUse(LintRule):
    code = "OTO004"
    name = "reverse-manager-of-unique-foreign-key"
    summary = "Use of a reverse manager that becomes a single object once OTO001 is fixed"
    findings_outlive_relation_change = True  # a use the conversion breaks stays broken
    fixable = Fixability.NEVER

    VALID = [
        Valid(
            """
            def total(company):
                return company.invoice.amount
            """,
            files={"billing/models.py": _MODELS},
            id="one-to-one-accessor",
        ),
        # `.items()` of a dict is not the `items` relation: only manager-style reads count.
        Valid(
            """
            def names(data):
                return data.memberships
            """,
            files={"billing/models.py": _MODELS},
            id="related-name-read-without-manager",
        ),
        # Lookups use the query name, which the conversion keeps.
        Valid(
            """
            def find(Company):
                return Company.objects.filter(invoice__amount=3)
            """,
            files={"billing/models.py": _MODELS},
            id="lookup-by-query-name",
        ),
        # The receiver is a Reporter: its `article_set` is the plain ForeignKey's, not Column.writer's.
        Valid(
            """
            from news.models import Reporter

            def count():
                reporter = Reporter.objects.get(pk=1)
                return reporter.article_set.count()
            """,
            files=_TWO_ARTICLE_SETS,
            id="receiver-is-another-model",
        ),
        Valid(
            """
            from news.models import Reporter

            def load():
                return Reporter.objects.prefetch_related("article_set")
            """,
            files=_TWO_ARTICLE_SETS,
            id="prefetch-on-another-model",
        ),
        # Unknown receiver, and another relation gives an `article_set` too: it may be that one.
        Valid(
            """
            def count(obj):
                return obj.article_set.count()
            """,
            files=_TWO_ARTICLE_SETS,
            id="unknown-receiver-shared-name",
        ),
    ]
    INVALID = [
        Invalid(
            """
            def count(company):
                return company.invoice_set.count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` is the reverse manager of Invoice.company"],
            id="default-reverse-manager",
            range=(2, 11, 2, 30),
        ),
        Invalid(
            """
            def members(company):
                return list(company.memberships.all())
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`memberships`"],
            id="related-name-manager-method",
            range=(2, 16, 2, 35),
        ),
        Invalid(
            """
            def load(Company):
                return Company.objects.prefetch_related('invoice_set__lines')
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set'"],
            id="prefetch-related-lookup",
            range=(2, 44, 2, 64),
        ),
        Invalid(
            """
            from gis.models import Writer

            def count():
                writer = Writer.objects.filter(pk=1).first()
                return writer.article_set.count()
            """,
            files=_TWO_ARTICLE_SETS,
            expected_messages=["`article_set` is the reverse manager of Column.writer"],
            id="receiver-is-the-target",
            range=(5, 11, 5, 29),
        ),
        Invalid(
            """
            from gis.models import Column, Writer

            def columns(column: Column):
                for writer in Writer.objects.all():
                    writer.article_set.all()
                return column.writer.article_set.exists()
            """,
            files=_TWO_ARTICLE_SETS,
            expected_messages=["`article_set`", "`article_set`"],
            id="loop-variable-and-forward-relation",
            range=(5, 8, 5, 26),
        ),
        Invalid(
            """
            from gis.models import Writer

            def load():
                return Writer.objects.filter(pk=1).prefetch_related("article_set")
            """,
            files=_TWO_ARTICLE_SETS,
            expected_messages=["'article_set'"],
            id="prefetch-on-the-target",
            range=(4, 56, 4, 69),
        ),
    ]

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        pattern = context.index.view(ReverseManagerUses).pattern
        return pattern is not None and pattern.search(context.text) is not None

    def visit_Attribute(self, node: cst.Attribute) -> None:
        relations = self.context.index.view(ReverseManagerUses).relations
        name = node.attr.value
        if name.endswith("_set") and name in relations:
            self._check_use(node, name)
        elif name in MANAGER_METHODS and isinstance(node.value, cst.Attribute):
            inner = node.value.attr.value
            if not inner.endswith("_set") and inner in relations:
                self._check_use(node.value, inner)

    def visit_Call(self, node: cst.Call) -> None:
        callee = dotted(node.func)
        if callee is None and isinstance(node.func, cst.Attribute):
            callee = node.func.attr.value
        if callee is None or callee.rpartition(".")[2] not in PREFETCH_CALLS:
            return
        relations = self.context.index.view(ReverseManagerUses).relations
        for arg in node.args:
            if arg.keyword is None and isinstance(arg.value, cst.SimpleString):
                lookup = arg.value.evaluated_value
                if isinstance(lookup, str):
                    name = lookup.split("__", 1)[0]
                    if name in relations:
                        self._check_use(arg.value, name, quoted=True)

    def _check_use(self, node: cst.CSTNode, name: str, *, quoted: bool = False) -> None:
        """Report *node* when the view's use ending where it ends belongs to a unique ForeignKey."""
        view = self.context.index.view(ReverseManagerUses)
        end = self.position(node).end
        use = next((u for u in view.uses(self.context.abspath) if u.name == name and u.end == (end.line, end.column)), None)
        relations = view.reported(use) if use is not None else []
        if relations:
            self._report_use(node, repr(name) if quoted else name, relations, quoted=quoted)

    def _report_use(self, node: cst.CSTNode, name: str, relations: list[ReverseRelation], *, quoted: bool = False) -> None:
        relation = relations[0]
        shown = name if quoted else f"`{name}`"
        declared = f"{relation.related_model_name}.{relation.field_name}"
        if relation.one_to_one_accessor != relation.accessor:
            becomes = f"it becomes `{relation.one_to_one_accessor}`, a single object"
        else:
            becomes = "it returns a single object"
        also = f" (and {len(relations) - 1} more)" if len(relations) > 1 else ""
        self.report(
            node,
            f"{shown} is the reverse manager of {declared}{also}, a ForeignKey(unique=True); "
            f"once converted to OneToOneField (OTO001) {becomes}, not a manager",
        )
