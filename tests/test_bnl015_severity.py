"""BNL015 is a warning, raised to an error when the target is Keras 3 (where the call crashes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_json


@pytest.mark.parametrize(
    ("version", "severity", "says"),
    [
        ("2", "warning", "deprecated in Keras 2"),
        ("3", "error", "AttributeError"),
        ("auto", "warning", "removed in Keras 3"),
    ],
)
def test_severity_and_message_follow_target(
    tmp_path: Path, version: str, severity: str, says: str
) -> None:
    source = tmp_path / "export.py"
    source.write_text("from keras import backend as K\nK.set_learning_phase(0)\n")
    [finding] = run_json(str(source), "--select", "BNL015", "--keras-version", version)
    assert finding["code"] == "BNL015"
    assert finding["severity"] == severity
    assert says in finding["message"]
