"""OTO005: a one-to-one accessor used as a manager, or under its old ``_set`` name.

What a ``ForeignKey(unique=True)`` → ``OneToOneField`` conversion (OTO001) leaves
behind, and what a one-to-one field never supported: the accessor of a one-to-one
relation, forward (``invoice.company``) or reverse (``company.invoice``), is the
related object itself, not a ``RelatedManager``. Verified on Django 4.2 and 5.2
(SQLite; the same descriptors since Django 1.x):

* ``company.invoice.count()`` / ``.all()`` / ``.exists()`` / ``.first()`` / ``.get()``
  / ``.filter()`` / ``.create()`` raise ``AttributeError: 'Invoice' object has no
  attribute 'count'`` (or ``RelatedObjectDoesNotExist``, also an ``AttributeError``,
  when there is no invoice) — unless ``Invoice`` defines a ``count`` of its own;
* ``for i in company.invoice`` raises ``TypeError: 'Invoice' object is not iterable``;
* ``company.invoice_set`` raises ``AttributeError: 'Company' object has no attribute
  'invoice_set'``.

It is reported on every run, in Python code: attributes, and
the names Python spells in strings (``getattr``/``hasattr`` literals, prefetch lookups,
a DRF serializer's ``source=`` and ``Meta.fields``: :mod:`o2o_lint.index.name_reads`);
and in Django templates (:mod:`o2o_lint.index.templates`), where every such use renders
nothing, silently (``{% for a in c.address.all %}``, ``{{ c.address_set.count }}``;
``{% for a in c.address %}`` raises TypeError when there is an address), verified on
Django 4.2, 5.2 and 6.1.
Only where the receiver resolves to a model (:class:`~o2o_lint.index.receivers.ModelTypes`) whose
accessor of that name is a one-to-one relation, and where nothing in the project can
give the name another meaning (a method or attribute of the related model, a manager,
a class the index cannot see into), is a use reported: an unresolved receiver never is
in Python. A template's variables come from views, so there a receiver other than the
user (``user``, ``request.user``) is unknown, and a use is reported only when every model
that gives the name a meaning breaks there the same way.

Fixes, unsafe (they change what the expression returns): ``x.acc.exists()`` of a
reverse accessor becomes ``hasattr(x, "acc")``; ``x.acc.first()`` / ``.last()`` becomes
``getattr(x, "acc", None)`` (``RelatedObjectDoesNotExist`` is an ``AttributeError``).
"""

from __future__ import annotations

import ast
import re
from functools import cached_property
from typing import NamedTuple

import libcst as cst

from o2o_lint.django_api import DJANGO_MODELS, MANAGER_METHODS, MODEL_BASES
from o2o_lint.findings import Finding, Fix
from o2o_lint.index.model import ModelInfo, ProjectIndex, RelationKind
from o2o_lint.index.name_reads import (
    ATTRIBUTE, FIELDS, GETATTR, HASATTR, ITERATION, LOOKUP, ON_OBJECT, SOURCE, NameRead, name_reads,
)
from o2o_lint.index.receivers import OBJECT, ModelTypes
from o2o_lint.index.templates import (
    CONTAINER_ATTRIBUTES, JINJA2, TemplateTypes, segment_column, template_language, template_reads,
)
from o2o_lint.rules.base import FileContext, Fixability, Invalid, LintRule, TemplateContext, Valid
from o2o_lint.sourcefile import char_column, line_numbers, split_lines
from o2o_lint.syntax import parse_module

#: Manager methods a model instance lacks (``Model.delete()`` / ``adelete()`` exist: run on 4.2 and 5.2).
METHODS = MANAGER_METHODS - {"delete", "adelete"}
#: Calls without arguments the fix rewrites: reverse accessors only for ``exists``.
_GUARDED = frozenset({"first", "last"})
_WORD = re.compile(r"\w+")
#: Up to this many spellings, :meth:`OneToOneAccessors.spelled` searches the text for each.
_FEW_SPELLINGS = 64


def _word_starts(text: str, word: str, *, first: bool = False) -> list[int]:
    """Where *word* (``\\w+``) stands whole in *text*, as ``(?<!\\w)word(?!\\w)`` matches it
    (only the first place, with *first*)."""
    starts = []
    end = len(word)
    start = text.find(word)
    while start >= 0:
        before, after = text[start - 1:start], text[start + end:start + end + 1]
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            starts.append(start)
            if first:
                break
        start = text.find(word, start + 1)
    return starts


