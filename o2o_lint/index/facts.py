"""Per-file facts for the model index, extracted with the stdlib ``ast``.

Facts are plain dicts, lists, strings, ints and bools so that they can be stored with
``marshal`` (fast, and unlike pickle it never executes anything when loaded from a
cache file somebody else may have written). Nothing here resolves names across files;
that is :mod:`o2o_lint.index.model`'s job.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from o2o_lint.astutil import child_nodes, dotted_name, resolve_relative, walk_near
from o2o_lint.django_api import RELATION_KEYWORDS
from o2o_lint.sourcefile import line_numbers

if TYPE_CHECKING:
    from o2o_lint.index.model import ProjectIndex

#: The layout of the index's own facts; :func:`facts_version` adds the rules' extractors.
FACTS_VERSION = 22  # 22: a rule's facts may be deferred (``deferred``); 21: a factory's Meta.strategy; stale-cache facts: exits, no-op moves, rebinding calls, rolled-back durable blocks; 20: the stale-cache rule: no write for an unawaited async call, a using() chain, a get_or_create whose defaults set the looked-up field, a manager class several models use; 19: a rule's facts: reads on the peers of a `fetch_mode(FETCH_PEERS)` loop; 18: swapper targets (``get_model_name``), ``Meta.swappable``, ``set_app_prefix`` calls, names bound to ``get_model_name``; 17: whether TEMPLATES DIRS were all read (``template_dirs_resolved``), lists of DIRS, ``.joinpath``; 16: settings-driven relation targets (``settings.X_MODEL``, ``getattr(settings, ...)``); 15: template directories named in TEMPLATES[...]["DIRS"]; 14: Meta.model (ModelForm, factory classes), GenericForeignKey attributes; 13: module constants, relation keywords by name or ``**``

Facts = dict[str, Any]


class FactsExtractor(NamedTuple):
    """A rule's own per-file facts: ``extract(tree, text)`` on the stdlib ``ast``, returning
    plain data (what ``marshal`` stores), kept under ``facts["rules"][code]``. *text* is
    None when the caller has no text (a text screen must then let the file through).
    Bump *version* whenever what ``extract`` returns changes: it is part of the cache key.

    *needed*, when given, says whether the rule can read these facts at all in a project
    (``needed(index)``; an index's answer never changes). A cold scan then extracts them from
    the files other than the models files (read first) only when the models files' index
    needs them; a file scanned without them lists the code under ``facts["deferred"]``, and
    :meth:`ProjectFacts.complete <o2o_lint.index.build.ProjectFacts.complete>` extracts them
    (reading the file again) when the whole project's index needs them, before any rule
    reads them."""

    code: str
    version: int
    extract: Callable[[ast.Module, "str | None"], Any]
    needed: "Callable[[ProjectIndex], bool] | None" = None


_VERSION: str | None = None


def facts_version() -> str:
    """The cache key of every file's facts: the index's layout and every extractor's version."""
    global _VERSION
    if _VERSION is None:
        from o2o_lint.rules import all_extractors

        _VERSION = ";".join([str(FACTS_VERSION), *(f"{e.code}={e.version}" for e in all_extractors())])
    return _VERSION


#: The key of a file's facts listing the codes whose facts the scan left out (see
#: :class:`FactsExtractor`'s *needed*); absent when none was.
DEFERRED = "deferred"


def rule_facts(facts: Facts, code: str) -> Any:
    """What *code*'s extractor stored for this file (None when it has no extractor)."""
    return facts.get("rules", {}).get(code)


#: While a scan of many files runs (:func:`remembering_packages`): whether a directory
#: holds an ``__init__.py``. Files of one directory share the answer: a stat per directory
#: level and file otherwise.
_PACKAGE_DIRECTORIES: dict[str, bool] | None = None


@contextmanager
def remembering_packages() -> Iterator[None]:
    """Within the block, :func:`module_name_for` looks for each directory's ``__init__.py``
    once (the scan of a project's files: the tree does not change under it); outside it,
    every call looks again (a long-lived process: an editor's server)."""
    global _PACKAGE_DIRECTORIES
    previous, _PACKAGE_DIRECTORIES = _PACKAGE_DIRECTORIES, {}
    try:
        yield
    finally:
        _PACKAGE_DIRECTORIES = previous


def _is_package(directory: str) -> bool:
    remembered = _PACKAGE_DIRECTORIES
    if remembered is None:
        return os.path.isfile(os.path.join(directory, "__init__.py"))
    found = remembered.get(directory)
    if found is None:
        found = remembered[directory] = os.path.isfile(os.path.join(directory, "__init__.py"))
    return found


def module_name_for(path: str, root: str) -> str:
    """The dotted module name, found by walking up through package ``__init__.py`` files."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else filename
    parts = [] if stem == "__init__" else [stem]
    root = os.path.abspath(root)
    while _is_package(directory):
        parts.insert(0, os.path.basename(directory))
        parent = os.path.dirname(directory)
        if parent == directory or not directory.startswith(root):
            break
        directory = parent
    return ".".join(parts) or stem


def _constant(node: ast.AST | None) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bool, int)):
        return node.value
    return None


#: A model setting's value: "app_label.Model".
_MODEL_LABEL = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*")


def _swapper_call(node: ast.AST | None, function: str, parameters: tuple[str, str] = ("app_label", "model")) -> list | None:
    """``swapper.get_model_name("app_label", "Model")`` (*function* and its two *parameters*,
    positional or by keyword): ``[callee as written, first, second]``, each argument a
    literal string or None when it is not one; None for any other call. Only the callee's
    last name is checked here: the index resolves it through the module's imports."""
    if not isinstance(node, ast.Call):
        return None
    callee = dotted_name(node.func)
    if callee is None or not callee.endswith(function) or len(node.args) > 2:
        return None
    arguments: dict[str, ast.expr] = dict(zip(parameters, node.args))
    for keyword in node.keywords:
        if keyword.arg not in parameters or keyword.arg in arguments:
            return None  # ``**kwargs`` or an argument swapper's function does not take here
        arguments[keyword.arg] = keyword.value
    if len(arguments) != 2:
        return None
    values = [_constant(arguments[name]) for name in parameters]
    return [callee, *(value if isinstance(value, str) else None for value in values)]


def _swapper_target(node: ast.AST | None) -> dict[str, str] | None:
    """``swapper.get_model_name("app_label", "Model")`` with literal arguments: the model
    label it defaults to and the callee as written (the index resolves both)."""
    call = _swapper_call(node, "get_model_name")
    if call is None or None in call:
        return None
    return {"kind": "swapper", "value": f"{call[1]}.{call[2]}", "callee": call[0]}


def _target(node: ast.AST | None) -> dict[str, str] | None:
    """A relation target: a class reference, a model string, or a setting (``settings.X_MODEL``,
    ``getattr(settings, "X_MODEL", "app.Model")``: with the default; swapper's
    ``get_model_name("app_label", "Model")``)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {"kind": "string", "value": node.value}
    swapper_target = _swapper_target(node)
    if swapper_target is not None:
        return swapper_target
    if isinstance(node, ast.Call) and dotted_name(node.func) == "getattr" and len(node.args) == 3 \
            and dotted_name(node.args[0]) == "settings" and not node.keywords:
        setting, default = _constant(node.args[1]), _constant(node.args[2])
        if isinstance(setting, str) and setting.endswith("_MODEL") and isinstance(default, str):
            return {"kind": "setting", "value": setting, "default": default}
        return None
    name = dotted_name(node)
    if name is None:
        return None
    if name.endswith("AUTH_USER_MODEL"):
        return {"kind": "setting", "value": "AUTH_USER_MODEL"}
    if name.startswith("settings.") and name.count(".") == 1 and name.endswith("_MODEL"):
        return {"kind": "setting", "value": name.partition(".")[2]}
    return {"kind": "name", "value": name}


def _field_from_call(name: str, call: ast.Call) -> Facts | None:
    callee = dotted_name(call.func)
    if callee is None:
        return None
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    target = _target(keywords.get("to", call.args[0] if call.args else None))
    if target is None:
        return None
    field: Facts = {
        "name": name,
        "callee": callee,
        "target": target,
        "line": call.lineno,
        "col": call.col_offset,
        "positional": len(call.args),
    }
    for key in RELATION_KEYWORDS:
        if key in keywords:
            value = _constant(keywords[key])
            # a non-literal unique=/primary_key= is "unknown": never assume True
            field[key] = value
            reference = dotted_name(keywords[key]) if value is None else None
            if reference is not None:  # unique=ONE_PER_COMPANY: the index resolves the constant
                field.setdefault("references", {})[key] = reference
    for kw in call.keywords:
        if kw.arg is not None:
            continue
        if isinstance(kw.value, ast.Dict):  # **{"unique": True}
            for key, value in _literal_dict(kw.value, keep_unknown=True).items():
                if key in RELATION_KEYWORDS and key not in field:
                    field[key] = value
        else:  # **UNIQUE: a module-level dict the index resolves; anything else stays opaque
            field.setdefault("spreads", []).append(dotted_name(kw.value) or "")
    # ForeignKey's third positional argument is related_name.
    if "related_name" not in field and len(call.args) >= 3:
        field["related_name_positional"] = _constant(call.args[2])
    return field


def _literal(node: ast.AST) -> tuple[bool, Any]:
    """(True, value) for a literal bool, int, str or None; (False, None) otherwise."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (str, bool, int))):
        return True, node.value
    return False, None


def _literal_dict(node: ast.Dict, keep_unknown: bool = False) -> dict[str, Any]:
    """The literal entries of a dict display: ``{"unique": True}``. An entry whose value is
    not a literal is None with *keep_unknown* (the key is there, its value unknown), else
    the whole dict is unknown (empty); so is one with a ``**`` entry or a non-string key."""
    result: dict[str, Any] = {}
    for key, value in zip(node.keys, node.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return {}
        known, literal = _literal(value)
        if not known and not keep_unknown:
            return {}
        result[key.value] = literal
    return result


def _bound_names(statement: ast.stmt) -> list[str]:
    """The module-level names a top-level statement binds (nested blocks included)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in statement.names]
    # nested blocks and comprehensions included: a name counted once too often only
    # makes a constant unknown
    names = []
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.append(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _constants(tree: ast.Module, text: str | None) -> dict[str, Any]:
    """Module-level names bound once, to a literal bool (``ONE_PER_COMPANY = True``) or to
    a literal dict holding a relation keyword (``UNIQUE = {"unique": True}``): what the
    index resolves ``unique=ONE_PER_COMPANY`` and ``**UNIQUE`` with, never by importing.
    A name bound again anywhere at module level, declared ``global`` in a function, or
    (a dict) possibly mutated is not a constant."""
    candidates: dict[str, Any] = {}
    for statement in tree.body:
        target: ast.AST | None = None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        elif isinstance(statement, ast.AnnAssign) and statement.simple:
            target = statement.target
        if not isinstance(target, ast.Name) or statement.value is None:  # type: ignore[union-attr]
            continue
        value = statement.value  # type: ignore[union-attr]
        if isinstance(value, ast.Constant) and isinstance(value.value, bool):
            candidates[target.id] = value.value
        elif isinstance(value, ast.Dict):
            entries = _literal_dict(value)
            if any(key in RELATION_KEYWORDS for key in entries):
                candidates[target.id] = entries
    if not candidates:
        return {}
    bindings: dict[str, int] = {}
    for statement in tree.body:
        for name in _bound_names(statement):
            if name in candidates:
                bindings[name] = bindings.get(name, 0) + 1
    found = {name: value for name, value in candidates.items() if bindings.get(name) == 1}
    if found and (text is None or "global" in text):
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                for name in node.names:
                    found.pop(name, None)
    for name in [n for n, value in found.items() if isinstance(value, dict)]:
        if text is None or re.search(
            r"\b%s\s*(?:\[|\.\s*(?:update|pop|popitem|setdefault|clear|__setitem__)\b)" % re.escape(name), text
        ):
            del found[name]  # UNIQUE["unique"] = False, UNIQUE.update(...): not a constant
    return found


def _meta(body: list[ast.stmt]) -> Facts | None:
    for statement in body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            meta: Facts = {"bases": [n for n in (dotted_name(b) for b in statement.bases) if n]}
            for item in statement.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1:
                    target = item.targets[0]
                    if isinstance(target, ast.Name) and target.id in (
                        "abstract",
                        "app_label",
                        "default_related_name",
                        "proxy",
                    ):
                        meta[target.id] = _constant(item.value)
                    elif isinstance(target, ast.Name) and target.id == "model":
                        # ``model = Article`` (a ModelForm's, a factory's): a name or "app.Model"
                        meta["model"] = _constant(item.value) or dotted_name(item.value)
                    elif isinstance(target, ast.Name) and target.id == "swappable":
                        meta["swappable"] = _swappable(item.value)
                    elif isinstance(target, ast.Name) and target.id == "strategy":
                        # a factory's ``strategy = factory.BUILD_STRATEGY``: a name or "build"
                        meta["strategy"] = _constant(item.value) or dotted_name(item.value) or "?"
            return meta
    return None


def _swappable(node: ast.AST) -> Any:
    """``Meta.swappable``: the setting's name (``"AUTH_USER_MODEL"``), swapper's
    ``swappable_setting("app_label", "Model")`` as ``[callee, app_label, model]``, or None
    when it is neither (unknown)."""
    value = _constant(node)
    if isinstance(value, str):
        return value
    call = _swapper_call(node, "swappable_setting")
    return call if call is not None and None not in call else None


def _swapper_prefixes(tree: ast.Module, text: str | None) -> list[list]:
    """Every ``swapper.set_app_prefix("app_label", "prefix")`` call of the module, anywhere
    (it changes a process-wide table): ``[callee as written, app_label, prefix]``, an
    argument that is no literal string being None (unknown)."""
    if text is not None and "set_app_prefix" not in text:
        return []
    return [call for call in (_swapper_call(node, "set_app_prefix", ("app_label", "prefix"))
                              for node in ast.walk(tree)) if call is not None]


def _swapper_names(tree: ast.Module, text: str | None) -> dict[str, list]:
    """Module-level names bound once, to ``swapper.get_model_name("app_label", "Model")``
    with literal arguments (``PAGE_MODEL = swapper.get_model_name(...)``, then
    ``ForeignKey(PAGE_MODEL, ...)``): ``{name: [callee, app_label, model]}``."""
    if text is not None and "get_model_name" not in text:
        return {}
    candidates: dict[str, list] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            call = _swapper_call(statement.value, "get_model_name")
            if call is not None and None not in call:
                candidates[statement.targets[0].id] = call
    if not candidates:
        return {}
    bindings: dict[str, int] = {}
    for statement in tree.body:
        for name in _bound_names(statement):
            if name in candidates:
                bindings[name] = bindings.get(name, 0) + 1
    return {name: call for name, call in candidates.items() if bindings.get(name) == 1}


def _is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


#: A character beyond ASCII (an identifier holding one may be NFKC-normalised to an ASCII
#: name: ``ｓave`` is ``save``), with the rest of its line: one match per such line.
_NON_ASCII = re.compile(r"[^\x00-\x7f][^\r\n]*")


def _lines_spelling(text: str, word: str) -> list[int]:
    """The lines of *text* (sorted) where *word* is spelled, or that hold a character beyond
    ASCII (where an identifier may be *word* once normalised)."""
    offsets = []
    position = text.find(word)
    while position != -1:
        offsets.append(position)
        position = text.find(word, position + len(word))
    if not text.isascii():
        offsets += [match.start() for match in _NON_ASCII.finditer(text)]
    return sorted(set(line_numbers(text, offsets)))


def _saved_names(node: ast.ClassDef, text: str | None = None) -> list[str]:
    """Names ``n`` the class body saves: ``<...>.n.save(...)``, ``n.asave(...)``. With the
    module's *text*, only the statements spanning a line that spells ``save`` are walked
    (the attribute's name is on such a line)."""
    found: set[str] = set()
    if text is not None:
        nodes: Iterable[ast.AST] = walk_near(node, _lines_spelling(text, "save"))
    else:
        nodes = _every_node(node)
    for child in nodes:
        func = child.func if type(child) is ast.Call else None  # type: ignore[attr-defined]
        if isinstance(func, ast.Attribute) and func.attr in ("save", "asave"):
            receiver = func.value
            if isinstance(receiver, ast.Name):
                found.add(receiver.id)
            elif isinstance(receiver, ast.Attribute):
                found.add(receiver.attr)
    return sorted(found)


def _every_node(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under *node* and itself, as ``ast.walk`` (another order), without its generators."""
    stack: list[ast.AST] = [node]
    while stack:
        child = stack.pop()
        stack.extend(child_nodes(child))
        yield child


def _class_facts(node: ast.ClassDef, text: str | None = None) -> Facts:
    fields: list[Facts] = []
    attributes: list[str] = []
    methods: list[str] = []
    primary_keys: list[list[Any]] = []
    generic_keys: list[list[str]] = []
    for statement in node.body:
        kind = type(statement)  # ``ast.parse`` makes no subclasses: the commonest kinds first
        value: ast.AST | None
        if kind is ast.Assign:
            value = statement.value  # type: ignore[attr-defined]
            names = [t.id for t in statement.targets if type(t) is ast.Name]  # type: ignore[attr-defined]
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            methods.append(statement.name)  # type: ignore[attr-defined]
            continue
        elif kind is ast.AnnAssign and type(statement.target) is ast.Name:  # type: ignore[attr-defined]
            value = statement.value  # type: ignore[attr-defined]
            names = [statement.target.id]  # type: ignore[attr-defined]
        else:
            continue
        attributes.extend(names)
        if type(value) is ast.Call and len(names) == 1:
            callee = dotted_name(value.func)
            if callee is not None and callee.rpartition(".")[2] == "GenericForeignKey":
                generic_keys.append([names[0], callee])
                continue
            field = _field_from_call(names[0], value)
            if field is not None:
                fields.append(field)
            keywords = {kw.arg for kw in value.keywords if kw.arg}
            if "primary_key" in keywords and any(kw.arg == "primary_key" and _is_true(kw.value) for kw in value.keywords):
                primary_keys.append([names[0], "default" in keywords])
    return {
        "name": node.name,
        "line": node.lineno,
        "bases": [n for n in (dotted_name(b) for b in node.bases) if n],
        "meta": _meta(node.body),
        "fields": fields,
        "attributes": attributes,
        "methods": methods,
        # fields with a literal primary_key=True: [name, has a default=] (the pk is set at construction)
        "primary_keys": primary_keys,
        # ``content_object = GenericForeignKey(...)``: [attribute, callee as written]
        "generic_keys": generic_keys,
        # a save()/asave() override: the relations its class body saves first
        "saves": _saved_names(node, text) if "save" in methods or "asave" in methods else [],
    }


#: Text that defines or builds a custom manager (``objects`` may not be the default one).
_CUSTOM_MANAGER_WORDS = ("Manager(", "as_manager(", "from_queryset(")


def _custom_managers(tree: ast.Module, text: str | None, classes: list[Facts]) -> bool:
    """The module defines or builds custom managers (``class M(models.Manager)``,
    ``objects = M()``, ``QuerySet.as_manager()``, ``Manager.from_queryset(...)``)."""
    if text is not None:
        # ``any(word in text for word in _CUSTOM_MANAGER_WORDS)``, one pass fewer in the
        # commonest case: both ``Manager(`` and ``as_manager(`` end with ``anager(``
        if "anager(" in text and ("Manager(" in text or "as_manager(" in text):
            return True
        return "from_queryset(" in text
    if not classes:
        return False
    return any(
        isinstance(node, ast.Call) and (dotted_name(node.func) or "").rpartition(".")[2].endswith(
            ("Manager", "as_manager", "from_queryset"))
        or isinstance(node, ast.ClassDef) and any((dotted_name(b) or "").endswith("Manager") for b in node.bases)
        for node in ast.walk(tree)
    )


#: A directory relative to the settings module: how many levels up from the file
#: (1: its directory), then the names below.
RelativeDirectory = tuple[int, tuple[str, ...]]


def _template_dirs(tree: ast.Module, templates: ast.Assign) -> tuple[list[list], bool]:
    """The directories ``TEMPLATES[...]["DIRS"]`` names, when they can be read without
    running the settings: built from ``__file__`` (``BASE_DIR = Path(__file__).resolve()
    .parent.parent``, ``os.path.dirname(os.path.abspath(__file__))``) and string literals
    (``BASE_DIR / "templates"``, ``os.path.join(BASE_DIR, "templates")``,
    ``BASE_DIR.joinpath("templates")``), through module-level names bound before (a path,
    or a list of paths: ``TEMPLATE_DIRS = [BASE_DIR / "frontend"]``). As ``[levels up,
    [names]]``, and whether every directory the setting names was read: a TEMPLATES built
    otherwise (a call, the environment, ``**`` entries) or a DIRS entry not read leaves
    the project's template directories unknown."""
    bindings: dict[str, RelativeDirectory] = {}
    lists: dict[str, list[RelativeDirectory]] = {}
    for statement in tree.body:
        if statement is templates:
            break
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            bindings.pop(name, None)
            lists.pop(name, None)
            found = _directory(statement.value, bindings)
            if found is not None:
                bindings[name] = found
            elif isinstance(statement.value, (ast.List, ast.Tuple)):
                entries = [_directory(entry, bindings) for entry in statement.value.elts]
                if all(entry is not None and entry[0] > 0 for entry in entries):
                    lists[name] = entries  # type: ignore[assignment]
    found_dirs: list[list] = []
    if isinstance(templates.value, (ast.Dict, ast.Set, ast.Constant)):
        return found_dirs, True  # not Django's setting (a list of backends): django CMS's own TEMPLATES
    if not isinstance(templates.value, (ast.List, ast.Tuple)):
        return found_dirs, False
    resolved = True
    for backend in templates.value.elts:
        if not isinstance(backend, ast.Dict):
            resolved = False
            continue
        for key, value in zip(backend.keys, backend.values):
            if key is None:  # ``**base``: may hold DIRS
                resolved = False
            elif not isinstance(key, ast.Constant):
                resolved = False
            elif key.value == "DIRS":
                entries = (
                    [_directory(entry, bindings) for entry in value.elts] if isinstance(value, (ast.List, ast.Tuple))
                    else lists.get(value.id) if isinstance(value, ast.Name) else None)
                if entries is None:
                    resolved = False
                    continue
                for directory in entries:
                    if directory is not None and directory[0] > 0:
                        found_dirs.append([directory[0], list(directory[1])])
                    else:
                        resolved = False
    return found_dirs, resolved and not _template_dirs_changed(tree, templates, lists)


def _template_dirs_changed(tree: ast.Module, templates: ast.Assign | None, lists: Iterable[str] = ()) -> bool:
    """Whether a module-level statement after *templates* (or anywhere, without one) may
    change the TEMPLATES DIRS: ``TEMPLATES[0]["DIRS"] += [...]``, ``TEMPLATES[0]["DIRS"]
    .append(...)``, a mutation of a list named in DIRS, a ``TEMPLATES`` rebound by an
    augmented assignment."""
    watched = {"TEMPLATES", *lists}
    after = templates is None
    for statement in _module_statements(tree.body):
        if statement is templates:
            after = True
            continue
        if not after:
            continue
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = [t for t in statement.targets if not isinstance(t, ast.Name)]
        elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
            targets = [statement.target]
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and isinstance(
                statement.value.func, ast.Attribute):
            targets = [statement.value.func.value]
        for target in targets:
            keys: list[object] = []
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                if isinstance(target, ast.Subscript):
                    keys.append(target.slice.value if isinstance(target.slice, ast.Constant) else None)
                target = target.value
            if not isinstance(target, ast.Name) or target.id not in watched:
                continue
            if target.id != "TEMPLATES":
                return True  # a list named in DIRS changed
            # ``TEMPLATES[0]["OPTIONS"]["debug"] = DEBUG`` leaves DIRS alone; anything else may not
            if "DIRS" in keys or not any(isinstance(key, str) for key in keys) or None in keys:
                return True
    return False


def _may_change_templates(tree: ast.Module, text: str | None) -> bool:
    """:func:`_template_dirs_changed` for a module without a ``TEMPLATES = ...``: only a
    module that names ``TEMPLATES`` (spelled so, or with a character beyond ASCII that an
    identifier may be normalised from) can change it."""
    if text is not None and text.isascii() and "TEMPLATES" not in text:
        return False
    return _template_dirs_changed(tree, None)


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run when the module is imported, in order: inside ``if``, ``try``,
    ``with`` and loops too (``if DEBUG: TEMPLATES[0]["DIRS"] += [...]``), not in functions."""
    for statement in body:
        yield statement
        if isinstance(statement, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            for block in ("body", "orelse", "finalbody"):
                yield from _module_statements(getattr(statement, block, []))
            for handler in getattr(statement, "handlers", []):
                yield from _module_statements(handler.body)


def _directory(node: ast.expr, bindings: dict[str, RelativeDirectory]) -> RelativeDirectory | None:
    """*node* as a path relative to the module's file, if it is one (see :func:`_template_dirs`)."""
    if isinstance(node, ast.Name):
        return (0, ()) if node.id == "__file__" else bindings.get(node.id)
    if isinstance(node, ast.Attribute):
        if node.attr in ("parent",):
            inner = _directory(node.value, bindings)
            return _up(inner, 1)
        return None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
        index = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if isinstance(index, int) and not isinstance(index, bool):
            return _up(_directory(node.value.value, bindings), index + 1)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _join(_directory(node.left, bindings), [node.right])
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    function = dotted_name(node.func) or ""
    method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
    if method in ("resolve", "absolute") and not node.args:
        return _directory(node.func.value, bindings)  # type: ignore[attr-defined]
    if method == "joinpath":
        return _join(_directory(node.func.value, bindings), list(node.args))  # type: ignore[attr-defined]
    if not node.args:
        return None
    first = _directory(node.args[0], bindings)
    if function in ("os.path.abspath", "os.path.realpath", "abspath", "realpath", "str") and len(node.args) == 1:
        return first
    if function in ("os.path.dirname", "dirname") and len(node.args) == 1:
        return _up(first, 1)
    if function in ("os.path.join", "join", "Path", "pathlib.Path"):
        return _join(first, node.args[1:])
    return None


def _up(directory: RelativeDirectory | None, levels: int) -> RelativeDirectory | None:
    if directory is None:
        return None
    up, names = directory
    if len(names) >= levels:
        return (up, names[:len(names) - levels])
    return (up + levels - len(names), ())


def _join(directory: RelativeDirectory | None, parts: list[ast.expr]) -> RelativeDirectory | None:
    if directory is None or (directory[0] == 0 and parts):  # the file itself is no directory
        return None if parts else directory
    names = list(directory[1])
    for part in parts:
        if not isinstance(part, ast.Constant) or not isinstance(part.value, str):
            return None
        for name in part.value.replace("\\", "/").split("/"):
            if name in ("", "."):
                continue
            if name == "..":
                return None
            names.append(name)
    return (directory[0], tuple(names))


def extract_facts(tree: ast.Module, module: str, is_package: bool, text: str | None = None,
                  deferring: Collection[str] = ()) -> Facts:
    """A file's facts; the extractors whose code is in *deferring* are left out (and listed
    under :data:`DEFERRED`)."""
    imports: dict[str, str] = {}
    star_imports: list[str] = []
    classes: list[Facts] = []
    settings: dict[str, str] = {}
    template_dirs: list[list] = []
    templates_resolved: bool | None = None
    for statement in tree.body:
        if isinstance(statement, _IMPORTING):
            _collect_imports(statement, module, is_package, imports, star_imports)
        elif isinstance(statement, ast.ClassDef):
            classes.append(_class_facts(statement, text))
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id == "AUTH_USER_MODEL":
                value = _constant(statement.value)
                if isinstance(value, str):
                    settings["AUTH_USER_MODEL"] = value
            elif isinstance(target, ast.Name) and target.id == "TEMPLATES":
                template_dirs, templates_resolved = _template_dirs(tree, statement)
            elif isinstance(target, ast.Name) and target.id.endswith("_MODEL"):
                # ``PROFILE_OWNER_MODEL = "accounts.Member"``: a setting a relation may name
                value = _constant(statement.value)
                if isinstance(value, str) and _MODEL_LABEL.fullmatch(value):
                    settings[target.id] = value
    from o2o_lint.rules import all_extractors

    facts = {
        "version": facts_version(),
        "module": module,
        "is_package": is_package,
        "imports": imports,
        "star_imports": star_imports,
        "classes": classes,
        "settings": settings,
        "template_dirs": template_dirs,
        # False when the module sets (or changes) TEMPLATES in a way not read statically
        "template_dirs_resolved": (
            templates_resolved if templates_resolved is not None else not _may_change_templates(tree, text)),
        "looks_like_migration": _looks_like_migration(classes),
        "custom_managers": _custom_managers(tree, text, classes),
        "constants": _constants(tree, text),
        # swapper: set_app_prefix() calls, names bound to get_model_name()
        "swapper_prefixes": _swapper_prefixes(tree, text),
        "swapper_names": _swapper_names(tree, text),
        "rules": {extractor.code: extractor.extract(tree, text) for extractor in all_extractors()
                  if extractor.code not in deferring},
    }
    deferred = [extractor.code for extractor in all_extractors() if extractor.code in deferring]
    if deferred:
        facts[DEFERRED] = deferred
    return facts


#: The statements :func:`_collect_imports` looks into.
_IMPORTING = (ast.Import, ast.ImportFrom, ast.If, ast.Try)


def _collect_imports(
    statement: ast.stmt, module: str, is_package: bool, imports: dict[str, str], star_imports: list[str]
) -> None:
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname:
                imports[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                imports[top] = top
    elif isinstance(statement, ast.ImportFrom):
        source = statement.module or ""
        if statement.level:
            source = resolve_relative(module, is_package, statement.level, statement.module)
        for alias in statement.names:
            if alias.name == "*":
                star_imports.append(source)
            else:
                imports[alias.asname or alias.name] = f"{source}.{alias.name}" if source else alias.name
    elif isinstance(statement, (ast.If, ast.Try)):
        # ``try: from x import y / except ImportError: ...`` and TYPE_CHECKING blocks
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, _IMPORTING):
                _collect_imports(child, module, is_package, imports, star_imports)
            elif isinstance(child, ast.ExceptHandler):
                for grandchild in child.body:
                    if isinstance(grandchild, _IMPORTING):
                        _collect_imports(grandchild, module, is_package, imports, star_imports)


def _looks_like_migration(classes: list[Facts]) -> bool:
    return any(c["name"] == "Migration" and any(b.endswith("Migration") for b in c["bases"]) for c in classes)


def facts_for_tree(tree: ast.Module, path: str, root: str, text: str | None = None,
                   deferring: Collection[str] = ()) -> Facts:
    module = module_name_for(path, root)
    return extract_facts(tree, module, os.path.basename(path) == "__init__.py", text, deferring)


def complete_facts(facts: Facts, tree: ast.Module | None, text: str | None, codes: Collection[str]) -> None:
    """Extract the deferred facts of *codes* into *facts* (in place), from the file's tree
    (None: the file can no longer be read or parsed, the rules get no facts of it)."""
    from o2o_lint.rules import all_extractors

    deferred = facts.get(DEFERRED)
    if not deferred:
        return
    for extractor in all_extractors():
        if extractor.code in codes and extractor.code in deferred:
            facts["rules"][extractor.code] = None if tree is None else extractor.extract(tree, text)
    left = [code for code in deferred if code not in codes]
    if left:
        facts[DEFERRED] = left
    else:
        del facts[DEFERRED]
