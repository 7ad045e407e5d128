"""Facts across the files of a project, as a user sees them: findings in ``train.py`` that rest on
``models.py``, their disappearance and return as ``models.py`` changes (cache on), runs on a few
files as pre-commit makes them, parallel runs, and modules that cannot be read or parsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint import runner
from tests.conftest import run_cli

MODELS_WITH_BN = """\
from tensorflow import keras
from tensorflow.keras import layers


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(16, 3)
        self.norm = layers.BatchNormalization()

    def call(self, x, training=None):
        return self.norm(self.conv(x), training=training)
"""

MODELS_WITHOUT_BN = MODELS_WITH_BN.replace("layers.BatchNormalization()", "layers.ReLU()")

TRAIN = """\
import tensorflow as tf

from models import Net

net = Net()


@tf.function
def step(x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(net(x))
    return tape.gradient(loss, net.trainable_variables)
"""

UTILS = """\
def freeze_all(model):
    for layer in model.layers:
        layer.trainable = False
"""

FINETUNE = """\
from tensorflow import keras

from utils import freeze_all

model = keras.Sequential([keras.layers.Dense(8), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
freeze_all(model)
model.fit(x, y)
"""


def project(root: Path, files: dict[str, str]) -> Path:
    """A project folder (a git repository root) with these files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def findings(*args: str) -> list[tuple[str, int, str]]:
    result = run_cli("check", "--output-format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return sorted(
        (Path(d["filename"]).name, d["location"]["row"], d["code"])
        for d in json.loads(result.stdout)
    )


def test_a_finding_in_train_py_follows_models_py_as_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "p", {"models.py": MODELS_WITH_BN, "train.py": TRAIN})
    monkeypatch.chdir(root)
    assert findings(".") == [("train.py", 11, "BNL007")]
    assert findings(".") == [("train.py", 11, "BNL007")]  # warm: from the cache
    (root / "models.py").write_text(MODELS_WITHOUT_BN, encoding="utf-8")
    assert findings(".") == []  # models.py changed: train.py is linted again
    (root / "models.py").write_text(MODELS_WITH_BN, encoding="utf-8")
    assert findings(".") == [("train.py", 11, "BNL007")]


def test_a_star_import_chain_is_followed_and_its_modules_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``from utils import *`` in train.py, ``from models import *`` in utils.py: ``Net`` comes from
    models.py, and editing either module makes train.py be linted again."""
    star_train = TRAIN.replace("from models import Net", "from utils import *")
    utils = "import numpy as np\n\nfrom models import *\n"
    root = project(
        tmp_path / "p", {"models.py": MODELS_WITH_BN, "utils.py": utils, "train.py": star_train}
    )
    monkeypatch.chdir(root)
    assert findings(".") == [("train.py", 11, "BNL007")]
    (root / "models.py").write_text(MODELS_WITHOUT_BN, encoding="utf-8")
    assert findings(".") == []
    (root / "models.py").write_text(MODELS_WITH_BN, encoding="utf-8")
    assert findings(".") == [("train.py", 11, "BNL007")]
    (root / "utils.py").write_text("import numpy as np\n", encoding="utf-8")
    assert findings(".") == []  # Net no longer comes from anywhere: unknown, silent


def test_the_cache_keeps_results_of_files_whose_imports_did_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "p", {"models.py": MODELS_WITH_BN, "train.py": TRAIN})
    monkeypatch.chdir(root)
    assert findings(".") == [("train.py", 11, "BNL007")]
    calls: list[str] = []
    original = runner.lint_text

    def counting(text: str, filename: str, options, summaries=None):  # type: ignore[no-untyped-def]
        calls.append(filename)
        return original(text, filename, options, summaries)

    monkeypatch.setattr(runner, "lint_text", counting)
    assert findings(".") == [("train.py", 11, "BNL007")]
    assert calls == []


def test_a_precommit_run_on_the_changed_file_still_sees_the_rest_of_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pre-commit passes only the files that changed; their imports resolve to the others."""
    root = project(
        tmp_path / "p",
        {
            "models.py": MODELS_WITH_BN,
            "train.py": TRAIN,
            "utils.py": UTILS,
            "finetune.py": FINETUNE,
        },
    )
    monkeypatch.chdir(root)
    assert findings("train.py", "--no-cache") == [("train.py", 11, "BNL007")]
    assert findings("finetune.py", "--no-cache") == [("finetune.py", 7, "BNL001")]
    [message] = [
        d["message"]
        for d in json.loads(
            run_cli("check", "finetune.py", "--no-cache", "--output-format", "json").stdout
        )
    ]
    assert message.startswith("`freeze_all(model)` (which sets `trainable`)")


def test_parallel_runs_agree_with_serial_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"models.py": MODELS_WITH_BN, "utils.py": UTILS}
    for index in range(40):
        files[f"train_{index:02d}.py"] = TRAIN if index % 2 else FINETUNE
    root = project(tmp_path / "p", files)
    monkeypatch.chdir(root)
    serial = findings(".", "--no-cache", "-j", "1")
    assert len(serial) == 40
    assert findings(".", "--no-cache", "-j", "2") == serial
    assert findings(".", "-j", "2") == serial  # fills the cache, summaries included
    assert findings(".", "-j", "2") == serial  # answered from it


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(b"class Net(\n", id="syntax-error"),
        pytest.param(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n" + b"\xff\xfe" * 3, id="odd-bytes"),
        pytest.param(b"\xff\xfe\x00\x00 not utf-8 at all", id="undecodable"),
        pytest.param(b"x = [" + b"1, " * 600_000 + b"]\n", id="huge"),
        pytest.param(b"x = " + b"(" * 5_000 + b")" * 5_000 + b"\n", id="deeply-nested"),
    ],
)
def test_an_imported_module_that_cannot_be_read_makes_its_names_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bytes
) -> None:
    root = project(tmp_path / "p", {"train.py": TRAIN, "finetune.py": FINETUNE, "utils.py": UTILS})
    (root / "models.py").write_bytes(broken)
    monkeypatch.chdir(root)
    found = findings("train.py", "finetune.py", "--no-cache")
    assert found == [("finetune.py", 7, "BNL001")]  # the other findings still come out
    linted_alone = findings("models.py", "--no-cache")
    assert all(code == "BNL000" for _, _, code in linted_alone)


def test_names_that_resolve_to_no_project_file_stay_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package, or a module of the same name in another folder, is not this file's."""
    root = project(tmp_path / "p", {"other/models.py": MODELS_WITH_BN, "app/train.py": TRAIN})
    monkeypatch.chdir(root)
    assert findings(".", "--no-cache") == []


def test_an_import_cycle_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cyclic = "from train import net\n" + MODELS_WITH_BN
    root = project(tmp_path / "p", {"models.py": cyclic, "train.py": TRAIN})
    monkeypatch.chdir(root)
    assert findings(".", "--no-cache") == [("train.py", 11, "BNL007")]


def test_the_linted_code_and_its_imports_are_never_executed(tmp_path: Path) -> None:
    """Resolving an import reads files; it never imports them (a subprocess proves it)."""
    marker = tmp_path / "p" / "EXECUTED"
    hostile = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n" + MODELS_WITH_BN
    root = project(tmp_path / "p", {"models.py": hostile, "train.py": TRAIN})
    result = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "train.py", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "BNL007" in result.stdout
    assert not marker.exists()
