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


@pytest.mark.parametrize(
    ("pin", "reported"),
    [
        ("keras==2.1.6", False),
        ("keras<2.4", False),
        ("keras==2.4.3", True),
        ("tensorflow==2.3", True),
    ],
)
def test_silent_where_the_project_pins_multi_backend_keras(
    tmp_path: Path, pin: str, reported: bool
) -> None:
    """Keras 2.3 and older ran on several backends; there the learning phase was the API to use."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text(pin + "\n", encoding="utf-8")
    source = tmp_path / "adversarial.py"
    source.write_text("from keras import backend as K\nK.set_learning_phase(0)\n", encoding="utf-8")
    found = run_json(str(source), "--select", "BNL015", "--no-cache")
    assert bool(found) is reported
