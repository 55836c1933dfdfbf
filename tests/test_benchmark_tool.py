"""The benchmark tool (``benchmarks/bench.py``) on a tiny synthetic corpus.

No downloads and no timing assertions: the measurements run once each on a project
made in ``tmp_path`` that has findings, so the identity check compares real findings.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("o2o_lint_bench", REPO / "benchmarks" / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load_bench()

FILES = {
    "setup.cfg": "[o2o-lint]\n",
    "shop/__init__.py": "",
    "shop/models.py": """\
        from django.db import models


        class Company(models.Model):
            name = models.CharField(max_length=100)


        class Invoice(models.Model):
            company = models.ForeignKey(Company, on_delete=models.CASCADE, unique=True)
        """,
    "shop/services.py": """\
        def invoices(company):
            return company.invoice_set.all()
        """,
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": """\
        from django.db import migrations


        class Migration(migrations.Migration):
            operations = []
        """,
}

REPORT_KEYS = {
    "schema", "generated", "duration_seconds", "repeat", "machine", "versions", "revision", "corpus",
    "timings", "bare_parse", "memory", "findings", "flake8", "ratios", "scaling", "codebases",
}
TIMING_KEYS = {"bare_parse", "ast_parse", "django_upgrade", "cold_jobs1", "cold_all", "warm", "warm_touched",
               "flake8_without", "flake8_with", "flake8_with_warm"}
RATIO_KEYS = {"cold_vs_parse", "cold_vs_ast", "cold_vs_django_upgrade", "warm_vs_cold", "touched_vs_cold",
              "flake8_with_vs_without", "flake8_warm_vs_without", "all_cores_vs_one", "peak_memory",
              "identical_findings"}
#: django-upgrade is measured when the interpreter has it (tests never install anything).
HAS_DJANGO_UPGRADE = importlib.util.find_spec("django_upgrade") is not None


def make_corpus(root: Path) -> Path:
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture(scope="module")
def corpus_and_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, os.stat_result, bytes]:
    root = make_corpus(tmp_path_factory.mktemp("bench") / "corpus")
    models = root / "shop" / "models.py"
    before, data = os.stat(models), models.read_bytes()
    work = tmp_path_factory.mktemp("work")
    env, measured = bench.snapshot_sources(work / "snapshot")
    report = bench.benchmark_corpus(root, repeat=1, workdir=work / "main", env=env, measured=measured,
                                    log=lambda _: None, django_upgrade=bench.django_upgrade_command(False))
    return root, report, before, data


@pytest.mark.slow
def test_report_has_every_key_and_is_json(corpus_and_report) -> None:
    _, report, _, _ = corpus_and_report
    assert REPORT_KEYS <= set(report)
    assert set(report["timings"]) == TIMING_KEYS
    for key, entry in report["timings"].items():
        if key == "django_upgrade" and not HAS_DJANGO_UPGRADE:
            assert entry is None
            continue
        assert {"median", "min", "max", "samples", "command", "label", "max_rss_mb", "cpu_median"} <= set(entry), key
        assert len(entry["samples"]) == 1 and entry["median"] > 0
    assert {r["key"] for r in report["ratios"]} == RATIO_KEYS
    assert all(isinstance(r["pass"], bool) for r in report["ratios"]
               if HAS_DJANGO_UPGRADE or r["key"] != "cold_vs_django_upgrade")
    assert "--check" in (report["timings"]["django_upgrade"] or {"command": "--check"})["command"]
    assert report["memory"]["peak_rss_mb"] > 0
    for key in ("python", "libcst", "flake8", "o2o_lint"):
        assert report["versions"][key]
    assert report["machine"]["cpu_count"] >= 1
    assert report["revision"]["measured"] == "snapshot" and report["revision"]["source_fingerprint"]
    assert json.loads(json.dumps(report)) == report


@pytest.mark.slow
def test_corpus_facts(corpus_and_report) -> None:
    _, report, _, _ = corpus_and_report
    corpus = report["corpus"]
    assert corpus["files"] == 5 and corpus["migration_files"] == 2
    assert corpus["lines"] == sum(len(textwrap.dedent(t).splitlines()) for n, t in FILES.items() if n.endswith(".py"))
    assert corpus["checked_files"] == 3  # migrations are excluded by default
    assert corpus["touched_file"] == "shop/models.py"
    assert report["bare_parse"]["files"] == 5 and report["bare_parse"]["errors"] == 0


@pytest.mark.slow
def test_findings_are_identical_and_not_vacuous(corpus_and_report) -> None:
    _, report, _, _ = corpus_and_report
    findings = report["findings"]
    assert findings["identical"] is True
    assert findings["touched_identical"] is True
    assert findings["count"] >= 2 and not findings["vacuous"]
    assert {"OTO001", "OTO004"} <= set(findings["by_code"])
    assert next(r for r in report["ratios"] if r["key"] == "identical_findings")["pass"] is True


@pytest.mark.slow
def test_flake8_runs_with_and_without_the_plugin(corpus_and_report) -> None:
    _, report, _, _ = corpus_and_report
    flake8 = report["flake8"]
    assert flake8["plugin_loaded_with"] and flake8["plugin_absent_without"]
    assert flake8["oto_findings"] == report["findings"]["count"]
    assert flake8["findings_with"] == flake8["findings_without"] + flake8["oto_findings"]
    assert flake8["other_findings_identical"] and flake8["oto_matches_cli"]
    assert flake8["warm_identical"] is True  # the warm run (findings from the cache) reports the same


@pytest.mark.slow
def test_the_corpus_is_left_as_it_was(corpus_and_report) -> None:
    root, _, before, data = corpus_and_report
    models = root / "shop" / "models.py"
    assert models.read_bytes() == data
    assert os.stat(models).st_mtime_ns == before.st_mtime_ns
    assert not (root / ".o2o-lint-cache").exists()


def test_a_touch_left_by_a_killed_run_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "models.py"
    path.write_text("x = 1\n")
    with bench.touched(path, 0):
        assert path.read_text().startswith("x = 1\n" + bench.TOUCH_PREFIX)
        bench.repair_touched(path)
    assert path.read_text() == "x = 1\n"
    path.write_text("x = 1\n" + bench.TOUCH_PREFIX + " 3 123\n")
    bench.repair_touched(path)
    assert path.read_text() == "x = 1\n"


@pytest.mark.slow
def test_table_and_docs_render(corpus_and_report, tmp_path: Path) -> None:
    _, report, _, _ = corpus_and_report
    table = bench.render_table(report)
    assert "cold --jobs 1 / bare LibCST parse" in table and ("PASS" in table or "FAIL" in table)
    docs = bench.render_docs(report)
    assert bench.RUN_COMMAND in docs and bench.NOTES_BEGIN in docs and "Placeholder" in docs
    custom = docs.replace(bench.NOTES_PLACEHOLDER, "Screens keep most files away from LibCST.")
    again = bench.render_docs(report, existing=custom)
    assert "Screens keep most files away from LibCST." in again and "Placeholder" not in again


def test_scaling_and_plot(tmp_path: Path) -> None:
    source = make_corpus(tmp_path / "corpus")
    copies = bench.ensure_copies(source, "shop", 2, tmp_path / "scaling")
    assert [c.name for c in copies] == ["copy-01", "copy-02"]
    assert all((c / "setup.cfg").is_file() and (c / "shop" / "models.py").is_file() for c in copies)
    scaling = bench.measure_scaling(copies, [1, 2], repeat=1, workdir=tmp_path / "work", log=lambda _: None)
    one, two = scaling["points"]
    assert (one["copies"], two["copies"]) == (1, 2)
    assert two["lines"] == 2 * one["lines"] and two["files"] == 2 * one["files"]
    assert one["findings"] >= 2 and scaling["findings_scale_with_copies"]
    svg = bench.render_svg(scaling["points"])
    root = ElementTree.fromstring(svg)
    namespace = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{namespace}circle")) == 2
    texts = " ".join(t.text or "" for t in root.iter(f"{namespace}text"))
    assert "lines" in texts and "seconds" in texts

    docs_path, svg_path = tmp_path / "docs" / "performance.md", tmp_path / "docs" / "plot.svg"
    written = bench.write_docs({**_minimal_report(), "scaling": scaling}, docs_path, svg_path)
    assert written == [svg_path, docs_path]
    assert "![scaling](plot.svg)" in docs_path.read_text()


def test_per_code_base_table(tmp_path: Path) -> None:
    """Two small code bases, one twice the other: lines, CPU times, cost per line against the
    median, the slowest files, and the table in the docs."""
    small = make_corpus(tmp_path / "small")
    large = make_corpus(tmp_path / "large")
    (large / "shop" / "views.py").write_text("".join(
        f"def view_{n}(company):\n    return company.invoice_set.count() + {n}\n\n\n" for n in range(40)))
    codebases = bench.measure_codebases([("small", small), ("large", large)], repeat=1, workdir=tmp_path / "work",
                                        log=lambda _: None)
    rows = {row["name"]: row for row in codebases["rows"]}
    assert rows["large"]["lines"] == rows["small"]["lines"] + 40 * 4 > 160  # migrations not counted
    for row in rows.values():
        assert set(row["cpu_seconds"]) == {"cold", "warm", "warm_json", "warm_sarif"}
        assert all(value > 0 for value in row["cpu_seconds"].values())
        assert row["cold_per_1000_lines"] > 0 and row["cost_vs_median"] > 0
        assert 1 <= len(row["slowest"]) <= bench.SLOWEST_FILES
        assert all((tmp_path / row["name"] / item["path"]).is_file() for item in row["slowest"])
    assert rows["large"]["slowest"][0]["path"] == "shop/views.py"  # the one with 40 findings
    assert isinstance(codebases["pass"], bool)
    assert not any((root / ".o2o-lint-cache").exists() for root in (small, large))
    docs = bench.render_docs({**_minimal_report(), "codebases": codebases})
    assert "## Per code base" in docs and "| large |" in docs and "`shop/views.py`" in docs


def test_ast_parse_script_counts_every_file(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    (root / "shop" / "broken.py").write_text("def (:\n")  # a syntax error is counted, not fatal
    sample = bench.run_command([sys.executable, "-c", bench.BARE_AST_SCRIPT, "."], root)
    assert sample.returncode == 0 and sample.stdout.split() == ["6"]
    assert sorted(bench.python_files(root, ["."])) == sorted(
        os.path.relpath(p, root) for p in root.rglob("*.py"))


def _minimal_report() -> dict:
    """Just enough of a report for render_docs, without running anything."""
    timings = {key: {"median": 1.0, "min": 1.0, "max": 1.0, "cpu_median": 1.0, "command": "x", "label": label}
               for key, label in bench.MEASUREMENTS}
    findings = {"identical": True, "count": 0, "vacuous": True}
    memory = {"peak_rss_mb": 10.0}
    return {
        "generated": "2025-01-01T00:00:00+00:00", "repeat": 1, "duration_seconds": 1,
        "machine": {"cpu_count": 2, "machine": "x86_64", "platform": "Linux"},
        "versions": {k: "1" for k in ("python", "libcst", "flake8", "pycodestyle", "pyflakes", "o2o_lint")},
        "revision": {"commit": "abc"},
        "corpus": {"name": "c", "path": "c", "files": 1, "lines": 1, "migration_files": 0, "migration_lines": 0},
        "timings": timings, "memory": memory, "findings": findings,
        "flake8": {"findings_with": 0, "findings_without": 0, "other_findings_identical": True, "oto_matches_cli": True},
        "ratios": bench.compute_ratios(timings, memory, findings),
    }


def test_ratios_carry_the_spread_of_their_rounds() -> None:
    """Runs are interleaved: the i-th samples of two measurements ran in one round, so a
    ratio's spread is the lowest and highest round-by-round ratio, shown in both tables."""
    report = _minimal_report()
    timings = report["timings"]
    timings["flake8_without"].update(median=10.0, samples=[10.0, 9.0, 11.0], cpu_median=10.0,
                                     cpu_samples=[10.0, 9.0, 12.0])
    timings["flake8_with"].update(median=11.0, samples=[10.5, 9.9, 11.0], cpu_median=11.0,
                                  cpu_samples=[11.0, 9.0, 12.6])
    report["ratios"] = bench.compute_ratios(timings, report["memory"], report["findings"])
    [ratio] = [r for r in report["ratios"] if r["key"] == "flake8_with_vs_without"]
    assert (ratio["value"], ratio["spread"], ratio["cpu_value"], ratio["cpu_spread"]) == (1.1, [1.0, 1.1], 1.1, [1.0, 1.1])
    assert "1.100 (1.000–1.100)" in bench.render_docs(report)
    assert "1.100 (1.000-1.100)" in bench.render_table(report)
    timings["flake8_with"]["samples"] = [1.0]  # not paired: no spread
    assert [r for r in bench.compute_ratios(timings, report["memory"], report["findings"])
            if r["key"] == "flake8_with_vs_without"][0]["spread"] is None


def test_django_only_selects_the_django_corpus() -> None:
    args = bench.build_parser().parse_args(["--django-only", "--no-codebases"])
    assert args.django_only and args.no_codebases and args.repeat is None
    assert bench.SOURCES[0].label == "django-5.2.19"
