"""OTO002 beyond the snippets: the per-function facts, the index queries, the screen."""

from __future__ import annotations

import ast
import marshal
import textwrap
from pathlib import Path

import pytest

from o2o_lint.rules.oto002_stale_reverse_cache.facts import function_writes
from o2o_lint.rules.oto002_stale_reverse_cache.rule import _MODELS
from o2o_lint.rules.oto002_stale_reverse_cache.summaries import StaleWrites
from tests.helpers import engine_for, record_libcst_parses, write_project

SERVICES = """\
from shop.models import Profile


def ensure_profile(owner):
    Profile.objects.get_or_create(owner_id=owner.pk)


def nobody_reads_first(owner):
    Profile.objects.create(owner_id=owner.pk)
"""
VIEWS = """\
from shop.services import ensure_profile


def login(owner):
    if not hasattr(owner, "profile"):
        ensure_profile(owner)
    return owner.profile
"""


def _project(tmp_path: Path, **files: str) -> Path:
    return write_project(tmp_path, {"shop/models.py": _MODELS, **files})


def test_facts_are_plain_data_and_only_for_functions_that_matter() -> None:
    tree = ast.parse(textwrap.dedent("""\
        def writes(owner):
            Profile.objects.create(owner_id=owner.pk)

        def reads_then_calls(owner):
            if not hasattr(owner, "profile"):
                helper(owner)

        def only_reads(owner):
            return hasattr(owner, "profile")

        def only_calls(owner):
            helper(owner)

        class Company:
            def create_address(self):
                return Address.objects.create(company_id=self.pk)
    """))
    facts = function_writes(tree)
    assert sorted(facts) == ["Company.create_address", "reads_then_calls", "writes"]
    assert marshal.loads(marshal.dumps(facts)) == facts
    write = facts["writes"]["writes"][0]
    assert (write["op"], write["recv"], write["model"], write["key"], write["m"]) == (
        "attach", "owner", "Profile", "owner_id", "create")
    assert facts["Company.create_address"]["kind"] == "method"
    assert facts["Company.create_address"]["class"] == "Company"
    assert facts["reads_then_calls"]["calls"][0]["callee"] == "helper"


def test_the_index_summarises_which_parameter_relations_a_function_writes(tmp_path: Path) -> None:
    engine = engine_for(_project(tmp_path, **{"shop/services.py": SERVICES}), select=("OTO002",))
    index = engine.index
    [item] = index.view(StaleWrites).summary("shop.services", "ensure_profile")
    assert item["param"] == "owner"
    assert [(r.owner, r.accessor, r.query_name) for r in item["relations"]] == [("shop.Owner", "profile", "profile")]
    [item] = index.view(StaleWrites).summary("shop.models", "Company.create_address")
    assert item["param"] == "self"
    assert [r.accessor for r in item["relations"]] == ["address"]


def test_a_writer_is_fixed_only_when_some_caller_reads_first(tmp_path: Path) -> None:
    root = _project(tmp_path, **{"shop/services.py": SERVICES, "shop/views.py": VIEWS})
    engine = engine_for(root, select=("OTO002",))
    path = root / "shop/services.py"
    source = path.read_text()
    findings = engine.analyze(str(path), source).findings
    assert [(f.line, f.fix is not None) for f in findings] == [(5, True)]
    assert "shop.views.login reads it at line 5" in findings[0].message
    fixed = engine.fix(str(path), source).text
    assert "    owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)\n" in fixed
    assert "    Profile.objects.create(owner_id=owner.pk)\n" in fixed  # nobody reads before calling it
    path.write_text(fixed)
    fresh = engine_for(root, select=("OTO002",))
    for name in ("shop/services.py", "shop/views.py"):
        assert fresh.analyze(str(root / name), (root / name).read_text()).findings == []


def test_screen_keeps_libcst_away_from_files_that_cannot_hold_a_finding(tmp_path: Path, monkeypatch) -> None:
    files = {
        "shop/services.py": SERVICES,
        "shop/views.py": VIEWS,
        # A hasattr of a name no reverse one-to-one relation uses, then a write: screened out.
        "shop/other.py": "def f(x):\n    if hasattr(x, 'colour'):\n        x.save()\n",
        # The safe form passes the text screen (a read of an accessor, then a write), but the
        # index's own analysis finds nothing there, so LibCST never parses it.
        "shop/signals.py": "from shop.models import Profile\n\n\ndef f(owner):\n"
                           "    if not hasattr(owner, 'profile'):\n        Profile.objects.create(owner=owner)\n",
        "shop/plain.py": "def g(owner):\n    return owner.name\n",
    }
    root = _project(tmp_path, **files)
    engine = engine_for(root, select=("OTO002",))
    parsed = record_libcst_parses(monkeypatch)
    results = {}
    for name in [*files, "shop/models.py"]:
        path = root / name
        results[name] = len(engine.analyze(str(path), path.read_text()).findings)
    assert results == {"shop/services.py": 1, "shop/views.py": 1, "shop/other.py": 0, "shop/signals.py": 0,
                       "shop/plain.py": 0, "shop/models.py": 1}
    parsed_files = sorted(name for name in results if (root / name).read_text() in parsed)
    assert parsed_files == ["shop/models.py", "shop/services.py", "shop/views.py"]


