"""``keras-version = "auto"``: the targeted Keras read from the linted project's dependency files, as a
user sees it in the messages; ``--keras-version`` and ``[tool.bnlint] keras-version`` override it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_json

#: A base unfrozen after compile and a first fit: the message differs between Keras 2 and Keras 3.
TRAIN = """\
import tensorflow as tf

base = tf.keras.applications.ResNet50(include_top=False)
base.trainable = False
model = tf.keras.Sequential([base, tf.keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y)
base.trainable = True
model.fit(x, y)
"""


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write dependency files under ``root`` and the training script in ``root/src``; return the script."""
    (root / ".git").mkdir(parents=True, exist_ok=True)  # the walk upwards stops at the repository
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    script = root / "src" / "train.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(TRAIN, encoding="utf-8")
    return script


def targeted(script: Path, *options: str) -> str:
    """Which Keras the BNL001 message speaks of: "2", "3" or "both"."""
    [item] = run_json(str(script), "--select", "BNL001", *options)
    message = item["message"]
    mentions = {version for version in ("2", "3") if f"Keras {version}" in message}
    assert mentions, message
    return mentions.pop() if len(mentions) == 1 else "both"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"pyproject.toml": '[project]\nname = "p"\ndependencies = ["keras>=3.0"]\n'},
            "3",
            id="pyproject-keras>=3",
        ),
        pytest.param(
            {"pyproject.toml": '[project]\nname = "p"\ndependencies = ["tensorflow==2.15.0"]\n'},
            "2",
            id="pyproject-tensorflow==2.15.0",
        ),
        pytest.param(
            {
                "pyproject.toml": """\
                [project]
                name = "p"
                dependencies = ["numpy"]
                [project.optional-dependencies]
                gpu = ["tensorflow[and-cuda]>=2.16; sys_platform == 'linux'"]
                """
            },
            "3",
            id="pyproject-optional-tensorflow>=2.16",
        ),
        pytest.param(
            {
                "pyproject.toml": """\
                [tool.poetry.dependencies]
                python = "^3.9"
                keras = "^2.15"
                """
            },
            "2",
            id="poetry-keras^2.15",
        ),
        pytest.param(
            {
                "pyproject.toml": """\
                [tool.poetry.dependencies]
                tensorflow = {version = ">=2.16,<2.19", optional = true}
                """
            },
            "3",
            id="poetry-tensorflow-table",
        ),
        pytest.param(
            {"requirements.txt": "numpy\ntensorflow>=2.16  # new keras\ntf-keras\n"},
            "2",
            id="requirements-tf-keras",
        ),
        pytest.param(
            {"requirements.txt": "tensorflow>=2.16.1 \\\n    --hash=sha256:abc\n"},
            "3",
            id="requirements-tensorflow>=2.16",
        ),
        pytest.param(
            {
                "requirements-dev.txt": "-r requirements/base.txt\npytest\n",
                "requirements/base.txt": "-r ../requirements-dev.txt\nkeras==3.*\n",
            },
            "3",
            id="requirements-include-cycle",
        ),
        pytest.param({"requirements/prod.txt": "keras<3\n"}, "2", id="requirements-folder-keras<3"),
        pytest.param({"requirements.txt": "keras==2.*\n"}, "2", id="requirements-keras==2.*"),
        pytest.param(
            {
                "setup.cfg": """\
                [metadata]
                name = p
                [options]
                install_requires =
                    numpy
                    keras~=3.1
                """
            },
            "3",
            id="setup.cfg-keras~=3.1",
        ),
        pytest.param(
            {
                "environment.yml": """\
                name: train
                channels:
                  - conda-forge
                dependencies:
                  - python=3.10
                  - tensorflow=2.15  # the last with Keras 2
                  - pip
                """
            },
            "2",
            id="environment-conda-tensorflow=2.15",
        ),
        pytest.param(
            {
                "environment.yml": """\
                name: train
                dependencies:
                - python=3.11
                - pip:
                  - "keras>=3.3"
                  - keras-hub
                """
            },
            "3",
            id="environment-pip-keras>=3.3",
        ),
        pytest.param(
            {
                "pyproject.toml": '[project]\nname = "p"\ndependencies = ["keras>=3"]\n',
                "requirements.txt": "tensorflow==2.15.0\n",
            },
            "both",
            id="conflict",
        ),
        pytest.param({"requirements.txt": "tensorflow\nkeras!=3.0\n"}, "both", id="unpinned"),
        pytest.param({"requirements.txt": "keras<=3.0\n"}, "both", id="keras<=3.0-admits-both"),
        pytest.param(
            {"requirements.txt": "Keras==3.0.0rc1 ; python_version >= '3.9'\n"},
            "3",
            id="pre-release-of-keras-3-with-a-marker",
        ),
        pytest.param(
            {"requirements.txt": "tensorflow_CPU (>=2.10, <2.16.0.post1)\n"},
            "both",
            id="a-post-release-of-2.16-is-2.16",
        ),
        pytest.param(
            {"requirements.txt": "tensorflow_CPU (>=2.10, <2.16)\n"},
            "2",
            id="parenthesized-and-unnormalized-name",
        ),
        pytest.param(
            {"requirements.txt": "keras @ https://example.org/keras-3.0.0-py3-none-any.whl\n"},
            "both",
            id="a-url-says-no-version",
        ),
        pytest.param({}, "both", id="no-dependency-files"),
    ],
)
def test_auto_reads_declared_dependencies(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    script = write_project(tmp_path / "project", files)
    assert targeted(script) == expected


def test_setup_py_literal_is_read_and_never_executed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    script = write_project(
        project,
        {
            "setup.py": """\
            import pathlib
            pathlib.Path(__file__).with_name("EXECUTED").write_text("setup.py ran")
            from setuptools import setup

            setup(name="p", install_requires=["numpy", "tensorflow<2.16"])
            """
        },
    )
    assert targeted(script) == "2"
    assert not (project / "EXECUTED").exists()


def test_nearest_project_folder_wins(tmp_path: Path) -> None:
    outer = write_project(tmp_path / "repo", {"requirements.txt": "keras>=3\n"})
    inner = write_project(
        tmp_path / "repo" / "legacy", {"requirements.txt": "tensorflow==2.15.0\n"}
    )
    assert targeted(outer) == "3"
    assert targeted(inner) == "2"


def test_command_line_option_overrides_dependencies(tmp_path: Path) -> None:
    script = write_project(tmp_path / "project", {"requirements.txt": "keras>=3\n"})
    assert targeted(script, "--keras-version", "2") == "2"
    assert targeted(script, "--keras-version", "auto") == "3"


def test_configuration_overrides_dependencies_and_the_option_overrides_both(
    tmp_path: Path,
) -> None:
    script = write_project(
        tmp_path / "project",
        {
            "pyproject.toml": """\
            [project]
            name = "p"
            dependencies = ["keras>=3"]

            [tool.bnlint]
            keras-version = "2"
            """
        },
    )
    assert targeted(script) == "2"
    assert targeted(script, "--keras-version", "auto") == "3"
    assert targeted(script, "--keras-version", "3") == "3"


def test_each_file_takes_the_version_of_its_own_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A book whose chapters pin their own Keras, linted from the repository root."""
    root = tmp_path / "book"
    write_project(root, {})
    chapter = write_project(root / "chapter2", {"requirements.txt": "Keras==2.2.4\n"})
    modern = write_project(root / "chapter9", {"requirements.txt": "keras>=3.1\n"})
    monkeypatch.chdir(root)
    found = {
        Path(item["filename"]).parts[0]: item["message"]
        for item in run_json(".", "--select", "BNL001", "--no-cache")
    }
    assert "Keras 2" in found["chapter2"] and "Keras 3" not in found["chapter2"]
    assert "Keras 3" in found["chapter9"] and "Keras 2" not in found["chapter9"]
    assert "Keras 2" in found["src"] and "Keras 3" in found["src"]
    assert chapter.exists() and modern.exists()


def test_a_changed_pin_is_not_answered_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = write_project(tmp_path / "project", {"requirements.txt": "keras>=3\n"})
    monkeypatch.chdir(tmp_path / "project")
    assert targeted(script) == "3"
    (tmp_path / "project" / "requirements.txt").write_text("tensorflow==2.15.0\n", encoding="utf-8")
    assert targeted(script) == "2"


@pytest.mark.parametrize(
    ("imports", "expected"),
    [
        pytest.param(
            "from keras.layers.convolutional import Conv2D\n", "2", id="keras2-only-module"
        ),
        pytest.param(
            "from keras.layers.normalization import BatchNormalization\n", "2", id="normalization"
        ),
        pytest.param("import keras.ops as ops\n", "3", id="keras.ops"),
        pytest.param("import keras_hub\n", "3", id="keras_hub"),
        pytest.param("import tf_keras as keras\n", "2", id="tf_keras"),
        pytest.param("import numpy\n", "both", id="nothing-version-specific"),
    ],
)
def test_a_file_without_declared_dependencies_is_settled_by_its_imports(
    tmp_path: Path, imports: str, expected: str
) -> None:
    script = write_project(tmp_path / "project", {})
    script.write_text(imports + TRAIN, encoding="utf-8")
    assert targeted(script) == expected


def test_tf_keras_is_keras_2_even_where_the_project_declares_keras_3(tmp_path: Path) -> None:
    script = write_project(tmp_path / "project", {"requirements.txt": "keras>=3\n"})
    script.write_text(
        TRAIN.replace(
            "import tensorflow as tf", "import keras\nimport tf_keras\nimport tensorflow as tf"
        ),
        encoding="utf-8",
    )
    assert targeted(script) == "3"  # keras is imported too: not tf_keras only
    script.write_text(
        "import tf_keras as keras\n"
        "base = keras.applications.ResNet50(include_top=False)\n"
        "base.trainable = False\n"
        "model = keras.Sequential([base, keras.layers.Dense(1)])\n"
        'model.compile(optimizer="adam", loss="mse")\n'
        "model.fit(x, y)\n"
        "base.trainable = True\n"
        "model.fit(x, y)\n",
        encoding="utf-8",
    )
    assert targeted(script) == "2"
