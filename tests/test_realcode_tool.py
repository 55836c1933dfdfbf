"""The real-code check (``benchmarks/realcode.py``): matching findings to reviews, on made-up data.

No downloads and no lint runs: the findings and the review file are fabricated.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("o2o_lint_realcode", REPO / "benchmarks" / "realcode.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


realcode = _load()


def finding(path: str, line: int, code: str, snippet: str, project: str = "shop") -> dict:
    return {"project": project, "path": path, "line": line, "code": code, "snippet": snippet, "message": ""}


def review(path: str, line: int, code: str, snippet: str, verdict: str = "true", project: str = "shop") -> dict:
    return {"project": project, "path": path, "line": line, "code": code, "snippet": snippet,
            "verdict": verdict, "reason": f"because {verdict}"}


def test_a_verdict_survives_a_line_shift_and_new_and_vanished_are_reported():
    findings = [
        finding("app/models.py", 12, "OTO001", "owner = models.ForeignKey(Owner, models.CASCADE, unique=True)"),
        finding("app/views.py", 40, "OTO003", "p.save()"),
    ]
    reviews = [
        review("app/models.py", 10, "OTO001", "owner = models.ForeignKey(Owner, models.CASCADE, unique=True)"),
        review("app/views.py", 7, "OTO002", "o.profile.delete()", "false"),
    ]
    result = realcode.compare(findings, reviews)
    assert [(f["line"], r["line"]) for f, r in result.matched] == [(12, 10)]
    assert [f["path"] for f in result.new] == ["app/views.py"]
    assert [r["code"] for r in result.vanished] == ["OTO002"]
    assert result.unreviewed == result.new
    assert result.false_reported == []


def test_same_snippet_twice_pairs_by_line_and_the_extra_one_is_new():
    snippet = "self.r.article_set.all(),"
    findings = [finding("t.py", 30, "OTO004", snippet), finding("t.py", 50, "OTO004", snippet),
                finding("t.py", 90, "OTO004", snippet)]
    reviews = [review("t.py", 50, "OTO004", snippet, "false"), review("t.py", 31, "OTO004", snippet, "true")]
    result = realcode.compare(findings, reviews)
    pairs = {f["line"]: r["line"] for f, r in result.matched}
    assert pairs == {50: 50, 30: 31}  # the exact line first, then the rest in line order
    assert [f["line"] for f in result.new] == [90]
    assert [f["line"] for f, _ in result.false_reported] == [50]


def test_code_path_and_project_must_match_and_other_projects_are_left_alone():
    findings = [finding("a.py", 1, "OTO003", "x.save()")]
    reviews = [review("a.py", 1, "OTO002", "x.save()"), review("b.py", 1, "OTO003", "x.save()"),
               review("a.py", 1, "OTO003", "x.save()", project="other")]
    result = realcode.compare(findings, reviews)
    assert not result.matched
    assert len(result.new) == 1
    assert sorted((r["project"], r["path"], r["code"]) for r in result.vanished) == [
        ("other", "a.py", "OTO003"), ("shop", "a.py", "OTO002"), ("shop", "b.py", "OTO003")]
    subset = realcode.compare(findings, reviews, projects=["shop"])
    assert all(r["project"] == "shop" for r in subset.vanished)


def test_a_review_without_a_verdict_counts_as_unreviewed():
    findings = [finding("a.py", 3, "OTO001", "fk = ForeignKey(A, CASCADE, unique=True)")]
    reviews = [review("a.py", 3, "OTO001", "fk = ForeignKey(A, CASCADE, unique=True)", "")]
    result = realcode.compare(findings, reviews)
    assert len(result.matched) == 1 and result.unreviewed == findings


def test_main_exit_codes_and_report_order(tmp_path, monkeypatch, capsys):
    results = [realcode.LintResult("shop", "1.0", 2, [
        finding("app/models.py", 5, "OTO001", "fk = models.ForeignKey(A, models.CASCADE, unique=True)"),
        finding("app/views.py", 9, "OTO003", "p.save()"),
    ], [finding("broken.py", 1, "OTO000", "")])]
    project = realcode.Project("shop", "shop", "1.0", "shop-1.0-py3-none-any.whl", "0" * 64)
    monkeypatch.setattr(realcode, "PROJECTS", (project,))
    monkeypatch.setattr(realcode, "PROJECTS_BY_NAME", {"shop": project})
    monkeypatch.setattr(realcode, "ensure_project", lambda p, corpus_dir: tmp_path)
    monkeypatch.setattr(realcode, "lint_project", lambda p, root, jobs: results[0])
    review_file = tmp_path / "review.json"
    review_file.write_text(json.dumps({"findings": [
        review("app/models.py", 4, "OTO001", "fk = models.ForeignKey(A, models.CASCADE, unique=True)"),
        review("gone.py", 1, "OTO002", "o.rel.delete()"),
    ]}))
    assert realcode.main(["--review", str(review_file)]) == 1  # the OTO003 finding has no verdict
    out = capsys.readouterr().out
    assert out.index("NEW findings") < out.index("VANISHED") < out.index("project ")
    assert "shop:app/views.py:9: OTO003" in out and "gone.py" in out and "OTO000" in out

    # --add-new writes the skeleton; once it has a verdict the run passes, --strict fails on a false one.
    assert realcode.main(["--review", str(review_file), "--add-new"]) == 1
    data = json.loads(review_file.read_text())
    added = [r for r in data["findings"] if r["code"] == "OTO003"]
    assert added and added[0]["verdict"] == "" and added[0]["snippet"] == "p.save()"
    added[0].update(verdict="false", reason="saved on every path")
    review_file.write_text(json.dumps(data))
    assert realcode.main(["--review", str(review_file)]) == 0
    assert realcode.main(["--review", str(review_file), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "FALSE findings still reported" in out and "saved on every path" in out


def test_the_committed_review_file_is_well_formed():
    data = json.loads((REPO / "benchmarks" / "realcode-review.json").read_text(encoding="utf-8"))
    known = {p.name for p in realcode.PROJECTS}
    for entry in data["findings"]:
        assert entry["project"] in known
        assert entry["code"] in realcode.RULE_CODES
        assert entry["verdict"] in realcode.VERDICTS, entry
        assert entry["reason"].strip() and entry["snippet"].strip(), entry
        assert isinstance(entry["line"], int) and not entry["path"].startswith("/")