@pytest.mark.parametrize(("body", "expected"), [
    # try: the read in the body, the write in a handler, in else or in finally: it follows.
    ("    try:\n        owner.profile\n    except Profile.DoesNotExist:\n        pass\n    else:\n        WRITE\n", 1),
    ("    try:\n        owner.profile\n    except Profile.DoesNotExist:\n        pass\n    finally:\n        WRITE\n", 1),
    # a read in one handler, a write in another: exclusive.
    ("    try:\n        pass\n    except KeyError:\n        hasattr(owner, 'profile')\n    except ValueError:\n        WRITE\n", 0),
    # a read in a loop body, a write in the loop's else: it follows; in an if's else: it does not.
    ("    for x in range(3):\n        hasattr(owner, 'profile')\n    else:\n        WRITE\n", 1),
    ("    if owner:\n        hasattr(owner, 'profile')\n    else:\n        WRITE\n", 0),
    # a read in an elif's test, the write in its body.
    ("    if not owner:\n        pass\n    elif not hasattr(owner, 'profile'):\n        WRITE\n", 1),
    # the same statement: the read first (short-circuit), or the write first.
    ("    hasattr(owner, 'profile') or WRITE\n", 1),
    ("    WRITE or hasattr(owner, 'profile')\n", 0),
    # a match case after a read in the subject.
    ("    match hasattr(owner, 'profile'):\n        case False:\n            WRITE\n", 1),
])
def test_the_write_must_follow_the_read(tmp_path: Path, body: str, expected: int) -> None:
    code = ("from shop.models import Profile\n\n\ndef f(owner):\n"
            + body.replace("WRITE", "Profile.objects.create(owner_id=owner.pk)"))
    root = _project(tmp_path, **{"app/code.py": code})
    path = root / "app/code.py"
    findings = engine_for(root, select=("OTO002",)).analyze(str(path), code).findings
    assert len(findings) == expected, [f.message for f in findings]


def test_columns_after_non_ascii_text_map_onto_the_right_call(tmp_path: Path) -> None:
    code = ("from shop.models import Profile\n\n\ndef f(owner):\n"
            "    if not hasattr(owner, 'profile'): label = 'café ☕'; Profile(owner_id=owner.pk).save()\n")
    root = _project(tmp_path, **{"app/code.py": code})
    path = root / "app/code.py"
    engine = engine_for(root, select=("OTO002",))
    [finding] = engine.analyze(str(path), code).findings
    assert finding.column == code.splitlines()[4].index("Profile(")
    # (unsafe: ``Owner`` has other reverse one-to-ones, which Django 4.2's refresh drops too)
    assert engine.fix(str(path), code, unsafe=True).text.endswith(
        "Profile(owner_id=owner.pk).save(); owner.refresh_from_db(fields=[\"profile\"])\n")


def test_pytest_facts_name_fixtures_as_pytest_and_pytest_factoryboy_do() -> None:
    """Fixture names (``name=`` too), the nested function a factory as fixture returns,
    pytest-factoryboy's factory fixtures (``inflection.underscore`` of the class name, as
    pytest-factoryboy 2.8 names them), and the tests' fixture parameters."""
    source = textwrap.dedent('''\
        import pytest
        from pytest_factoryboy import register

        from shop import factories

        register(factories.ProfileFactory)
        register(factories.HTTPProfileFactory, "http_profile")
        admin.site.register(Profile)


        @register
        class UserProfile2Factory(factories.Base):
            pass


        @pytest.fixture(name="make_profile")
        def make_profile_fixture(db):
            def _make(owner):
                return Profile.objects.create(owner_id=owner.pk)
            yield _make


        @pytest.fixture
        def owner(db):
            return Owner.objects.create()


        @pytest.mark.parametrize("count", [1, 2])
        def test_profile(owner, make_profile, count):
            make_profile(owner)


        class TestProfiles:
            @pytest.fixture
            def owner(self):
                return None

            def test_profile(self, owner):
                pass
    ''')
    facts = function_writes(ast.parse(source), source)["@fixtures"]
    assert facts["fixtures"] == {"make_profile": "make_profile_fixture.<locals>._make", "owner": ""}
    assert facts["factories"] == {
        "profile_factory": "factories.ProfileFactory",
        "http_profile_factory": "factories.HTTPProfileFactory",
        "user_profile2_factory": "UserProfile2Factory",
    }
    assert facts["tests"] == [[29, 30, ["owner", "make_profile"]], [38, 39, ["owner"]]]
    assert facts["shadowed"] == ["owner"]
    marshal.dumps(facts)
