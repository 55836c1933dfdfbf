"""OTO002's per-function facts screen: it skips functions that cannot produce a record, and
never one that can (``benchmarks/facts_screen_check.py`` proves it on the real-code corpora)."""

from __future__ import annotations

import ast
import re
import textwrap

import pytest

from o2o_lint.rules.oto001_foreign_key_unique import facts as oto001_facts
from o2o_lint.rules.oto002_stale_reverse_cache import facts as oto002_facts
from o2o_lint.rules.oto002_stale_reverse_cache.facts import function_writes
from tests.helpers import rule_cases

#: One function per kind of record the extractor emits, each alone in its file so that no other
#: word of the file lets it through: (what it is, source, the record's key the facts must hold).
RECORDS = [
    ("hasattr read, then the receiver passed on", """
        def f(owner):
            if not hasattr(owner, "profile"):
                helper(owner)
        """, ("f", "reads", "calls")),
    ("getattr read with a default, then a method of the receiver", """
        def f(owner):
            if getattr(owner, "profile", None) is None:
                owner.setup()
        """, ("f", "reads", "calls")),
    ("getattr spelled across lines with a comment", """
        def f(owner):
            found = getattr(  # the cached row
                owner,
                u"profile",
                None,
            )
            helper(owner)
        """, ("f", "reads", "calls")),
    ("try read", """
        def f(owner):
            try:
                owner.profile
            except Profile.DoesNotExist:
                helper(owner)
        """, ("f", "reads", "calls")),
    ("try read caught as AttributeError in a tuple over lines", """
        def f(owner):
            try:
                owner.profile.bio
                helper(owner)
            except (
                KeyError,
                AttributeError,
            ):
                pass
        """, ("f", "reads", "calls")),
    ("element read in a comprehension, then each element passed on", """
        def f(owners):
            missing = [o for o in owners if not hasattr(o, "profile")]
            for owner in missing:
                helper(owner)
        """, ("f", "reads", "calls")),
    ("element read in filter(lambda ...)", """
        def f(owners):
            for owner in filter(lambda o: hasattr(o, "profile"), owners):
                helper(owner)
        """, ("f", "reads", "calls")),
    ("select_related fills the cache", """
        def f():
            for owner in Owner.objects.select_related("profile"):
                helper(owner)
        """, ("f", "reads", "calls")),
    ("prefetch_related on a local queryset", """
        def f():
            owners = Owner.objects.prefetch_related("profile")
            owner = owners.get(pk=1)
            helper(owner)
        """, ("f", "reads", "calls")),
    ("create by id", """
        def f(owner):
            Profile.objects.create(owner_id=owner.pk)
        """, ("f", "writes")),
    ("async get_or_create by id over lines", """
        async def f(owner):
            await Profile.objects.aget_or_create(owner_id=owner
                                                 .pk)
        """, ("f", "writes")),
    ("update_or_create with defaults", """
        def f(owner, other):
            Profile.objects.update_or_create(slug="x", defaults={"owner_id": owner.id})
        """, ("f", "writes")),
    ("another instance of the row", """
        def f(owner):
            Profile.objects.create(owner=Owner.objects.get(pk=owner.pk))
        """, ("f", "writes")),
    ("save of a constructed row", """
        def f(owner):
            Profile(owner_id=owner.pk).save()
        """, ("f", "writes")),
    ("save of a row read through the accessor, moved", """
        def f(owner, other):
            profile = owner.profile
            profile.owner = other
            profile.save()
        """, ("f", "writes")),
    ("delete through the accessor", """
        def f(owner):
            owner.profile.delete()
        """, ("f", "writes")),
    ("queryset delete", """
        def f(owner):
            Profile.objects.filter(owner=owner).delete()
        """, ("f", "writes")),
    ("queryset update of a local queryset", """
        def f(owner, other):
            rows = Profile.objects.filter(owner=owner)
            rows.update(owner=other)
        """, ("f", "writes")),
    ("update through a parenthesised model", """
        def f(owner, other):
            (Profile).objects.filter(owner=owner).update(owner=other)
        """, ("f", "writes")),
    ("custom manager method's rows deleted", """
        def f(owner):
            Profile.objects.for_user(owner).delete()
        """, ("f", "writes")),
    ("bulk_create by id", """
        def f(owners):
            Profile.objects.bulk_create([Profile(owner_id=o.pk) for o in owners])
        """, ("f", "writes")),
    ("factory_boy factory by id", """
        def f(owner):
            ProfileFactory(owner_id=owner.pk)
        """, ("f", "writes")),
    ("model_bakery by id", """
        def f(owner):
            baker.make("shop.Profile", owner_id=owner.pk)
        """, ("f", "writes")),
    ("on_commit in a durable block", """
        def f(owner):
            with transaction.atomic(durable=True):
                transaction.on_commit(lambda: owner.profile.delete())
            return owner
        """, ("f", "writes")),
    ("a writer's call passing a parameter on", """
        def f(owner):
            owner.profile.delete()
            helper(owner)
        """, ("f", "writes", "calls")),
    ("module-level read and call", """
        owner = Owner.objects.first()
        if not hasattr(owner, "profile"):
            helper(owner)
        """, ("<module>", "reads", "calls")),
    ("nested function of a function that makes none", """
        def outer(values):
            total = sum(values)

            def inner(owner):
                owner.profile.delete()
            return inner
        """, ("outer.<locals>.inner", "writes")),
    ("method of a class", """
        class Owner(models.Model):
            def reset(self):
                self.profile.delete()
        """, ("Owner.reset", "writes")),
    ("manager method narrowing its rows", """
        class ProfileManager(models.Manager):
            def for_user(self, user):
                return self.filter(user=user)

        class Profile(models.Model):
            objects = ProfileManager()
        """, ("ProfileManager.for_user", "narrows")),
    ("factory_boy post_generation hook", """
        class ProfileFactory(DjangoModelFactory):
            @factory.post_generation
            def extra(self, create, extracted):
                Profile.objects.create(owner_id=self.pk)
        """, ("ProfileFactory.extra", "writes")),
    ("a write with a space after the dot", """
        def f(owner):
            owner.profile. delete()
        """, ("f", "writes")),
    ("a write whose dot ends the line before, a comment after it", """
        def f(owner):
            (owner.profile.  # the cached row
                delete())
        """, ("f", "writes")),
    ("a spelling beyond ASCII (NFKC)", """
        def f(owner):
            if not ｈasattr(owner, "profile"):
                helper(owner)
        """, ("f", "reads", "calls")),
]


