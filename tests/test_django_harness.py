"""The real-Django harness fails, never skips, when a Django line cannot run here."""

from __future__ import annotations

import sys

import pytest

from tests import django_harness


def test_every_line_has_a_requirement_and_a_python_range() -> None:
    assert django_harness.VERSIONS == ("4.2", "5.2", "6.1")
    for version in django_harness.VERSIONS:
        assert django_harness.REQUIREMENTS[version].startswith(f"Django>={version},")
        low, high = django_harness.PYTHONS[version]
        assert low <= high


def test_a_line_no_interpreter_here_supports_is_an_error_naming_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(django_harness.PYTHONS, "9.0", ((3, 98), (3, 99)))
    with pytest.raises(django_harness.HarnessError, match=r"Django 9.0 needs Python 3.98–3.99 and none was found"):
        django_harness.interpreter("9.0")


def test_a_line_that_fits_this_interpreter_runs_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    here = sys.version_info[:2]
    monkeypatch.setitem(django_harness.PYTHONS, "9.0", (here, here))
    assert django_harness.interpreter("9.0") == sys.executable


def test_a_line_not_installed_is_an_error_telling_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(django_harness, "VERSIONS_DIR", tmp_path)
    with pytest.raises(django_harness.HarnessError, match=r"python tests/django_harness.py install"):
        django_harness.django_path("5.2")
