"""The GitHub Action (action.yml): its inputs, and its steps' shell run as the runner would run them
(expressions filled in from the inputs), on a project with findings and on a clean one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
import yaml

from tests.conftest import REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS = ACTION["runs"]["steps"]
BAD = "from tensorflow import keras\n\nx = keras.layers.Dropout(0.5, trainable=False)\n"
_EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
_CONDITION = re.compile(r"^inputs\.([\w-]+) != ''$")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps are bash")


def test_inputs_and_composite_steps() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {
        "args",
        "version",
        "python-version",
        "sarif-file",
        "working-directory",
    }
    assert all("description" in spec for spec in ACTION["inputs"].values())
    assert ACTION["inputs"]["args"]["default"] == "."
    names = [step["name"] for step in STEPS]
    assert names == ["Set up Python", "Install bnlint", "Write SARIF", "Run bnlint"]
    assert STEPS[0]["uses"].startswith("actions/setup-python@")
    for step in STEPS[1:]:
        # Inputs reach the shell through the environment only, never spliced into the script.
        assert step["shell"] == "bash" and "${{" not in step["run"]


def _fill(value: str, inputs: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "github.action_path":
            return str(REPO)
        return inputs[name.removeprefix("inputs.")]

    return _EXPRESSION.sub(substitute, value)


def run_action(
    workspace: Path, inputs: dict[str, str], python: Optional[Path] = None
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run each step's shell as the runner would (``python`` on the PATH: ``python``, or a stand-in
    for the install step); the completed processes by step name."""
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update(inputs)
    real = Path(sys.executable).parent
    outputs = workspace / "github_output"
    done: dict[str, subprocess.CompletedProcess[str]] = {}
    for step in STEPS:
        condition = step.get("if")
        if condition is not None:
            match = _CONDITION.match(condition)
            assert match is not None, condition
            if values[match.group(1)] == "":
                continue
        if "run" not in step:
            continue
        folder = python if step["name"] == "Install bnlint" and python else real
        environment = {
            **os.environ,
            "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(outputs),
            **{key: _fill(value, values) for key, value in step.get("env", {}).items()},
        }
        cwd = workspace / _fill(step.get("working-directory", "."), values)
        done[step["name"]] = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
    return done


def stand_in_python(folder: Path) -> Path:
    """A ``python`` that records its arguments instead of installing anything."""
    folder.mkdir()
    script = folder / "python"
    script.write_text(f'#!/bin/sh\necho "$@" > "{folder}/called"\n', encoding="utf-8")
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("version", "expected"), [("", str(REPO)), ("0.1.0", "bnlint==0.1.0")], ids=["own", "pypi"]
)
def test_install_step_installs_the_actions_own_copy_or_the_version_asked(
    tmp_path: Path, version: str, expected: str
) -> None:
    shim = stand_in_python(tmp_path / "shim")
    (tmp_path / "clean.py").write_text("print(1)\n", encoding="utf-8")
    done = run_action(tmp_path, {"version": version}, python=shim)
    assert done["Install bnlint"].returncode == 0
    assert (shim / "called").read_text(encoding="utf-8").split()[-1] == expected


def test_findings_become_annotations_and_sarif_and_fail_the_step(tmp_path: Path) -> None:
    shim = stand_in_python(tmp_path / "shim")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "src" / "* not a glob.py").write_text(BAD, encoding="utf-8")
    done = run_action(
        tmp_path,
        {"args": "src --select BNL003", "sarif-file": "reports/bnlint.sarif"},
        python=shim,
    )
    assert done["Write SARIF"].returncode == 0, done["Write SARIF"].stderr
    sarif = json.loads((tmp_path / "reports" / "bnlint.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["BNL003", "BNL003"]
    output = (tmp_path / "github_output").read_text(encoding="utf-8")
    assert output == f"path={tmp_path / 'reports' / 'bnlint.sarif'}\n"

    check = done["Run bnlint"]
    assert check.returncode == 1
    annotations = check.stdout.splitlines()
    assert len(annotations) == 2
    assert annotations[1].startswith("::warning file=src/train.py,line=3,col=31,")
    assert "title=BNL003" in annotations[1]


def test_a_clean_project_passes_in_its_working_directory(tmp_path: Path) -> None:
    shim = stand_in_python(tmp_path / "shim")
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "train.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "service" / "pyproject.toml").write_text(
        '[tool.bnlint]\nignore = ["BNL003"]\n', encoding="utf-8"
    )
    done = run_action(tmp_path, {"working-directory": "service"}, python=shim)
    assert "Write SARIF" not in done
    assert done["Run bnlint"].returncode == 0
    assert done["Run bnlint"].stdout == ""