def _facts(source: str, *, screen: bool) -> str:
    # repr, not marshal: marshal's bytes also depend on which equal strings are one object
    return repr(function_writes(ast.parse(source), source, screen=screen))


@pytest.mark.parametrize(("source", "expected"), [pytest.param(textwrap.dedent(s), e, id=i) for i, s, e in RECORDS])
def test_the_screen_keeps_every_kind_of_record(source: str, expected: tuple[str, ...]) -> None:
    qualname, *keys = expected
    facts = function_writes(ast.parse(source), source)
    assert qualname in facts, facts.keys()
    for key in keys:
        assert facts[qualname][key], (key, facts[qualname])
    if source.isascii():
        assert _facts(source, screen=True) == _facts(source, screen=False)
    else:  # the screen reads the text as the tokenizer does; the line screen before it did not
        assert function_writes(ast.parse(source), source, screen=False) == {}


@pytest.mark.parametrize(("code", "case"), list(rule_cases("VALID", "INVALID")))
def test_the_screen_changes_no_facts_of_any_rule_case(code: str, case: object) -> None:
    for source in [case.code, *case.files.values()]:  # type: ignore[attr-defined]
        if not source.endswith(".py") and source.strip():
            try:
                ast.parse(source)
            except SyntaxError:
                continue
            assert _facts(source, screen=True) == _facts(source, screen=False)


