"""OTO005 before LibCST: what the rule is, the project view of one-to-one accessors
(:class:`OneToOneAccessors`), the sites where a file reads one as a manager (found on the
stdlib ``ast``, shared by the screens and the visitor), and the template check."""

from __future__ import annotations

import ast
import re
import unicodedata
from functools import cached_property
from typing import NamedTuple

from o2o_lint.django_api import DJANGO_MODELS, MANAGER_METHODS, MODEL_BASES
from o2o_lint.findings import Finding
from o2o_lint.index.model import ModelInfo, ProjectIndex, RelationKind
from o2o_lint.index.name_reads import (
    ATTRIBUTE, FIELDS, GETATTR, HASATTR, ITERATION, LOOKUP, ON_OBJECT, SOURCE, NameRead, name_reads,
)
from o2o_lint.index.receivers import OBJECT, ModelTypes
from o2o_lint.index.templates import (
    CONTAINER_ATTRIBUTES, JINJA2, TemplateTypes, segment_column, template_language, template_reads,
)
from o2o_lint.rules.base import FileContext, Fixability, Rule, TemplateContext
from o2o_lint.sourcefile import COMMENT_PATTERN, EXPRESSION_GAP, char_column, line_numbers, split_lines
from o2o_lint.syntax import parse_module

#: Manager methods a model instance lacks (``Model.delete()`` / ``adelete()`` exist: run on 4.2 and 5.2).
METHODS = MANAGER_METHODS - {"delete", "adelete"}
#: Calls without arguments the fix rewrites: reverse accessors only for ``exists``.
_GUARDED = frozenset({"first", "last"})
_WORD = re.compile(r"\w+")
#: Up to this many spellings, :meth:`OneToOneAccessors.spelled` searches the text for each.
_FEW_SPELLINGS = 64
#: After an accessor's name, the start of a manager method read on it (a closing quote
#: too: ``getattr(x, "acc").all()``), as :func:`o2o_lint.index.name_reads.name_reads`
#: finds them.
_METHOD_AFTER = re.compile(
    r"(?:[\s)\\'\"]|%s)*\.(?:[\s\\]|%s)*(?:%s)\b"
    % (COMMENT_PATTERN, COMMENT_PATTERN, "|".join(sorted(MANAGER_METHODS - {"delete", "adelete"}, key=lambda m: (-len(m), m)))))
#: After an accessor's name, the end of a ``for`` statement's or a comprehension's iterable.
_ITERABLE_END = re.compile(EXPRESSION_GAP + r"(?:[:\]})]|(?:if|for|async)\b)")


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


def _significant_before(text: str, start: int) -> str:
    """The character before *start*, whitespace and line continuations skipped; ``#`` when a
    comment may stand between (the skip crossed onto a line holding a ``#``), "" at the start."""
    index = start - 1
    while index >= 0:
        character = text[index]
        if character in "\r\n":
            line_start = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1
            if "#" in text[line_start:index]:
                return "#"
        elif character not in " \t\f\\":
            return character
        index -= 1
    return ""


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

    def may_read_as_manager(self, text: str, spelled: frozenset[str]) -> bool:
        """Whether *text*, which spells the accessor words *spelled*, may read one as a manager
        where :func:`_sites` looks: a ``_set`` name (alone or in a lookup), a manager method
        read on a name (``acc.all()``, ``getattr(x, "acc").first()``), a name ending a ``for``
        or comprehension iterable, or, in a file saying ``many``, a serializer ``source``.
        False only when none of these can be in the ``ast``: the file needs no parse."""
        if self._spellings is None:
            return True
        if any(word.endswith("_set") or "__" in word and "_set" in word for word in spelled):
            return True  # a lookup's segment is reported only as `<accessor>_set`
        if not text.isascii():  # identifiers are NFKC-normalized: `ａll` is `all`
            text = unicodedata.normalize("NFKC", text)
        serializers = "many" in text
        for word in spelled:
            if "__" in word and not word.endswith("_ptr"):
                continue  # a lookup: only its segments are read, and only `_set` ones count
            for start in _word_starts(text, word):
                before = _significant_before(text, start)
                attribute, quoted = before in ".#", before in "'\""  # `#`: a comment may hide a dot
                if not (attribute or quoted):
                    continue  # name_reads reads an attribute's name, or getattr's or a source's string
                end = start + len(word)
                if _METHOD_AFTER.match(text, end) or (attribute and _ITERABLE_END.match(text, end)):
                    return True
                if serializers and quoted and text[end:end + 1] in ("'", '"', "."):
                    return True
        return False

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


class ManagerUseOfOneToOneAccessorScreen(Rule):
    code = "OTO005"
    name = "manager-use-of-one-to-one-accessor"
    summary = "A one-to-one accessor used as a manager, or under its old `_set` name"
    fixable = Fixability.SOMETIMES
    reads_templates = True

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        spelled = _spelled(context)
        return bool(spelled) and context.index.view(OneToOneAccessors).may_read_as_manager(context.text, spelled)

    @classmethod
    def screen_tree(cls, context: FileContext, tree: ast.Module) -> bool:
        """The visitor reports only where :func:`_sites` finds a site, and that needs only
        the ``ast``: a file that merely spells an accessor's name (``user``, ``place``) is
        never parsed with LibCST. When there is a site, the whole file is analysed, and the
        visitor reads the sites found here."""
        return bool(_file_sites(context, tree).sites)

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
