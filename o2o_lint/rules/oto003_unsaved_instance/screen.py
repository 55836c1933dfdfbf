"""OTO003 before LibCST: what the rule is, and the screens in front of the flow
analysis: on the text, then on the stdlib ``ast``.

Most files of a project construct no model, or spell none of the names through which
a constructed instance could reach a save point ("sinks", see :mod:`.sinks`): they are
never parsed with LibCST.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Collection, Iterator

from o2o_lint.django_api import ASYNC_TWINS, MODEL_FORM_NON_SAVING, NON_SAVING_METHODS
from o2o_lint.focus import Statements
from o2o_lint.rules.base import FileContext, Fixability, Rule, TreeScreen
from o2o_lint.rules.oto003_unsaved_instance.sinks import (
    FORMSET_READS,
    LOGGER_RECEIVERS,
    NON_SAVING_FUNCTIONS,
    SinkNames,
)
from o2o_lint.sourcefile import line_numbers

#: Save points and manager uses: a file spelling none of them cannot hold a finding.
#: The commonest first, since a file spelling one is not searched for the others
#: (``bulk_update(`` spells ``update(``).
_SCREEN_TOKENS = (
    "get(", "set(", "update(", "all(", "_id", "filter(", "add(", "values(", "exists(", "save(", "delete(",
    "clear(", "count(", "create(", "remove(", "order_by(", "first(", "exclude(", "values_list(",
    "aggregate(", "iterator(", "annotate(", "last(", "latest(", "earliest(", "in_bulk(",
)
#: keyword arguments (``place=p``, ``place__in=[p]``) and attribute assignments (``r.place = p``)
_KEYWORD = re.compile(r"(?:[(,]\s*|\.)([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_DICT_KEY = re.compile(r"['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]\s*:")
_MANAGER_USE = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)(?=\s*\.)")
#: ``PlaceFactory.build(`` / ``build_batch(``, ``prepare(Place`` / ``prepare("app.Place"``: the
#: factory or the model named. Each starts with a literal the regex engine skips ahead to;
#: the factory's name is read backwards from the dot (:func:`_name_before`).
_BUILD = re.compile(r"\.\s*build(?:_batch)?\s*\(")
_PREPARED = re.compile(r"prepare\s*\(\s*['\"]?(?:[A-Za-z0-9_]+\.)*([A-Za-z_][A-Za-z0-9_]*)")
#: ``modelformset_factory(Place, ...)``, ``inlineformset_factory(Parent, Place, ...)``: the last model
_FORMSET = re.compile(
    r"formset_factory\s*\(\s*(?:[A-Za-z0-9_.]+\s*,\s*)?(?:[A-Za-z0-9_]+\.)*([A-Za-z_][A-Za-z0-9_]*)\s*[,)]")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
#: What writes an instance with the relations set on it (``FunctionAnalysis.check_owner_relations``):
#: ``save()``, the bulk writes, and their async twins.
_OWNER_WRITES = frozenset({"save", "asave", "bulk_create", "abulk_create", "bulk_update", "abulk_update"})


@functools.lru_cache(maxsize=32)
def _calls_starting_with(first_letters: str) -> re.Pattern[str]:
    # No \b and no look-behind: the regex engine then only stops at these letters
    return re.compile(f"([{re.escape(first_letters)}][A-Za-z0-9_]*)\\s*\\(")


#: Up to this many names, one alternation of them finds the candidates (a quarter faster on
#: Django's package, 15 names); beyond, it costs more than stopping at their first letters
#: (three times as much on tendenci, 373 names).
_FEW_NAMES = 32


@functools.lru_cache(maxsize=32)
def _calls_of(names: frozenset[str]) -> re.Pattern[str]:
    # the longest first, so that a name is not taken for its prefix (``PlaceForm(``, ``Place``)
    return re.compile("(" + "|".join(re.escape(name) for name in sorted(names, key=lambda n: (-len(n), n))) + ")\\s*\\(")


def _model_calls(text: str, names: Collection[str]) -> dict[str, list[int]]:
    """Where *text* calls each of *names* (``Place(``, not ``class Place(``): name -> offsets,
    for the names it calls at all.

    One regex finds candidates: an alternation of the names when they are few, else one that
    only stops at the names' first letters (five times faster than matching every
    identifier); a candidate found inside a longer name (``MyPlace(``) or only in a class
    statement is then dropped by :func:`_call_offsets`.
    """
    if not names:
        return {}
    if len(names) <= _FEW_NAMES:
        candidates = set(_calls_of(frozenset(names)).findall(text))
    else:
        candidates = set(_calls_starting_with("".join(sorted({name[0] for name in names}))).findall(text))
    calls = {name: list(_call_offsets(text, name)) for name in candidates.intersection(names)}
    if "build" in text:  # factories and model_bakery build without a call of the name
        for match in _BUILD.finditer(text):
            found = _name_before(text, match.start())
            if found is not None and found[0] in names:
                calls.setdefault(found[0], []).append(found[1])
    if "prepare" in text:
        for match in _PREPARED.finditer(text):
            if match.group(1) in names:
                calls.setdefault(match.group(1), []).append(match.start())
    if "formset_factory" in text:
        for match in _FORMSET.finditer(text):
            if match.group(1) in names:
                calls.setdefault(match.group(1), []).append(match.start())
    return {name: offsets for name, offsets in calls.items() if offsets}


def _name_before(text: str, end: int) -> tuple[str, int] | None:
    """The name (``[A-Za-z_][A-Za-z0-9_]*``) ending right before *end*, spaces skipped, and
    where it starts."""
    while end > 0 and text[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and text[start - 1] in _NAME_CHARS:
        start -= 1
    while start < end and text[start].isdigit():
        start += 1
    return (text[start:end], start) if start < end else None


def _call_offsets(text: str, name: str) -> Iterator[int]:
    """Where *text* calls *name*: ``name(`` or ``name (``, not in a longer name or a class statement."""
    # a literal first, so that the regex engine can skip ahead; then \b and `class ` by hand
    for match in re.finditer(re.escape(name) + r"\s*\(", text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        if start < 6 or not text.startswith("class ", start - 6):
            yield start


def _file_model_calls(context: FileContext, know: SinkNames, aliases: dict[str, str]) -> dict[str, list[int]]:
    """:func:`_model_calls` of the file's text, once for both screens."""
    return context.memo((_model_calls, "calls"), lambda: _model_calls(context.text, know.names | aliases.keys()))


def _model_aliases(context: FileContext, know: SinkNames) -> dict[str, str]:
    """Imported names that are not model names but import one (``Place as P``): local -> model."""
    return context.memo((_model_calls, "aliases"), lambda: _find_model_aliases(context, know))


def _find_model_aliases(context: FileContext, know: SinkNames) -> dict[str, str]:
    aliases = {}
    for local, target in context.facts.get("imports", {}).items():
        model = target.rpartition(".")[2]
        if local not in know.names and know.models_named(model):
            aliases[local] = model
    return aliases


def _handed_over(context: FileContext, know: SinkNames, roots: list[ast.AST],
                 local: dict[str, ast.AST]) -> dict[str, frozenset[str]]:
    """Names through which an instance built elsewhere comes in: a ``conftest.py`` fixture the
    text spells, a top-level function of this file that builds one and is used elsewhere in it
    (a helper, a fixture): name -> the class names it calls."""
    text = context.text
    handed = {name: called for name, called in know.conftest_fixtures(context.abspath).items()
              if re.search(rf"\b{re.escape(name)}\b", text)}
    for root in roots:
        if isinstance(root, ast.FunctionDef) and text.count(root.name) > 1:
            called = {name for node in ast.walk(root) if isinstance(node, ast.Call)
                      for name in [_called_name(node)] if name in know.names}
            if called:
                handed[root.name] = frozenset(called)
                local[root.name] = root
    return handed


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in ("build", "build_batch") and isinstance(func.value, ast.Name):
        return func.value.id
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _constructing_functions(context: FileContext, tree: ast.Module, know: SinkNames,
                            aliases: dict[str, str]) -> list[ast.AST]:
    """What the tree screen must walk: the functions (top level, or methods of a top-level
    class) where a model class is called, or the whole module when one is called outside
    a function: module and class bodies are one scope for the screen, spread over
    statements."""
    calls = _file_model_calls(context, know, aliases)
    offsets = [offset for found in calls.values() for offset in found]
    members = Statements(tree).members(line_numbers(context.text, offsets))
    if members is None or not all(isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) for m in members):
        return [tree]
    return members  # type: ignore[return-value]


#: Nodes the tree screen's walk has nothing to read in, nor under: names (their parents are
#: read), constants, contexts, operators, imported names.
_LEAVES = frozenset({
    ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.alias, ast.Pass, ast.Break, ast.Continue,
    ast.Global, ast.Nonlocal,
    *(kind for base in (ast.operator, ast.unaryop, ast.cmpop, ast.boolop) for kind in base.__subclasses__()),
})
#: What a block of a function runs once per call at most: not a loop's body (nor its ``else``)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_TRY = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))  # TryStar: Python 3.11+
#: Where ends (start of the block, end of the block) are compared: (line, column)
_Position = tuple[int, int]


def _once_blocks(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[list[ast.stmt]]:
    """The statement lists of *function* that run at most once per call: its body, and the
    blocks of its ``if``, ``with``, ``try`` and ``match`` statements, not inside a loop nor a
    nested function or class."""
    stack = [function.body]
    while stack:
        block = stack.pop()
        yield block
        for statement in block:
            if isinstance(statement, ast.If):
                stack.extend((statement.body, statement.orelse))
            elif isinstance(statement, (ast.With, ast.AsyncWith)):
                stack.append(statement.body)
            elif isinstance(statement, _TRY):
                stack.extend((statement.body, statement.orelse, statement.finalbody))  # type: ignore[attr-defined]
                stack.extend(handler.body for handler in statement.handlers)  # type: ignore[attr-defined]
            elif isinstance(statement, ast.Match):
                stack.extend(case.body for case in statement.cases)


#: Methods after whose call on an instance (or a form, a formset) the flow analysis may still
#: take it as unsaved: Django's own that only read or check (``NON_SAVING_METHODS``,
#: ``MODEL_FORM_NON_SAVING``, ``FORMSET_READS``), a list's, an assertion's, and
#: ``get_<field>_display``. Any other method saves it or may (``FunctionAnalysis.instance_call``,
#: ``form_call``, ``escape``); ``save(commit=False)`` is read apart.
_NOT_SETTLING = NON_SAVING_METHODS | MODEL_FORM_NON_SAVING | FORMSET_READS | {"append", "extend", "insert"}


def _settling_receiver(statement: ast.stmt) -> str | None:
    """``x.save()``, ``y = x.save_invoice()``: a method called on a name as a statement (or
    as the value it assigns), after which the flow analysis takes what the name holds as
    saved: the name. Not a logger's (``log.save()`` saves nothing there), nor a method of
    :data:`_NOT_SETTLING`, nor ``save(commit=False)`` (a form's instance stays unsaved)."""
    call = statement.value if isinstance(statement, (ast.Expr, ast.Assign)) else None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return None
    receiver, method = call.func.value, call.func.attr
    if not isinstance(receiver, ast.Name) or receiver.id in LOGGER_RECEIVERS:
        return None
    if (method in _NOT_SETTLING or ASYNC_TWINS.get(method, method) in _NOT_SETTLING or method.startswith("assert")
            or method.startswith("get_") and method.endswith("_display")):
        return None
    given: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    if method == "save" and len(given) == 1:
        only = given[0]
        commit = only.value if isinstance(only, ast.keyword) and only.arg == "commit" else only
        if isinstance(commit, ast.Constant) and commit.value is False:
            return None  # form.save(commit=False)
    return receiver.id


def _settled(context: FileContext, know: SinkNames, aliases: dict[str, str],
             function: ast.FunctionDef | ast.AsyncFunctionDef,
             constructed_names: set[str]) -> dict[str, list[tuple[_Position, _Position]]]:
    """Names of instances the function saves or calls a method of (``f.save()``,
    ``f.set_owner(u)``: :func:`_settling_receiver`), or hands to a call it cannot see into
    (``g(f)``, ``x = g(f)``), in a statement of a block that runs once per call: name ->
    the spans (the end of that statement, the end of its block) where a flow of the name
    cannot be a finding.

    The flow analysis takes such an instance as saved from then on
    (``FunctionAnalysis.instance_call``, ``escape``). A statement of a block runs on every path to the statements after it in
    that block; outside a loop nothing after it can make the instance unsaved again when
    the name is bound only before it in that block, and only to constructor calls (no
    list: ``f.append(Place())`` would add an unsaved element). The instance then exists
    only on the paths through the statement, where it is saved: the relations a flow of
    it sets after the statement never join a state where it is unsaved (an ``if``'s other
    branch, a ``try``'s handlers start before the block). *constructed_names*: the names
    the file binds to a constructor call anywhere; no other name can qualify.
    """
    def handed_over(statement: ast.stmt) -> tuple[str, ...]:
        call = statement.value if isinstance(statement, (ast.Expr, ast.Assign)) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            return ()
        callee = call.func.id
        if callee in NON_SAVING_FUNCTIONS or callee.startswith("assert") or callee in know.names or callee in aliases:
            return ()
        given = [a for a in call.args if isinstance(a, ast.Name)] + [k.value for k in call.keywords if k.arg]
        names = tuple(a.id for a in given if isinstance(a, ast.Name) and a.id in constructed_names)
        if not names:
            return ()
        qualified = context.resolve(callee)
        if qualified is not None and (qualified in context.index.models or qualified.endswith("formset_factory")):
            return ()  # a model's constructor keeps what it is given; a formset factory only reads it
        return names

    # (name, the statement, callee or None for a save, the block) in blocks that run once
    candidates: list[tuple[str, ast.stmt, str | None, list[ast.stmt]]] = []
    for block in _once_blocks(function):
        for statement in block:
            saved = _settling_receiver(statement)
            if saved is not None:
                if saved in constructed_names:
                    candidates.append((saved, statement, None, block))
                continue
            names = handed_over(statement)
            if names:
                callee = statement.value.func.id  # type: ignore[attr-defined]
                candidates.extend((name, statement, callee, block) for name in names)
    if not candidates:
        return {}

    bound: dict[str, list[ast.AST]] = {}  # every place a name is bound, in any nested scope too
    pinned: set[str] = set()  # global / nonlocal names
    constructed: set[int] = set()  # Name targets of `f = Place(...)`: an instance, never a list
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.arg):
            bound.setdefault(node.arg, []).append(node)
        elif isinstance(node, ast.alias):
            bound.setdefault((node.asname or node.name).partition(".")[0], []).append(function)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            pinned.update(node.names)
        elif node is not function and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.setdefault(node.name, []).append(function)
        else:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                if called is not None and (called in know.names or called in aliases) \
                        and called not in ("build", "build_batch", "prepare"):
                    constructed.update(id(target) for target in node.targets if isinstance(target, ast.Name))
            for attribute in ("name", "rest"):  # except ... as e, match patterns
                name = getattr(node, attribute, None)
                if isinstance(name, str) and node is not function:
                    bound.setdefault(name, []).append(function)

    found: dict[str, list[tuple[_Position, _Position]]] = {}
    for name, statement, callee, block in candidates:
        if callee is not None and (callee in bound or callee in pinned):
            continue  # a local function: the flow analysis sees into it
        places = bound.get(name, [])
        first: _Position = (block[0].lineno, block[0].col_offset)
        start: _Position = (statement.lineno, statement.col_offset)
        if name in pinned or not places or not all(
                id(place) in constructed and first <= (place.lineno, place.col_offset) < start  # type: ignore[attr-defined]
                for place in places):
            continue
        last = block[-1]
        found.setdefault(name, []).append(
            ((statement.end_lineno, statement.end_col_offset), (last.end_lineno, last.end_col_offset)))  # type: ignore[arg-type]
    return found


def text_screen(context: FileContext) -> bool:
    """Text only: a model class is called, and one of its "sink" names is spelled.

    Sinks are the names through which an instance of that model can reach a save
    point: a relation targeting it used as a keyword, an attribute, a lookup or a
    dict key, or a related manager (see ``sink_names``). An ``_id`` read needs the
    relation to be set first, so it needs no token of its own.
    """
    text = context.text
    if not any(token in text for token in _SCREEN_TOKENS):
        return False
    know = context.index.view(SinkNames)
    if not know.names:
        return False
    aliases = _model_aliases(context, know)
    called = _file_model_calls(context, know, aliases).keys()
    models = [m for name in called & know.names for m in know.models_named(name)]
    models.extend(m for local in called & aliases.keys() for m in know.models_named(aliases[local]))
    models.extend(m for name, names in know.conftest_fixtures(context.abspath).items() if name in text
                  for model_name in names for m in know.models_named(model_name))
    if not models:
        return False
    spelled = {part for token in _KEYWORD.findall(text) for part in token.split("__")}
    spelled.update(_DICT_KEY.findall(text))
    spelled.update(_MANAGER_USE.findall(text))
    return any(not spelled.isdisjoint(know.sink_names(model)) for model in models)


def tree_screen(context: FileContext, tree: ast.Module) -> TreeScreen:
    """The text screen again, per function and per value, on the engine's ``ast``.

    A finding needs a constructed instance (``Place(...)``, or a name or list bound to
    one in the same function) to flow into one of its model's sink names: a keyword
    or lookup (``place=p``), an attribute (``r.place = p``), a dict key, a manager of
    the instance (``p.waiter_set``) or an argument of a sink's manager method
    (``article.tags.add(tag)``). Large test modules construct models in some tests
    and spell sinks in others: this keeps them from paying for a LibCST parse, and
    answers with the functions that pass, so that only those are parsed.
    """
    know = context.index.view(SinkNames)
    aliases = _model_aliases(context, know)

    def constructor(node: ast.AST) -> str | None:
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in ("build", "build_batch") and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = func.value.id  # PlaceFactory.build()
        elif name is not None and name.endswith("formset_factory") and node.args:  # the formset's model
            last = node.args[min(len(node.args), 2) - 1]
            name = last.id if isinstance(last, ast.Name) else last.attr if isinstance(last, ast.Attribute) else None
        elif name == "prepare" and node.args:  # baker.prepare(Place), prepare("app.Place")
            first = node.args[0]
            name = first.value.rpartition(".")[2] if isinstance(first, ast.Constant) and isinstance(first.value, str) \
                else first.id if isinstance(first, ast.Name) else first.attr if isinstance(first, ast.Attribute) else None
        if name is None:
            return None
        if name in know.forms and not _follows_form(node):
            return None
        return name if name in know.names else aliases.get(name)

    def _follows_form(node: ast.Call) -> bool:
        """Whether the flow analysis may follow the instance a ModelForm's call builds
        (``FunctionAnalysis.construct_form``): not when something can hand it an existing row."""
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in know.forms:
            return True  # PlaceFactory.build(), modelformset_factory(Place), prepare(Place)
        imported = context.facts.get("imports", {}).get(name)
        if imported is not None and imported.rpartition(".")[2] != name:
            return True  # another class, imported under the form's name
        if name in know.unfollowed_forms or len(node.args) > 2 or any(isinstance(a, ast.Starred) for a in node.args):
            return False
        return not any(keyword.arg is None or keyword.arg == "instance" for keyword in node.keywords)

    # per scope: name -> value expressions bound to it; (sink names, value, the call whose
    # keyword it is, whether the names are attributes read on the value) flows
    bindings: dict[int, dict[str, list[ast.AST]]] = {}
    flows: dict[int, list[tuple[frozenset[str], ast.AST, ast.Call | None, bool]]] = {}
    defaults: set[int] = set()  # the dicts given as ``defaults=`` / ``create_defaults=``
    imported_inside: set[str] = set()  # names imported in a function: flow.py resolves them apart
    writing: set[int] = set()  # scopes spelling a save, a bulk write or an `_id` read
    scope_nodes: dict[int, ast.AST] = {id(tree): tree}
    constructed_names: set[str] = set()  # names bound to a constructor call (`f = Place(...)`)
    roots = _constructing_functions(context, tree, know, aliases)
    local_handed: dict[str, ast.AST] = {}  # the functions of this file among them
    handed = _handed_over(context, know, roots, local_handed)
    used_handed: set[str] = set()
    if handed:
        roots = [tree]  # the instances come into other functions: through calls, or test parameters
    stack: list[tuple[ast.AST, int]] = [(root, id(tree)) for root in roots]
    push = stack.append
    while stack:
        node, scope = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            scope = id(node)
            scope_nodes[scope] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                if called is not None and (called in know.names or called in aliases):
                    constructed_names.update(target.id for target in targets if isinstance(target, ast.Name))
            for target in targets:
                if isinstance(target, (ast.Tuple, ast.List)):
                    # flow.py pairs `a, b = x, y` up; any other unpacking forgets the names and
                    # takes the value as handed over (``FunctionAnalysis.run_assign``)
                    value = node.value
                    if (len(targets) > 1 or not isinstance(value, (ast.Tuple, ast.List))
                            or len(value.elts) != len(target.elts)
                            or any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))):
                        continue
                    pairs = list(zip(target.elts, value.elts))
                else:
                    pairs = [(target, node.value)]
                for element, value in pairs:
                    if isinstance(element, ast.Name):
                        bindings.setdefault(scope, {}).setdefault(element.id, []).append(value)
                    elif isinstance(element, ast.Attribute):
                        # r.place = p, and p.restaurant = r (the reverse one-to-one setter)
                        flows.setdefault(scope, []).append((frozenset({element.attr}), value, None, False))
                        if element.attr in know.reverse_one_to_one:
                            flows.setdefault(scope, []).append((frozenset({element.attr}), element.value, None, False))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name):
            bindings.setdefault(scope, {}).setdefault(node.target.id, []).append(node.iter)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg:
                    flows.setdefault(scope, []).append((frozenset(keyword.arg.split("__")), keyword.value, node, False))
                    if keyword.arg in ("defaults", "create_defaults"):
                        defaults.add(id(keyword.value))
            func = node.func
            if isinstance(func, ast.Attribute):
                if isinstance(func.value, ast.Attribute):  # article.tags.add(tag)
                    for argument in node.args:
                        flows.setdefault(scope, []).append((frozenset({func.value.attr}), argument, None, False))
                # p.waiter_set.create() / Restaurant(...).waiter_set.create(): the receiver itself
                receiver = func.value.value if isinstance(func.value, ast.Attribute) else None
                if receiver is not None:
                    flows.setdefault(scope, []).append(
                        (frozenset({func.value.attr}), receiver, None, not func.value.attr.endswith("_id")))
        elif isinstance(node, ast.Dict):
            if id(node) in defaults:  # the only dict whose keys the flow analysis reads as relations
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        flows.setdefault(scope, []).append((frozenset({key.value}), value, None, False))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            flows.setdefault(scope, []).append((frozenset({node.attr}), node.value, None, not node.attr.endswith("_id")))
            if node.attr in _OWNER_WRITES or node.attr.endswith("_id"):
                writing.add(scope)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and scope != id(tree):
            imported_inside.update((alias.asname or alias.name).partition(".")[0] for alias in node.names)
        # astutil.child_nodes, inline and without the leaves, in the same order
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if type(item) not in _LEAVES and isinstance(item, ast.AST):
                        push((item, scope))
            elif type(value) not in _LEAVES and isinstance(value, ast.AST):
                push((value, scope))

    lines: set[int] = set()
    module_lines: set[int] = set()  # module-level bindings a flow went through (a formset class)

    def takes_relations(call: ast.Call, saves: bool) -> bool:
        """Whether the flow analysis may read a keyword of *call* in a function as a relation:
        a lookup or a write of a queryset or manager, a ``Q``, or a model's constructor when
        the function may write the instance (*saves*: a relation set on an instance only
        reaches a save point through its ``save()``, a bulk write or an ``_id`` read)."""
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name in know.keyword_methods:
            return True
        if not saves:
            return False
        if not isinstance(func, ast.Attribute):
            return True  # a name may hold a model class
        if func.attr in know.names or func.attr in aliases:
            return True
        parts = [func.attr]
        value = func.value
        while isinstance(value, ast.Attribute):
            parts.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name):
            return False  # no class name: the analysis only calls a method of the value
        if value.id in imported_inside:
            return True
        return context.resolve(".".join([value.id, *reversed(parts)])) in context.index.models

    for scope, scope_flows in flows.items():
        scope_bindings = bindings.get(scope, {})
        memo: dict[str, frozenset[str]] = {}
        in_function = scope != id(tree)
        saves = scope in writing
        scope_node = scope_nodes[scope]
        settled = _settled(context, know, aliases, scope_node, constructed_names) \
            if isinstance(scope_node, (ast.FunctionDef, ast.AsyncFunctionDef)) and constructed_names else {}

        def may_reach(value: ast.AST, call: ast.Call | None) -> bool:
            if call is not None and in_function and not takes_relations(call, saves):
                return False
            if isinstance(value, ast.Name) and value.id in settled:
                where = (value.lineno, value.col_offset)
                return not any(after <= where < end for after, end in settled[value.id])
            return True

        def models_of(value: ast.AST, seen: frozenset[str] = frozenset()) -> frozenset[str]:
            """Model names of constructed instances *value* may hold."""
            direct = constructor(value)
            if direct is not None:
                return frozenset({direct})
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in handed:
                used_handed.add(value.func.id)
                return handed[value.func.id]  # a helper's result
            if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in handed
                    and isinstance(value.func.value, ast.Name) and value.func.value.id == "self"):
                used_handed.add(value.func.attr)
                return handed[value.func.attr]  # a method's result: self.build_place()
            if isinstance(value, ast.Name) and value.id not in scope_bindings and value.id in handed:
                used_handed.add(value.id)
                return handed[value.id]  # a fixture parameter
            if isinstance(value, ast.Name):
                if value.id in seen:
                    return frozenset()
                if value.id not in memo:
                    memo[value.id] = frozenset().union(
                        *(models_of(bound, seen | {value.id}) for bound in scope_bindings.get(value.id, ()))
                    )
                return memo[value.id]
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id not in seen:
                # ChildFormSet(request.POST): a class bound here or at module level
                bound = scope_bindings.get(value.func.id)
                if not bound:
                    bound = bindings.get(id(tree), {}).get(value.func.id, [])
                    module_lines.update(b.lineno for b in bound)  # type: ignore[attr-defined]
                found = frozenset().union(*(models_of(b, seen | {value.func.id}) for b in bound))
                if found:
                    return found
            if isinstance(value, ast.Subscript):  # authors[0]: an element of a container
                return models_of(value.value, seen)
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "save":
                return models_of(value.func.value, seen)  # form.save(commit=False)
            if isinstance(value, ast.Attribute) and value.attr == "instance":
                return models_of(value.value, seen)  # form.instance
            if isinstance(value, (ast.List, ast.Tuple, ast.Set, ast.Starred, ast.IfExp, ast.BoolOp,
                                  ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.NamedExpr)):
                return frozenset().union(*(models_of(child, seen) for child in ast.iter_child_nodes(value)))
            return frozenset()

        if any(
            not sinks.isdisjoint(know.manager_names(model) if reads_attribute else know.sink_names(model))
            for sinks, value, call, reads_attribute in scope_flows if may_reach(value, call)
            for model_name in models_of(value)
            for model in know.models_named(model_name)
        ):
            if scope == id(tree):
                return True  # module-level code flows across the whole module
            lines.add(scope_nodes[scope].lineno)
    if lines:  # the helpers and fixtures of this file that hand the instances over are analysed too
        lines.update(module_lines)
        lines.update(local_handed[name].lineno for name in used_handed if name in local_handed)  # type: ignore[attr-defined]
    return lines


class UnsavedInstanceScreen(Rule):
    code = "OTO003"
    name = "unsaved-instance-in-relation"
    summary = "An unsaved model instance reaches a save point through a relation"
    fixable = Fixability.SOMETIMES

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        return text_screen(context)

    @classmethod
    def screen_tree(cls, context: FileContext, tree: ast.Module) -> TreeScreen:
        return tree_screen(context, tree)
