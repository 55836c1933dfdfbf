"""The GitHub Action (``action.yml``), run as a runner would run it: each composite step's
``run`` script under ``bash --noprofile --norc -eo pipefail`` with the step's ``env``
(``${{ inputs.* }}``, ``${{ github.action_path }}`` and ``${{ runner.temp }}`` filled in),
on a copy of the demo project. The install step installs a copy of this checkout (what
``uses: o2o-lint/o2o-lint@<tag>`` checks out), offline from the wheelhouse that
``tests/matrix.py install`` fills; the README's workflow runs through the same steps.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import pytest
import yaml

from o2o_lint import __version__
from tests import matrix
from tests.helpers import FIXTURES, REPO, write_project

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
README = (REPO / "README.md").read_text()
HOME = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Homepage"]
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
TIMEOUT = 900

pytestmark = pytest.mark.slow


@dataclass
class Runner:
    """One job's worth of state: the action's checkout, runner.temp and GITHUB_PATH."""

    action_path: Path
    temp: Path
    github_path: Path

    def env(self, step_env: dict[str, str], inputs: dict[str, str]) -> dict[str, str]:
        context = {"github.action_path": str(self.action_path), "runner.temp": str(self.temp)}

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            return inputs[name[len("inputs."):]] if name.startswith("inputs.") else context[name]

        wheelhouse = matrix.wheelhouse()
        if not (wheelhouse / ".stamp").is_file():
            pytest.fail(f"no wheelhouse ({wheelhouse}): run `python tests/matrix.py install` first")
        added = [line for line in self.github_path.read_text().splitlines() if line] if self.github_path.exists() else []
        base = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        path = os.pathsep.join([*reversed(added), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
        return {**base, "PATH": path, "GITHUB_PATH": str(self.github_path), "RUNNER_TEMP": str(self.temp),
                "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse), "NO_COLOR": "1",
                **{key: EXPRESSION.sub(value, str(raw)) for key, raw in step_env.items()}}

    def step(self, name: str, cwd: Path, **given: str) -> subprocess.CompletedProcess[str]:
        inputs = {key: str(spec.get("default", "")) for key, spec in ACTION["inputs"].items()}
        unknown = set(given) - set(inputs)
        assert not unknown, f"the action has no input {unknown}"
        inputs.update(given)
        (step,) = [s for s in ACTION["runs"]["steps"] if s["name"] == name]
        assert step["shell"] == "bash"
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                              env=self.env(step.get("env", {}), inputs), capture_output=True, text=True,
                              timeout=TIMEOUT)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    root = tmp_path_factory.mktemp("action")
    checkout = root / "o2o-lint"
    shutil.copytree(REPO, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".venvs", ".django-versions", "__pycache__", "*.egg-info", ".o2o-lint-cache", "corpus",
        "build", "dist", ".pytest_cache", ".hypothesis"))
    (root / "temp").mkdir()
    job = Runner(checkout, root / "temp", root / "github_path")
    installed = job.step("Install o2o-lint", cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert installed.stdout.strip().splitlines()[-1] == f"o2o-lint {__version__}"
    assert job.github_path.read_text().strip() == str(job.temp / "o2o-lint-venv" / "bin")
    return job


def test_action_steps_are_composite_bash_with_inputs_through_env() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"args", "version", "sarif-file"}
    for step in ACTION["runs"]["steps"]:
        # inputs reach the scripts only through env (no ${{ }} inside a script: no injection)
        assert "${{" not in step["run"], step["name"]


def _demo(tmp_path: Path) -> Path:
    demo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", demo, ignore=shutil.ignore_patterns(".o2o-lint-cache", "__pycache__", "*.sqlite3"))
    return demo


def test_the_action_annotates_the_demos_findings_and_fails(runner: Runner, tmp_path: Path) -> None:
    demo = _demo(tmp_path)
    done = runner.step("Run o2o-lint", cwd=demo)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith("::error title=o2o-lint (OTO") for line in lines)
    assert any(line.startswith("::error title=o2o-lint (OTO001),file=companies/models.py,") for line in lines)
    assert not (demo / "o2o-lint.sarif").exists()


def test_the_action_writes_sarif_next_to_the_annotations(runner: Runner, tmp_path: Path) -> None:
    demo = _demo(tmp_path)
    done = runner.step("Run o2o-lint", cwd=demo, args="companies --select OTO001", **{"sarif-file": "out.sarif"})
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("::error title=o2o-lint (OTO001),file=companies/models.py,")
    sarif = json.loads((demo / "out.sarif").read_text())
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["informationUri"] == HOME
    assert {result["ruleId"] for result in run["results"]} == {"OTO001"}


def test_the_action_passes_a_clean_project_and_fails_on_an_error(runner: Runner, tmp_path: Path) -> None:
    clean = write_project(tmp_path / "clean", {"app/models.py": "from django.db import models\n"})
    done = runner.step("Run o2o-lint", cwd=clean, **{"sarif-file": "o2o-lint.sarif"})
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    assert json.loads((clean / "o2o-lint.sarif").read_text())["runs"][0]["results"] == []
    (clean / "pyproject.toml").write_text("[tool.o2o-lint]\nbogus = 1\n")
    broken = runner.step("Run o2o-lint", cwd=clean, **{"sarif-file": "o2o-lint.sarif"})
    assert broken.returncode == 2, broken.stderr


def _workflow_block() -> dict:
    start = README.index("### CI: GitHub Actions")
    match = re.compile(r"```yaml\n(.*?)```", re.S).search(README, start)
    assert match
    return yaml.safe_load(match.group(1))


def test_the_readme_workflow_runs_the_action_then_uploads_its_sarif(runner: Runner, tmp_path: Path) -> None:
    steps = _workflow_block()["jobs"]["o2o-lint"]["steps"]
    (action,) = [step for step in steps if step.get("uses", "").startswith(HOME.split("github.com/", 1)[1] + "@")]
    assert action["uses"].endswith(f"@v{__version__}")
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"] == "always()"
    inputs = {key: str(value) for key, value in action["with"].items()}
    demo = _demo(tmp_path)
    done = runner.step("Run o2o-lint", cwd=demo, **inputs)
    assert done.returncode == 1 and done.stdout.startswith("::error title=o2o-lint (OTO"), done.stderr
    assert json.loads((demo / upload["with"]["sarif_file"]).read_text())["runs"][0]["results"]
