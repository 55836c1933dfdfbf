"""OTO001's facts walk only the statements spelling `unique`, `primary_key` or `**`."""

from __future__ import annotations

import ast
import textwrap

import pytest

from o2o_lint.rules.oto001_foreign_key_unique.facts import _UNIQUE, _may_hold_unique, unique_calls

SOURCE = textwrap.dedent('''
    from django.db import models
    from fields import TenantForeignKey

    UNIQUE = {"unique": True}


    def helper(*args, **kwargs):
        return args, kwargs


    @register(
        field=OwnKey(
            "Company",
            models.CASCADE,
            unique=True,
        ),
    )
    def build():  # the decorator's lines come before `def`
        return None


    class Invoice(models.Model):
        company = models.ForeignKey(
            "Company",
            on_delete=models.CASCADE,
            primary_key=True)
        tenant = TenantForeignKey("Tenant", models.CASCADE,
                                  **UNIQUE)
        other = models.ForeignKey("Other", models.CASCADE, unique=False)
''')


def test_every_unique_call_is_found_wherever_its_keyword_is() -> None:
    tree = ast.parse(SOURCE)
    assert unique_calls(tree, SOURCE) == ["ForeignKey", "OwnKey", "TenantForeignKey"]
    assert unique_calls(tree, SOURCE) == unique_calls(tree, None)  # the text-free full walk


def test_a_keyword_spelled_with_other_unicode_letters_is_found() -> None:
    # identifiers are NFKC-normalised: `ｕnique=True` is `unique=True`; the text search would miss it
    source = "from django.db import models\n\nclass A(models.Model):\n    b = models.ForeignKey(B, unique=True)\n" \
             "    c = OneKey(C,\n        \uff55nique=True)\n"
    tree = ast.parse(source)
    assert unique_calls(tree, source) == ["ForeignKey", "OneKey"]
    assert [n.lineno for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg == "unique"] == [4, 6]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("f(unique=True)", id="keyword"),
        pytest.param("is_unique=True", id="inside-a-word"),
        pytest.param("is_primary_key=unique=True", id="starts-inside-a-rejected-match"),
        pytest.param("xunique=None, unique=ONE", id="after-a-rejected-match"),
        pytest.param("f(**kwargs)", id="kwargs-passed-on"),
        pytest.param("f(**UNIQUE)", id="constant-dict"),
        pytest.param("unique=False", id="false"),
        pytest.param("", id="empty"),
    ],
)
def test_the_text_screen_answers_as_its_bounded_pattern_does(text: str) -> None:
    assert _may_hold_unique(text) is (_UNIQUE.search(text) is not None)