def _words_with(text: str, part: str) -> set[str]:
    """The words (``\\w+``, as :data:`_WORD` finds them) of *text* that hold *part*."""
    words = set()
    start = text.find(part)
    while start >= 0:
        end = start + len(part)
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        words.add(text[start:end])
        start = text.find(part, end)
    return words


class Accessor(NamedTuple):
    """A one-to-one accessor of a model: the related model and how the relation is declared."""

    related: ModelInfo
    declared: str  # "Invoice.company"
    reverse: bool


class Site(NamedTuple):
    name: str  # the attribute read: the accessor, or ``<accessor>_set``
    method: str | None  # the manager method read on it, ITERATION, or None
    message: str
    hasattr_name: str | None  # the accessor for a ``hasattr``/``getattr`` fix, when sound


class OneToOneAccessors:
    """The project view (``index.view(OneToOneAccessors)``): every one-to-one accessor
    name, forward and reverse, and what a model of the index makes of a name."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.django = index.django

    @cached_property
    def names(self) -> frozenset[str]:
        """Every one-to-one accessor name, forward and reverse."""
        names: set[str] = set()
        for model in self.index.models.values():
            names.update(f.name for f in model.fields if f.kind == RelationKind.ONE_TO_ONE)
        for relation in self.index.reverse_relations:
            if relation.kind == RelationKind.ONE_TO_ONE:
                names.add(relation.accessor)
        return frozenset(names)

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        if not self.names:
            return None
        # a lookup string spells a name after `__`: "company__invoice_set"
        return re.compile(r"(?:\b|(?<=__))(?:%s)(?:_set)?\b|\w+_ptr\b" % "|".join(map(re.escape, sorted(self.names))))

    @cached_property
    def _spellings(self) -> frozenset[str] | None:
        """The words the pattern matches whole, except lookups' and ``_ptr`` ones; None when
        a name is not a word (then only the pattern itself can tell)."""
        if not all(_WORD.fullmatch(name) for name in self.names):
            return None
        return self.names | {f"{name}_set" for name in self.names}

    def spelled(self, text: str) -> frozenset[str]:
        """Where the pattern matches in *text*: the words (``\\w+``, as the pattern's ``\\b``
        sees them) in which it does, since a match of word names never crosses a word's end.

        Looking the text's words up in a set, instead of trying the pattern's thousands of
        alternatives at every position (wagtail's pages each have a ``..._ptr`` and a reverse
        accessor), is several times faster on a large project."""
        pattern = self.pattern
        if pattern is None:
            return frozenset()
        spellings = self._spellings
        if spellings is None:
            return frozenset(match.group() for match in pattern.finditer(text))
        if len(spellings) > _FEW_SPELLINGS:
            words = set(_WORD.findall(text))
            found = words & spellings
        else:  # a few names (django-helpdesk's `user`): a search for each beats listing every word
            found = {word for word in spellings if word in text and _word_starts(text, word, first=True)}
            words = _words_with(text, "__") | _words_with(text, "_ptr")
        found.update(word for word in words if ("__" in word or word.endswith("_ptr")) and pattern.search(word))
        return frozenset(found)

    def lines_spelling(self, text: str, spelled: frozenset[str]) -> list[int]:
        """The lines of *text* where the pattern matches, given what :meth:`spelled` found in it."""
        if self.pattern is None or not spelled:
            return []
        if self._spellings is None:
            return line_numbers(text, [match.start() for match in self.pattern.finditer(text)])
        # every whole-word spelling: searched word by word, several times faster than one
        # alternation behind a look-behind, which the regex engine tries at every position
        return line_numbers(text, sorted(start for word in spelled for start in _word_starts(text, word)))

    def known(self, model: ModelInfo) -> bool:
        """Every class *model* inherits from is indexed (no mixin whose names are unknown)."""
        for ancestor in self.django.ancestors(model):
            if ancestor.qualname in MODEL_BASES:
                continue
            if ancestor.external and ancestor.qualname not in DJANGO_MODELS:
                return False
            if any(base not in self.index.models and base not in MODEL_BASES for base in ancestor.base_qualnames):
                return False
        return True

    def defines(self, model: ModelInfo, name: str) -> bool:
        """*model* (or a class it inherits from) gives *name* a meaning of its own, or
        answers any name (``__getattr__``)."""
        names = {name, "__getattr__", "__getattribute__"}
        if any(names & (a.attributes | a.methods) for a in self.django.ancestors(model)):
            return True
        return (name in self.django.forward(model) or name in self.django.managers(model)
                or name in self.django.reverse_one_to_one(model))

    @staticmethod
    def _own(model: ModelInfo, name: str) -> bool:
        """*model*'s class body binds *name* to something else than a relation field."""
        return name in model.methods or (name in model.attributes and not any(f.name == name for f in model.fields))

    def shadowed_below(self, model: ModelInfo, name: str) -> bool:
        """A subclass of *model* defines *name*: an instance typed *model* may be one."""
        return any(other.qualname != model.qualname and self._own(other, name)
                   and any(a.qualname == model.qualname for a in self.django.ancestors(other))
                   for other in self.index.models.values())

    def accessor(self, model: ModelInfo, name: str) -> Accessor | None:
        """The one-to-one relation *name* is on instances of *model*, if certainly one."""
        django = self.django
        if (not self.known(model) or self.shadowed_below(model, name) or name in django.managers(model)
                or any(self._own(a, name) for a in django.ancestors(model))):
            return None
        forward = django.forward(model).get(name)
        if forward is not None:
            if forward.kind != RelationKind.ONE_TO_ONE or forward.target is None:
                return None
            declared = next((f for a in django.ancestors(model) for f in self.index._inherited_fields(a)
                             if f.name == name), None)
            if declared is not None and not declared.django_field:
                return None
            declared_on = next((a.name for a in django.ancestors(model) if any(f.name == name for f in a.fields)),
                               model.name)
            return Accessor(forward.target, f"{declared_on}.{name}", reverse=False)
        for ancestor in django.ancestors(model):
            for relation in self.index.reverse_by_owner.get(ancestor.key, ()):
                if relation.accessor != name:
                    continue
                if relation.kind != RelationKind.ONE_TO_ONE or relation.owner not in django.concrete_keys:
                    return None
                if relation.field is not None and not relation.field.django_field:
                    return None
                related = self.index.models_by_key.get(relation.related_model)
                if related is None:
                    return None
                return Accessor(related, f"{relation.related_model_name}.{relation.field_name}", reverse=True)
        return None

    def site(self, model: ModelInfo, name: str, method: str | None, place: str = ATTRIBUTE) -> Site | None:
        """What reading ``x.<name>[.<method>]`` on an instance of *model* breaks, if anything,
        where the name is spelled at *place* (:mod:`o2o_lint.index.name_reads`)."""
        if name.endswith("_set"):
            stem = name[:-4]
            found = self.accessor(model, stem)
            if (found is None or not found.reverse or self.defines(model, name)
                    or self.shadowed_below(model, name)):
                return None
            return Site(name, method if method in METHODS else None,
                        f"`{name}` does not exist: {found.declared} is a OneToOneField, whose reverse accessor "
                        f"`{stem}` is the {found.related.name} itself (or raises {found.related.name}.DoesNotExist); "
                        + _SET_CONSEQUENCES[place],
                        stem)
        if method is None:
            return None
        found = self.accessor(model, name)
        if found is None or not self.known(found.related) or found.related.external:
            return None
        related = found.related
        side = "reverse one-to-one accessor" if found.reverse else "one-to-one field"
        if method == ITERATION:
            if self.defines(related, "__iter__") or self.defines(related, "__getitem__"):
                return None
            return Site(name, method, f"`{name}` is a {side} ({found.declared}): it is a single {related.name}, "
                                      f"and iterating it raises TypeError", None)
        if self.defines(related, method):
            return None
        consequence = ("a read-only serializer field drops out of the response, silently" if place == SOURCE
                       else _RENDERS_NOTHING if place == TEMPLATE else _UNDEFINED if place == JINJA2_TEMPLATE
                       else "this raises AttributeError")
        return Site(name, method,
                    f"`{name}` is a {side} ({found.declared}), not a manager: it is a single {related.name}, "
                    f"which has no `{method}()`; {consequence}",
                    name if (found.reverse or method in _GUARDED) else None)

    @cached_property
    def template_pattern(self) -> re.Pattern[str] | None:
        """Finds a match in a template that may read a one-to-one accessor as a manager:
        ``acc_set``, ``acc.<manager method>``, or ``acc`` ending a ``{% for %}``'s iterable."""
        names = {f.name for model in self.index.models.values() for f in model.fields
                 if f.kind == RelationKind.ONE_TO_ONE}
        names.update(r.accessor for r in self.index.reverse_relations if r.kind == RelationKind.ONE_TO_ONE)
        if not names:
            return None
        methods = "|".join(sorted(METHODS))
        after = rf"(?:_set\b|\.(?:{methods})\b|\s*(?:reversed\s*)?[-+]?%\}})"
        if not all(_WORD.fullmatch(name) for name in names):
            return re.compile(r"\b(?:%s|\w+_ptr)%s" % ("|".join(map(re.escape, sorted(names))), after))
        # Only whether it matches is used: `\bname` as `name(?<!\wname)` and `\b\w+_ptr` as
        # `_ptr(?<=\w_ptr)` match the same texts, and a pattern starting with the names'
        # letters lets the regex engine skip ahead (four times faster on django-helpdesk)
        words = "|".join(rf"{re.escape(name)}(?<!\w{re.escape(name)})" for name in sorted(names))
        return re.compile(rf"(?:{words}|_ptr(?<=\w_ptr)){after}")

    def site_on_any(self, name: str, method: str | None, place: str) -> Site | None:
        """What ``x.<name>[.<method>]`` breaks when nothing says what ``x`` is (a template's
        context variable): a site only when every model that gives *name* (or, for
        ``<accessor>_set``, the accessor) any meaning is broken by it, the same way."""
        key = (name, method, place)
        if key in self._anywhere:
            return self._anywhere[key]
        names = {name, name[:-4]} if name.endswith("_set") else {name}
        found: Site | None = None
        for model in self.index.models.values():
            if model.abstract or not any(self.defines(model, n) for n in names):
                continue
            site = self.site(model, name, method, place)
            if site is None or (found is not None and site.message != found.message):
                found = None
                break
            found = site
        self._anywhere[key] = found
        return found

    @cached_property
    def _anywhere(self) -> dict[tuple[str, str | None, str], Site | None]:
        return {}


