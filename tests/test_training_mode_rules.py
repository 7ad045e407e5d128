"""User-visible details of the call-time training-mode rules that fixtures cannot express."""

from __future__ import annotations

from tests.conftest import FIXTURES, run_json


def test_bnl006_severity_depends_on_the_layer_family() -> None:
    found = run_json(str(FIXTURES / "BNL006" / "bad_functional_tf_keras.py"), "--select", "BNL006")
    severities = {(d["location"]["row"], d["severity"]) for d in found}
    assert severities == {(5, "warning"), (6, "info")}


def test_bnl019_message_names_both_versions_unless_keras3_is_targeted() -> None:
    path = str(FIXTURES / "BNL019" / "bad_mc_dropout_functional.py")
    both = run_json(path, "--select", "BNL019", "--keras-version", "auto")
    only3 = run_json(path, "--select", "BNL019", "--keras-version", "3")
    only2 = run_json(path, "--select", "BNL019", "--keras-version", "2")
    assert "Keras 2 respects it" in both[0]["message"]
    assert "Keras 3" in only3[0]["message"] and "Keras 2" not in only3[0]["message"]
    assert only2 == []


def test_bnl006_message_follows_the_targeted_version() -> None:
    path = str(FIXTURES / "BNL006" / "bad_functional_tf_keras.py")
    keras2 = run_json(path, "--select", "BNL006", "--keras-version", "2")[0]["message"]
    keras3 = run_json(path, "--select", "BNL006", "--keras-version", "3")[0]["message"]
    assert "Keras 2 keeps it in predict()" in keras2 and "Keras 3" not in keras2
    assert "Keras 3 overrides it" in keras3 and "Keras 2" not in keras3
