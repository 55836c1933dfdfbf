"""The rule's project view: through which names an unsaved instance can reach a save point.

Built once per index with ``context.index.view(SinkNames)``, on the Django knowledge
the index derives (:attr:`o2o_lint.index.model.ProjectIndex.django`).
"""

from __future__ import annotations

import ast
import os

from o2o_lint.django_api import ASYNC_TWINS, FACTORY_BASES, LOOKUP_METHODS, MODEL_FORM_BASES, QUERY_EXPRESSIONS
from o2o_lint.index.django import DjangoModels
from o2o_lint.index.model import ModelInfo, ProjectIndex, RelationKind

#: Functions that look at their arguments without saving them: a call of one hands nothing
#: over (the flow analysis and the tree screen both read this).
NON_SAVING_FUNCTIONS = frozenset({
    "print", "isinstance", "issubclass", "len", "str", "repr", "hash", "id", "type", "bool",
    "format", "getattr", "hasattr", "callable", "vars", "dir", "sorted", "reversed", "any", "all",
    "min", "max", "enumerate", "zip", "iter", "next", "list", "tuple", "set", "frozenset",
    "dict", "int", "float",
}) | QUERY_EXPRESSIONS

#: Receivers whose methods only log what they are given: ``log.save()`` saves nothing (the flow
#: analysis and the tree screen both read this).
LOGGER_RECEIVERS = frozenset({"logger", "log", "logging", "LOGGER", "LOG", "_logger", "_log"})

#: A formset's methods and attributes that only validate or read, never save its forms' instances.
#: Any other use of the formset (``formset.forms``, iterating it, ``formset.save()``, handing it
#: to a call) may save the instances its ``save(commit=False)`` lists: they are the forms' own.
FORMSET_READS = frozenset({"is_valid", "errors", "non_form_errors", "total_error_count", "is_bound", "has_changed"})

#: A ModelForm whose classes define one of these may be handed an existing row: the flow
#: analysis follows no instance of it (``FunctionAnalysis.construct_form``, which reads this too).
FORM_DRIVERS = frozenset({"__init__", "save", "_post_clean", "full_clean", "is_valid"})


