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


def test_every_line_gets_the_test_libraries_in_ranges_that_support_it() -> None:
    assert django_harness.TEST_LIBRARIES == (
        "factory_boy>=3.3,<4", "model_bakery>=1.20,<2", "swapper>=1.3,<2",
        "pytest-django>=4.9,<5", "pytest-factoryboy>=2.7,<3",
    )
    assert django_harness.PACKAGES == ("django", "factory", "model_bakery", "swapper", "pytest_django", "pytest_factoryboy")


def test_install_adds_the_test_libraries_to_a_directory_installed_before_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """One pip call per directory that lacks a package (Django or a test library), none when complete."""
    (tmp_path / "django").mkdir()
    calls: list[list[str]] = []
    monkeypatch.setattr(django_harness, "install_dir", lambda version: tmp_path)
    monkeypatch.setattr(django_harness, "interpreter", lambda version: "python-for-" + version)
    monkeypatch.setattr(django_harness.subprocess, "run", lambda command, **kwargs: calls.append(command))

    assert django_harness.missing_packages(tmp_path) == [
        "factory", "model_bakery", "swapper", "pytest_django", "pytest_factoryboy"]
    assert django_harness.install("5.2") == tmp_path
    assert calls == [[
        "python-for-5.2", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-user",
        "--target", str(tmp_path), "Django>=5.2,<5.3", "factory_boy>=3.3,<4", "model_bakery>=1.20,<2",
        "swapper>=1.3,<2", "pytest-django>=4.9,<5", "pytest-factoryboy>=2.7,<3",
    ]]

    (tmp_path / "factory").mkdir()
    (tmp_path / "model_bakery").mkdir()
    for package in ("swapper", "pytest_django", "pytest_factoryboy"):
        (tmp_path / package).mkdir()
    assert django_harness.missing_packages(tmp_path) == []
    django_harness.install("5.2")
    assert len(calls) == 1


def test_a_line_installed_without_the_test_libraries_is_an_error_telling_to_install_again(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / "django").mkdir()
    (tmp_path / "factory").mkdir()
    monkeypatch.setattr(django_harness, "install_dir", lambda version: tmp_path)
    with pytest.raises(django_harness.HarnessError, match=r"lacks model_bakery, swapper, pytest_django, pytest_factoryboy .* install` again"):
        django_harness.django_path("5.2")