def _walks(source: str, monkeypatch: pytest.MonkeyPatch) -> int:
    walked = []
    block = oto002_facts._FunctionWalker.block

    def counted(walker: oto002_facts._FunctionWalker, statements: list, prefix: list) -> None:
        if not prefix:
            walked.append(1)
        block(walker, statements, prefix)

    monkeypatch.setattr(oto002_facts._FunctionWalker, "block", counted)
    function_writes(ast.parse(source), source)
    return len(walked)


@pytest.mark.parametrize("body", [
    'return getattr(owner, name, None)',  # not a literal accessor
    'return getattr(owner, "profile")',  # no default: raises, caches nothing
    'if hasattr(owner, "profile"):\n        return owner.profile',  # read, but the receiver is passed to no call
    'context.update(extra)',  # an update with no Model. head
    'item.save()',  # a save of a name bound nowhere in the function: no row the walk follows
    'return Profile.objects.create(owner=owner)',  # a create through the instance
    'raise AttributeError("profile")',  # no handler
    'return "select_related"',  # a string, no call
])
def test_the_screen_skips_functions_that_cannot_make_a_record(body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = f"def f(owner, name, context, extra, item):\n    {body}\n"
    assert function_writes(ast.parse(source), source) == function_writes(ast.parse(source), source, screen=False)
    assert _walks(source, monkeypatch) == 0


@pytest.mark.parametrize("text", [
    "models.ForeignKey(Company, unique=True)",
    "models.ForeignKey(Company, unique = flag)",
    "models.ForeignKey(Company, unique=False)",
    "ForeignKey(Company, **{'unique': True})",
    "ForeignKey(Company, **UNIQUE)",
    "ForeignKey(Company, **kwargs)",
    "x ** 2",
    "nonunique=True",
    "primary_key=None",
    "make_unique_fk(**options)",
    "",
])
def test_oto001_text_screen_answers_as_its_pattern(text: str) -> None:
    assert oto001_facts._may_hold_unique(text) == (oto001_facts._UNIQUE.search(text) is not None)
    assert re.compile(oto001_facts._UNIQUE.pattern)  # the pattern itself is unchanged by the screen


#: Functions the screen rules out without walking them, each next to its twin that differs by
#: the one thing that makes a record (which the screen must let through): (what, skipped
#: source, recording source, the record's qualname and the keys it must hold).
SKIPS_AND_TWINS = [
    ("try read whose receiver is passed on by no call", """
        def f(owner):
            try:
                value = owner.profile.bio
            except AttributeError:
                value = None
            helper(value)
        """, """
        def f(owner):
            try:
                value = owner.profile.bio
            except AttributeError:
                value = None
            helper(owner)
        """, ("f", "reads", "calls")),
    ("try body calling a method: the method is no read", """
        def f(owner):
            try:
                owner.refresh()
            except Profile.DoesNotExist:
                pass
            owner.notify()
        """, """
        def f(owner):
            try:
                owner.profile
            except Profile.DoesNotExist:
                pass
            owner.notify()
        """, ("f", "reads", "calls")),
    ("try read after the call passing its receiver", """
        def f(owner):
            helper(owner)
            try:
                owner.profile
            except Profile.DoesNotExist:
                pass
        """, """
        def f(owner):
            try:
                owner.profile
            except Profile.DoesNotExist:
                pass
            helper(owner)
        """, ("f", "reads", "calls")),
    ("try read passed on in the statement holding it", """
        def f(owner):
            helper(owner)
            try:
                value = owner.profile
            except Profile.DoesNotExist:
                pass
        """, """
        def f(owner):
            try:
                value = helper(owner, owner.profile)
            except Profile.DoesNotExist:
                pass
        """, ("f", "reads", "calls")),
    ("hasattr read after the call passing its receiver", """
        def f(owner):
            helper(owner)
            if not hasattr(owner, "profile"):
                return None
        """, """
        def f(owner):
            if not hasattr(owner, "profile"):
                return None
            helper(owner)
        """, ("f", "reads", "calls")),
    ("hasattr read inside the call passing its receiver, over lines", """
        def f(owner):
            helper(
                owner,
            )
            check(
                hasattr(owner, "profile"),
            )
        """, """
        def f(owner):
            helper(
                owner,
                hasattr(owner, "profile"),
            )
        """, ("f", "reads", "calls")),
    ("hasattr read in a loop, receiver passed before it", """
        def f(owner):
            while owner.busy:
                helper(owner)
                if hasattr(owner, "profile"):
                    break
        """, """
        def f(owner):
            while owner.busy:
                if hasattr(owner, "profile"):
                    break
                helper(owner)
        """, ("f", "reads", "calls")),
    ("hasattr read of a for statement's variable (no element read)", """
        def f(owners):
            for owner in owners:
                if hasattr(owner, "profile"):
                    continue
                log(owner.pk)
        """, """
        def f(owners):
            missing = [owner for owner in owners if not hasattr(owner, "profile")]
            for owner in missing:
                log(owner)
        """, ("f", "reads", "calls")),
    ("save of a name bound nowhere in the function", """
        def f(owner, item):
            item.owner = owner
            item.save()
        """, """
        def f(owner, other):
            item = owner.profile
            item.owner = other
            item.save()
        """, ("f", "writes")),
    ("delete of a name bound nowhere in the function", """
        def f(owner, item):
            if owner.active:
                return item.delete()
        """, """
        def f(owner):
            for item in [owner.profile]:
                pass
            item = owner.profile
            if owner.active:
                return item.delete()
        """, ("f", "writes")),
    ("save of a bound name with no field set on it", """
        def f(owner, data):
            form = ProfileForm(data, instance=owner.profile)
            form.save()
        """, """
        def f(owner, other, data):
            profile = owner.profile
            profile.owner = other
            profile.save()
        """, ("f", "writes")),
    ("save of a dotted name with no field set on it", """
        def f(owner, data):
            owner.profile.bio = data
            owner.settings.save()
        """, """
        def f(owner, other):
            owner.profile.owner = other
            owner.profile.save()
        """, ("f", "writes")),
    ("save of a row set by id", """
        def f(owner):
            item = Profile(bio="")
            item.save()
        """, """
        def f(owner):
            item = Profile(owner_id=owner.pk)
            item.save()
        """, ("f", "writes")),
    ("save through super()", """
        class Profile(models.Model):
            def save(self, *args, **kwargs):
                self.bio = self.bio.strip()
                super(Profile, self).save(*args, **kwargs)
        """, """
        class Profile(models.Model):
            def save(self, *args, **kwargs):
                self.owner.profile.bio = self.bio.strip()
                self.owner.profile.save(*args, **kwargs)
        """, ("Profile.save", "writes")),
    ("receiver passed only to a builtin", """
        def f(owner):
            if hasattr(owner, "profile") and isinstance(owner, Owner):
                return owner.profile
        """, """
        def f(owner):
            if hasattr(owner, "profile") and is_owner(owner, Owner):
                return owner.profile
        """, ("f", "reads", "calls")),
    ("update passing no keyword argument", """
        def f(owner, changes):
            Profile.objects.filter(owner=owner).update(**changes)
            Profile.objects.filter(owner=owner).update({"note": "owner=x"})
        """, """
        def f(owner, other):
            Profile.objects.filter(owner=owner).update({"note": "owner=x"}, owner=other)
        """, ("f", "writes")),
    ("a capital beyond ASCII heads the write chain", """
        def f(owner, changes):
            Ünit.objects.filter(owner=owner).update(changes)
        """, """
        def f(owner, other):
            Ünit.objects.filter(owner=owner).update(owner=other)
        """, ("f", "writes")),
    ("characters beyond ASCII that NFKC leaves alone", """
        def f(owner):
            note = "café"  # déjà vu
            return helper(owner, note)
        """, """
        def f(owner):
            note = "café"  # déjà vu
            if not ｈasattr(owner, "profile"):
                return helper(owner, note)
        """, ("f", "reads", "calls")),
    ("manager method with nothing to walk (its narrows from the tree)", """
        class ProfileManager(models.Manager):
            def for_user(self, user):
                return self.filter(user=user)

        class Profile(models.Model):
            objects = ProfileManager()
        """, """
        class ProfileManager(models.Manager):
            def for_user(self, user, other):
                self.filter(user=user).update(user=other)
                return self.filter(user=user)

        class Profile(models.Model):
            objects = ProfileManager()
        """, ("ProfileManager.for_user", "writes")),
]


@pytest.mark.parametrize(("skipped", "recording", "expected"), [
    pytest.param(textwrap.dedent(s), textwrap.dedent(r), e, id=i) for i, s, r, e in SKIPS_AND_TWINS])
def test_the_screen_skips_a_function_but_not_its_recording_twin(
        skipped: str, recording: str, expected: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    qualname, *keys = expected
    facts = function_writes(ast.parse(skipped), skipped)
    assert _walks(skipped, monkeypatch) == 0, facts
    assert all(not facts.get(qualname, {}).get(key) for key in keys), facts
    assert _facts(skipped, screen=True) == _facts(skipped, screen=False)
    facts = function_writes(ast.parse(recording), recording)
    assert qualname in facts, facts.keys()
    for key in keys:
        assert facts[qualname][key], (key, facts[qualname])
    if recording.isascii():
        assert _facts(recording, screen=True) == _facts(recording, screen=False)


def test_a_manager_method_the_screen_skips_keeps_its_narrows(monkeypatch: pytest.MonkeyPatch) -> None:
    source = textwrap.dedent("""
        class ProfileManager(models.Manager):
            def for_user(self, user):
                return self.filter(user=user)

            def active(self):
                return self.filter(active=True)

        class Profile(models.Model):
            objects = ProfileManager()
        """)
    facts = function_writes(ast.parse(source), source)
    assert _walks(source, monkeypatch) == 0
    assert facts["ProfileManager.for_user"]["narrows"] == [["user", "user"]]
    assert "ProfileManager.active" not in facts
    assert _facts(source, screen=True) == _facts(source, screen=False)


@pytest.mark.parametrize(("call", "may"), [
    ("x.update(a)", False),
    ("x.update({'a': b}, c)", False),
    ("x.update(dict(a=1))", False),  # a keyword of another call
    ("x.update(a == b, c <= d, e != f)", False),
    ("x.update('=)', b'=)', r'\\'')", False),
    ("x.update('''a=)''')", False),
    ("x.update(**changes)", False),
    ("x.update(a=1)", True),
    ("x.update(a, b =1)", True),
    ("x.update(f'{a}')", True),  # an f-string: not read
    ("x.update(a,  # b=1\n)", True),  # a comment: not read
    ("x.update(lambda y=1: y)", True),
    ("x.update\n(a)", True),
    ("x.update", True),
])
def test_an_update_may_pass_a_keyword(call: str, may: bool) -> None:
    assert oto002_facts._may_pass_keyword(call, len("x.update")) is may
    tree = ast.parse(call)
    keywords = [k for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                for k in node.keywords if k.arg]
    assert may or not keywords  # never False for a call passing one


@pytest.mark.parametrize("spacing", [" ", "  ", "\t", " \\\n    "], ids=["space", "two-spaces", "tab", "continuation"])
def test_a_test_is_found_however_its_def_is_spaced(spacing: str) -> None:
    source = f"def{spacing}test_profile(owner, profile_factory):\n    profile_factory(owner_id=owner.pk)\n"
    tree = ast.parse(source)
    found = oto002_facts._pytest_fixtures(tree, source)
    assert found is not None and found["tests"] == [[1, source.count("\n"), ["owner", "profile_factory"]]]
    assert found == oto002_facts._pytest_fixtures(tree, None)  # the tree alone finds the same