#: Where a name is read, beyond :mod:`o2o_lint.index.name_reads`' places: a template.
TEMPLATE, JINJA2_TEMPLATE = "template", "jinja2 template"
#: What a template does with a name that breaks (verified on Django 4.2, 5.2 and 6.1;
#: Jinja2 3.1 through Django's Jinja2 backend on 5.2).
_RENDERS_NOTHING = "the template renders nothing there, silently"
_UNDEFINED = "the Jinja2 template raises UndefinedError there (read bare, it renders nothing)"

#: What reading a ``<accessor>_set`` that no longer exists does, by where it is spelled.
_SET_CONSEQUENCES = {
    TEMPLATE: _RENDERS_NOTHING,
    JINJA2_TEMPLATE: _UNDEFINED,
    ATTRIBUTE: "this raises AttributeError",
    GETATTR: "this raises AttributeError",
    HASATTR: "`hasattr` is always False, silently",
    LOOKUP: "prefetch_related raises AttributeError (Cannot find it)",
    SOURCE: "a read-only serializer field drops out of the response, silently",
    FIELDS: "the serializer raises ImproperlyConfigured",
}


def _reads(tree: ast.AST, near: list[int]) -> dict[tuple[str, int, int], NameRead]:
    """Accessor-looking reads of *tree* in the statements spanning the lines *near*, one per
    name and place where it ends: a read with a manager method (or iteration) wins over the
    bare read of the same attribute."""
    found: dict[tuple[str, int, int], NameRead] = {}
    for read in name_reads(tree, near):
        node = read.node
        if node.end_lineno is None or node.end_col_offset is None:
            continue
        if read.method is not None and read.method != ITERATION and read.method not in METHODS:
            read = read._replace(method=None)
        if read.place == SOURCE and read.many and read.method is None:
            read = read._replace(method=ITERATION)  # DRF iterates a `many=True` field's value
        if read.method is None and not read.name.endswith("_set"):
            continue
        key = (read.name, node.end_lineno, node.end_col_offset)
        if key not in found or found[key].method is None:
            found[key] = read
    return found