class SinkNames:
    """Per model, the names a file must spell for one of its instances to reach a save point."""

    def __init__(self, index: ProjectIndex) -> None:
        self.django: DjangoModels = index.django
        self.index = index
        #: classes that build a model's instances (ModelForms, factories): name -> models
        self._builders: dict[str, list[ModelInfo]] = {}
        for bases in (MODEL_FORM_BASES, FACTORY_BASES):
            for builder in self.django.meta_model_classes(bases).values():
                self._builders.setdefault(builder.name, []).append(builder.model)
        #: class names of the concrete models and of the classes that build them
        self.names = self.django.names | self._builders.keys()
        self._conftests: dict[str, dict[str, frozenset[str]]] | None = None
        self._sinks_by_target: dict[str, set[str]] | None = None
        self._generic_keys: frozenset[str] = frozenset()
        self._sinks: dict[str, frozenset[str]] = {}
        self._managers: dict[str, frozenset[str]] = {}
        # What the tree screen needs to tell the flow analysis's save points from other code
        #: every reverse one-to-one accessor: ``place.restaurant = r`` attaches ``place`` to ``r``
        self.reverse_one_to_one = frozenset(
            r.accessor for r in index.reverse_relations if r.kind == RelationKind.ONE_TO_ONE)
        unfollowed: dict[str, bool] = {}
        for form in self.django.meta_model_classes(MODEL_FORM_BASES).values():
            unfollowed[form.name] = unfollowed.get(form.name, True) and bool(FORM_DRIVERS & form.methods)
        #: names only ModelForm classes have (no model or factory), and those of which every
        #: class defines a method that may hand the form an existing row (the flow analysis
        #: follows no instance of theirs)
        factories = {factory.name for factory in self.django.meta_model_classes(FACTORY_BASES).values()}
        self.forms = frozenset(unfollowed.keys() - self.django.names - factories)
        self.unfollowed_forms = frozenset(name for name in self.forms if unfollowed[name])
        #: the queryset and manager methods whose keyword arguments the flow analysis checks,
        #: and ``Q``, whose keywords it checks among a lookup's arguments
        methods = {"create", "update", "get_or_create", "update_or_create", *LOOKUP_METHODS}
        self.keyword_methods = frozenset(
            methods | {twin for twin, name in ASYNC_TWINS.items() if name in methods} | {"Q"})

    def models_named(self, name: str) -> list[ModelInfo]:
        """The models a class name called in a file builds: the model itself, or a form's model."""
        builders = self._builders.get(name)
        return self.django.models_named(name) + builders if builders else self.django.models_named(name)

    def conftest_fixtures(self, path: str) -> dict[str, frozenset[str]]:
        """Fixtures of the ``conftest.py`` files above *path* that build a model or call a
        builder (``PlaceFactory.build()``): fixture name -> the class names called, nearest first."""
        if self._conftests is None:
            self._conftests = {}
            for conftest, facts in self.index.facts_by_path.items():
                if os.path.basename(conftest) == "conftest.py":
                    fixtures = self._fixtures_in(conftest)
                    # and the modules it imports fixtures from (``from .fixtures import *``)
                    imported = {target.rpartition(".")[0] for target in facts["imports"].values()}
                    for module in sorted(imported | set(facts["star_imports"])):
                        source = self.index.path_by_module.get(module)
                        if source is not None:
                            for name, called in self._fixtures_in(source).items():
                                fixtures.setdefault(name, called)
                    self._conftests[os.path.dirname(os.path.abspath(conftest))] = fixtures
        if not self._conftests:
            return {}
        found: dict[str, frozenset[str]] = {}
        directory = os.path.dirname(os.path.abspath(path))
        while True:
            for name, called in self._conftests.get(directory, {}).items():
                found.setdefault(name, called)
            parent = os.path.dirname(directory)
            if parent == directory:
                return found
            directory = parent

    def _fixtures_in(self, path: str) -> dict[str, frozenset[str]]:
        text = self.index.source_text(path)
        if text is None or "fixture" not in text:
            return {}
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return {}
        fixtures = {}
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef) and any("fixture" in ast.dump(d) for d in statement.decorator_list):
                called = {
                    node.func.id if isinstance(node.func, ast.Name) else node.func.value.id
                    for node in ast.walk(statement)
                    if isinstance(node, ast.Call) and (
                        isinstance(node.func, ast.Name) or isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.attr in ("build", "build_batch"))
                }
                called = {name for name in called if name in self.names}
                if called:
                    fixtures[statement.name] = frozenset(called)
        return fixtures

    def manager_names(self, model: ModelInfo) -> frozenset[str]:
        """The related managers of a *model* instance (``place.waiter_set``, ``article.tags``):
        of the names read as attributes of an instance (``x.<name>``), the only ones through
        which the flow analysis follows the instance itself (``FunctionAnalysis.eval_attribute``
        reads any other attribute as the relation set under that name, or as nothing)."""
        cached = self._managers.get(model.qualname)
        if cached is None:
            cached = self._managers[model.qualname] = frozenset(self.django.managers(model))
        return cached

    def sink_names(self, model: ModelInfo) -> frozenset[str]:
        """Names through which an unsaved *model* instance can reach a save point.

        Relations (and lookups) whose target is the model or a parent of it; managers
        whose rows are such instances; the model's own managers and reverse one-to-one
        accessors. A file that spells none of them cannot hold a finding for the model.
        """
        cached = self._sinks.get(model.qualname)
        if cached is not None:
            return cached
        django = self.django
        if self._sinks_by_target is None:
            by_target: dict[str, set[str]] = {}
            for other in django.concrete:
                for name, relation in django.forward(other).items():
                    if relation.target is None:
                        continue
                    by_target.setdefault(relation.target.qualname, set()).add(name)
            for reverse in self.index.reverse_relations:
                if reverse.field is None and reverse.owner not in django.concrete_keys:
                    continue
                related = self.index.models_by_key.get(reverse.related_model)
                if related is None:
                    continue
                # ``Place.objects.filter(restaurant=r)`` and ``place.restaurant_set.add(r)``
                names = by_target.setdefault(related.qualname, set())
                names.add(reverse.query_name)
                names.add(reverse.accessor)
            self._sinks_by_target = by_target
            self._generic_keys = frozenset().union(*(django.generic_foreign_keys(m) for m in django.concrete))
        names = set(django.managers(model)) | set(django.reverse_one_to_one(model))
        names |= self._generic_keys  # a GenericForeignKey takes an instance of any model
        for ancestor in django.ancestors(model):
            names |= self._sinks_by_target.get(ancestor.qualname, set())
        result = self._sinks[model.qualname] = frozenset(names)
        return result