class _FileSites(NamedTuple):
    """What the visitor reports in one file: the sites, and whether the fix may call the builtins."""

    sites: dict[tuple[int, int], Site]
    fixable: bool


def _spelled(context: FileContext) -> frozenset[str]:
    """The words of the file in which the accessor pattern matches, shared by the screens."""
    return context.memo((OneToOneAccessors, "spelled"), lambda: context.index.view(OneToOneAccessors).spelled(context.text))


def _file_sites(context: FileContext, tree: ast.Module | None = None) -> _FileSites:
    """:func:`_sites` of the file, computed once per text and shared by the tree screen and
    the visitor (the screen hands the engine's tree; the visitor parses only when unscreened)."""
    def compute() -> _FileSites:
        parsed = tree
        if parsed is None:
            try:
                parsed = parse_module(context.text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return _FileSites({}, True)
        sites = _sites(context, parsed)
        return _FileSites(sites, not sites or not _shadows_builtins(parsed))

    return context.memo(_FileSites, compute)


def _sites(context: FileContext, tree: ast.Module) -> dict[tuple[int, int], Site]:
    """Where *tree* reads a one-to-one accessor as a manager (the end of the read, line and
    character column) and what it is.

    The visitor reports only at an attribute whose name the accessor pattern matches whole,
    or a string literal in which the pattern matches: so only the statements spanning a
    line where the text matches the pattern can hold a site, and only those are walked.
    """
    view = context.index.view(OneToOneAccessors)
    pattern = view.pattern
    found_sites: dict[tuple[int, int], Site] = {}
    near = view.lines_spelling(context.text, _spelled(context))
    if pattern is None or not near:
        return found_sites
    types: ModelTypes | None = None
    lines: list[str] | None = None
    for (name, line, column), read in _reads(tree, near).items():
        # the visitor reports only names the pattern matches whole
        if not pattern.fullmatch(name):
            continue
        if types is None:
            types = ModelTypes.of(context.index, context.module_name, tree)
        if read.receiver_is == ON_OBJECT:
            found = types.model_of(read.receiver) if read.receiver is not None else None
            model = found.model if found is not None and found.kind == OBJECT else None
        else:
            model = types.read_on(read)
        if model is None:
            continue
        site = view.site(model, name, read.method, read.place)
        if site is not None:
            if lines is None:
                lines = split_lines(context.text)  # as the tokenizer counts lines (not str.splitlines: \f, \v...)
            found_sites[(line, char_column(lines, line, column))] = site
    return found_sites


def _shadows_builtins(tree: ast.AST) -> bool:
    """The module binds ``hasattr`` or ``getattr`` itself: the fix would call that instead."""
    names = {"hasattr", "getattr"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and node.id in names:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name) in names:
            return True
        if isinstance(node, ast.arg) and node.arg in names:
            return True
    return False


_MODELS = """
from django.db import models

class Company(models.Model):
    pass

class Invoice(models.Model):
    company = models.OneToOneField(Company, models.CASCADE)

class Counter(models.Model):
    company = models.OneToOneField(Company, models.CASCADE, related_name="counter")

    def count(self):
        return 1

class Article(models.Model):
    company = models.ForeignKey(Company, models.CASCADE)
"""


_GOLD = """
class Gold(models.Model):
    user = models.OneToOneField("auth.User", models.CASCADE, related_name="gold")
"""

_PROFILES = """
class Profile(models.Model):
    company = models.OneToOneField(Company, models.CASCADE, related_name="profile")

class Person(models.Model):
    pass

class PersonProfile(models.Model):
    person = models.ForeignKey(Person, models.CASCADE, related_name="profile")
"""


class ManagerUseOfOneToOneAccessor(LintRule):
    code = "OTO005"
    name = "manager-use-of-one-to-one-accessor"
    summary = "A one-to-one accessor used as a manager, or under its old `_set` name"
    fixable = Fixability.SOMETIMES
    reads_templates = True

    VALID = [
        # In a template, an unknown receiver's `counter.count` may be Counter.count(), and
        # `article_set` is a ForeignKey's manager; commented and verbatim text is not read.
        Valid(
            """
            {{ company.counter.count }} {{ company.article_set.count }} {{ company.invoice.pk }}
            {# {{ company.invoice_set.all }} #}{% verbatim %}{{ company.invoice.all }}{% endverbatim %}
            """,
            files={"billing/models.py": _MODELS},
            path="billing/templates/billing/company.html",
            id="template-uses-that-work",
        ),
        # `profile` is another model's manager too: the unknown receiver may be that one.
        Valid(
            """
            {% for p in person.profile.all %}{{ p }}{% endfor %}
            """,
            files={"billing/models.py": _MODELS + _PROFILES},
            path="billing/templates/billing/person.html",
            id="template-name-with-another-meaning",
        ),
        # `self.a` and `self.b` defined through each other: the receiver is unknown, and the
        # inference stops instead of recursing (a real wagtail view has such a cycle).
        Valid(
            """
            class PageView:
                def setup(self):
                    self.page = self.record.specific
                    self.record = self.page.latest

                def count(self):
                    return self.page.invoice.count()
            """,
            files={"billing/models.py": _MODELS},
            id="self-attribute-cycle",
        ),
        Valid(
            """
            from billing.models import Company

            def total(pk):
                company = Company.objects.get(pk=pk)
                return company.invoice.pk, company.article_set.count()
            """,
            files={"billing/models.py": _MODELS},
            id="accessor-and-real-manager",
        ),
        # Counter defines count(): `company.counter.count()` works.
        Valid(
            """
            from billing.models import Company

            def total(company: Company):
                return company.counter.count()
            """,
            files={"billing/models.py": _MODELS},
            id="related-model-defines-the-method",
        ),
        # An unresolved receiver may be anything with an `invoice` attribute.
        Valid(
            """
            def total(order):
                return order.invoice.count(), order.invoice_set.all()
            """,
            files={"billing/models.py": _MODELS},
            id="unknown-receiver",
        ),
        # The one-to-one names themselves, in strings: all work after a conversion.
        Valid(
            """
            from billing.models import Company

            def load(company: Company, queryset):
                found = hasattr(company, "invoice") and getattr(company, "counter").count()
                return found, Company.objects.prefetch_related("invoice"), queryset.prefetch_related("invoice_set")
            """,
            files={"billing/models.py": _MODELS},
            id="names-in-strings-that-work",
        ),
        # Model.delete() exists: deleting the related object works.
        Valid(
            """
            from billing.models import Company

            def drop(company: Company):
                company.invoice.delete()
            """,
            files={"billing/models.py": _MODELS},
            id="model-delete",
        ),
        # A model answering any attribute (`__getattr__`) may answer `count`.
        Valid(
            """
            from django.db import models

            class Shop(models.Model):
                pass

            class Ledger(models.Model):
                shop = models.OneToOneField(Shop, models.CASCADE)

                def __getattr__(self, name):
                    return lambda: 0

            def entries(shop: Shop):
                return shop.ledger.count()
            """,
            id="related-model-getattr",
        ),
        # A mixin the index cannot see into may define `all()`.
        Valid(
            """
            from django.db import models
            from somewhere import QueryMixin

            class Shop(models.Model):
                pass

            class Ledger(QueryMixin, models.Model):
                shop = models.OneToOneField(Shop, models.CASCADE)

            def entries(shop: Shop):
                return shop.ledger.all()
            """,
            id="unknown-mixin",
        ),
    ]
    INVALID = [
        # Templates render these as nothing, silently (the user model: `request.user`).
        Invalid(
            """
            {% for i in company.invoice_set.all %}{{ i.pk }}{% endfor %}
            <p>{{ company.invoice.count }} {{ request.user.gold.exists }}</p>
            {% for i in company.invoice %}{{ i }}{% endfor %}
            """,
            files={"billing/models.py": _MODELS + _GOLD},
            path="billing/templates/billing/company.html",
            expected_messages=["`invoice_set` does not exist", "no `count()`; the template renders nothing there",
                               "`gold` is a reverse one-to-one accessor (Gold.user)",
                               "iterating it raises TypeError"],
            id="template",
            range=(1, 20, 1, 31),
        ),
        # Jinja2 (a `jinja2` directory): calling a method of what is not there raises UndefinedError.
        Invalid(
            """
            {%- for i in company.invoice_set.all() -%}{{ i.pk }}{%- endfor %}
            {{ company.invoice.count() }}{% raw %}{{ company.invoice.all() }}{% endraw %}
            """,
            files={"billing/models.py": _MODELS},
            path="billing/jinja2/billing/company.html",
            expected_messages=["`invoice_set` does not exist", "the Jinja2 template raises UndefinedError"],
            id="jinja2-template",
            range=(1, 21, 1, 32),
        ),
        Invalid(
            """
            from billing.models import Company

            def total(company: Company):
                return company.invoice.count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice` is a reverse one-to-one accessor (Invoice.company), not a manager"],
            id="reverse-accessor-count",
            range=(4, 11, 4, 26),
        ),
        Invalid(
            """
            from billing.models import Company

            def count(pk):
                company = Company.objects.get(pk=pk)
                return company.invoice_set.count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` does not exist: Invoice.company is a OneToOneField"],
            id="old-set-name",
            range=(5, 11, 5, 30),
        ),
        Invalid(
            """
            from billing.models import Company

            def has_invoice(company: Company):
                return company.invoice.exists()
            """,
            expected_fix="""
            from billing.models import Company

            def has_invoice(company: Company):
                return hasattr(company, "invoice")
            """,
            unsafe=True,
            files={"billing/models.py": _MODELS},
            expected_messages=["no `exists()`"],
            id="exists-fix",
        ),
        Invalid(
            """
            from billing.models import Invoice

            def first_company(invoice: Invoice):
                company = invoice.company
                return company.invoice_set.first()
            """,
            expected_fix="""
            from billing.models import Invoice

            def first_company(invoice: Invoice):
                company = invoice.company
                return getattr(company, "invoice", None)
            """,
            unsafe=True,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` does not exist"],
            id="set-first-fix",
        ),
        Invalid(
            """
            from billing.models import Invoice

            def names(invoice: Invoice):
                return [c.pk for c in invoice.company], invoice.company.filter(pk=1)
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`company` is a one-to-one field (Invoice.company): it is a single Company, "
                               "and iterating it raises TypeError",
                               "no `filter()`"],
            id="forward-iteration-and-filter",
            range=(4, 26, 4, 41),
        ),
        Invalid(
            """
            from billing.models import Company

            def invoice_count(company: Company):
                if hasattr(company, "invoice_set"):
                    return getattr(company, "invoice").count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` does not exist: Invoice.company is a OneToOneField, whose reverse "
                               "accessor `invoice` is the Invoice itself (or raises Invoice.DoesNotExist); "
                               "`hasattr` is always False, silently",
                               "`invoice` is a reverse one-to-one accessor (Invoice.company), not a manager"],
            id="hasattr-and-getattr-literal",
            range=(4, 24, 4, 37),
        ),
        # `company` leads from an Article to a Company, whose `invoice_set` is gone.
        Invalid(
            """
            from django.db.models import Prefetch
            from billing.models import Article, Company

            def load():
                articles = Article.objects.prefetch_related("company__invoice_set")
                return articles, Company.objects.prefetch_related(Prefetch("invoice_set"))
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["prefetch_related raises AttributeError", "prefetch_related raises AttributeError"],
            id="prefetch-lookups",
            range=(5, 48, 5, 70),
        ),
        Invalid(
            """
            from rest_framework import serializers
            from billing.models import Company

            class CompanySerializer(serializers.ModelSerializer):
                invoices = serializers.IntegerField(source="invoice_set.count", read_only=True)
                invoice_ids = serializers.PrimaryKeyRelatedField(source="invoice", many=True, read_only=True)

                class Meta:
                    model = Company
                    fields = ["id", "invoices", "invoice_ids", "invoice_set"]
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["drops out of the response", "iterating it raises TypeError",
                               "the serializer raises ImproperlyConfigured"],
            id="serializer-source-and-fields",
            range=(5, 47, 5, 66),
        ),
        # Only the statements spanning a line that spells an accessor are searched: a
        # decorator's lines come before its function's `def` line, and belong to it.
        Invalid(
            """
            from billing.models import Company

            def register(company: Company):
                @cached(
                    company.invoice.count(),
                )
                def total():
                    return 0
                return total
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice` is a reverse one-to-one accessor (Invoice.company), not a manager"],
            id="in-a-decorator",
            range=(5, 8, 5, 23),
        ),
    ]

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        return bool(_spelled(context))

    @classmethod
    def screen_tree(cls, context: FileContext, tree: ast.Module) -> bool:
        """The visitor reports only where :func:`_sites` finds a site, and that needs only
        the ``ast``: a file that merely spells an accessor's name (``user``, ``place``) is
        never parsed with LibCST. When there is a site, the whole file is analysed, and the
        visitor reads the sites found here."""
        return bool(_file_sites(context, tree).sites)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._calls: dict[int, cst.Call] = {}

    def _find_sites(self) -> dict[tuple[int, int], Site]:
        return _file_sites(self.context).sites

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (not node.args and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute)
                and func.attr.value in _GUARDED | {"exists"}):
            self._calls[id(func.value)] = node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        pattern = self.context.index.view(OneToOneAccessors).pattern
        if pattern is None or not pattern.fullmatch(node.attr.value):
            return
        end = self.position(node).end
        site = self._find_sites().get((end.line, end.column))
        if site is None or site.name != node.attr.value:
            return
        self.report(node, site.message, self._fix(node, site))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        """An accessor spelled in a string: ``getattr``/``hasattr``, a lookup, a serializer."""
        pattern = self.context.index.view(OneToOneAccessors).pattern
        if pattern is None or pattern.search(node.value) is None:
            return
        sites = self._find_sites()
        if not sites:
            return
        end = self.position(node).end
        site = sites.get((end.line, end.column))
        value = node.evaluated_value
        if site is None or not isinstance(value, str):
            return
        if site.name in {value, *value.split("__"), value.partition(".")[0]}:
            self.report(node, site.message)

    @classmethod
    def check_template(cls, context: TemplateContext) -> list[Finding]:
        """A template's reads (:mod:`o2o_lint.index.templates`): the receiver is the user
        model (``request.user``) or followed from it, else unknown: then a use is reported
        only when every model that knows the name breaks the same way
        (:meth:`OneToOneAccessors.site_on_any`)."""
        view = context.index.view(OneToOneAccessors)
        pattern, screen = view.pattern, view.template_pattern
        if pattern is None or screen is None or screen.search(context.text) is None:
            return []
        types = context.index.view(TemplateTypes)
        place = JINJA2_TEMPLATE if template_language(context.path) == JINJA2 else TEMPLATE
        findings = []
        for read in template_reads(context.text, template_language(context.path)):
            last = len(read.path) - 1
            for position, name in enumerate(read.path[1:], 1):
                if not pattern.fullmatch(name):
                    continue
                following = read.path[position + 1] if position < last else None
                method = following if following in METHODS else ITERATION if read.iterated and position == last else None
                if method is None and not name.endswith("_set"):
                    continue
                model = types.model_of(read.path[:position])
                if model is not None:
                    site = view.site(model, name, method, place)
                elif name in CONTAINER_ATTRIBUTES:
                    continue  # `data.items`: a dict's, most likely
                else:
                    site = view.site_on_any(name, method, place)
                if site is not None:
                    start, end = segment_column(read, position)
                    findings.append(context.finding(cls.code, read.line, start, end, site.message))
        return findings

    def _fix(self, node: cst.Attribute, site: Site) -> Fix | None:
        call = self._calls.get(id(node))
        if call is None or site.hasattr_name is None or not _file_sites(self.context).fixable:
            return None
        method = call.func.attr.value  # type: ignore[attr-defined]
        name = cst.SimpleString(f'"{site.hasattr_name}"')
        if method == "exists":
            replacement = cst.Call(func=cst.Name("hasattr"), args=[
                cst.Arg(node.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(name)])
            description = f'Replace with `hasattr(..., "{site.hasattr_name}")`'
        else:
            replacement = cst.Call(func=cst.Name("getattr"), args=[
                cst.Arg(node.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(name, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(cst.Name("None"))])
            description = f'Replace with `getattr(..., "{site.hasattr_name}", None)`'
        return Fix(description=description, safe=False, replacements={call: replacement}, span=self.span_of(call))
