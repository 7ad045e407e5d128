"""Jupyter notebooks as a user meets them: positions as (cell, line), IPython syntax, fixes written back
cell by cell with everything else byte for byte, malformed notebooks reported, not crashed on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Union

from tests.conftest import run_cli, run_json

Source = Union[str, list[str]]

METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "version": "3.11.4"},
}
OUTPUTS = [
    {
        "name": "stdout",
        "output_type": "stream",
        "text": ["Epoch 1/5 · loss: 1e-05 ✓\n", "\u001b[1m done\u001b[0m\n"],
    },
    {
        "data": {"text/plain": ["<keras.src.callbacks.History at 0x7f>"]},
        "output_type": "execute_result",
        "metadata": {},
        "execution_count": 3,
    },
]


def code(source: Source, outputs: list | None = None) -> dict:
    """A code cell as Jupyter writes it."""
    return {
        "cell_type": "code",
        "execution_count": 3,
        "id": "c0de",
        "metadata": {"tags": ["train"], "scrolled": True},
        "outputs": outputs if outputs is not None else [],
        "source": source,
    }


def markdown(source: Source) -> dict:
    """A markdown cell."""
    return {"cell_type": "markdown", "id": "d0c5", "metadata": {}, "source": source}


def write_notebook(
    path: Path,
    cells: list[dict],
    indent: int = 1,
    final_newline: bool = True,
    metadata: dict | None = None,
) -> bytes:
    """Write a notebook the way Jupyter does (sorted keys, non-ASCII kept) and return its bytes."""
    document = {
        "cells": cells,
        "metadata": METADATA if metadata is None else metadata,
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(document, indent=indent, sort_keys=True, ensure_ascii=False)
    data = (text + ("\n" if final_newline else "")).encode("utf-8")
    path.write_bytes(data)
    return data


def lines(*source: str) -> list[str]:
    """Cell source as a list of lines, the last one without a newline (as Jupyter stores it)."""
    return [line + "\n" for line in source[:-1]] + [source[-1]]


IMPORTS = lines("import tensorflow as tf", "from tensorflow.keras import layers")
FINETUNE = lines(
    "base = tf.keras.applications.ResNet50(include_top=False)",
    "model = tf.keras.Sequential([base, layers.Dense(1)])",
    "model.compile(optimizer='adam', loss='mse')",
)


def test_positions_are_cell_and_line_with_markdown_cells_counted(tmp_path: Path) -> None:
    notebook = tmp_path / "finetune.ipynb"
    write_notebook(
        notebook,
        [
            markdown(["# Fine-tuning\n", "Freeze the base."]),
            code(IMPORTS),
            markdown("Build and compile."),
            code(FINETUNE),
            code(lines("# unfreeze", "base.trainable = False", "model.fit(x, y)"), OUTPUTS),
        ],
    )
    result = run_cli("check", str(notebook), "--select", "BNL001", "--output-format", "concise")
    assert result.exit_code == 1
    assert f"{notebook.as_posix()}:cell 5:2:1: BNL001 " in result.output

    [item] = run_json(str(notebook), "--select", "BNL001")
    assert item["cell"] == 5
    assert item["location"] == {"row": 2, "column": 1}
    assert item["end_location"] == {"row": 2, "column": 23}


def test_full_output_shows_the_line_of_the_cell(tmp_path: Path) -> None:
    notebook = tmp_path / "nb.ipynb"
    write_notebook(
        notebook, [code(IMPORTS), code(lines("", "x = layers.Dropout(0.5, trainable=False)"))]
    )
    result = run_cli("check", str(notebook), "--select", "BNL003")
    assert f"{notebook.as_posix()}:cell 2:2:25: BNL003 [*]" in result.output
    assert "2 | x = layers.Dropout(0.5, trainable=False)" in result.output
    assert "^^^^^^^^^^^^^^^ BNL003" in result.output


def test_magics_shell_escapes_and_help_lines_keep_line_numbers(tmp_path: Path) -> None:
    notebook = tmp_path / "magic.ipynb"
    write_notebook(
        notebook,
        [
            code(
                lines(
                    "%matplotlib inline",
                    "!pip install tensorflow",
                    "%pip install -q keras \\",
                    "    tf-keras",
                    "import tensorflow as tf",
                    "from tensorflow.keras import layers",
                    "files = !ls data/",
                    "layers.Dropout?",
                    "for f in files:",
                    "    !echo $f",
                    "x = layers.Dropout(0.5, trainable=False)",
                )
            )
        ],
    )
    items = run_json(str(notebook), "--select", "BNL003")
    assert [(i["code"], i["cell"], i["location"]["row"]) for i in items] == [("BNL003", 1, 11)]


def test_bash_cell_is_skipped_and_time_cell_is_linted(tmp_path: Path) -> None:
    notebook = tmp_path / "cells.ipynb"
    write_notebook(
        notebook,
        [
            code(IMPORTS),
            code(lines("%%bash", "echo 'x = layers.Dropout(0.5, trainable=False)' > notes.txt")),
            code(lines("%%writefile train.py", "x = layers.Dropout(0.5, trainable=False)")),
            code(lines("%%time", "x = layers.Flatten(trainable=False)")),
            code(lines("%%capture out", "y = layers.ReLU(trainable=False)")),
        ],
    )
    items = run_json(str(notebook), "--select", "BNL003")
    assert [(i["code"], i["cell"], i["location"]["row"]) for i in items] == [
        ("BNL003", 4, 2),
        ("BNL003", 5, 2),
    ]


def test_fix_rewrites_only_the_changed_cell(tmp_path: Path) -> None:
    notebook = tmp_path / "fix.ipynb"
    before = write_notebook(
        notebook,
        [
            markdown("Dropout is *not* frozen by `trainable`: café ✓"),
            code(IMPORTS, OUTPUTS),
            code(
                lines("%%time", "x = layers.Dropout(0.5, trainable=False)  # keep", "print(x)"),
                OUTPUTS,
            ),
            code(lines("y = 1"), OUTPUTS),
        ],
    )
    result = run_cli("check", str(notebook), "--select", "BNL003", "--fix")
    assert result.exit_code == 0
    assert "(1 fixed, 0 remaining)" in result.output
    after = notebook.read_bytes()
    expected = before.replace(
        b'"x = layers.Dropout(0.5, trainable=False)  # keep\\n"',
        b'"x = layers.Dropout(0.5)  # keep\\n"',
    )
    assert after == expected
    assert before != expected

    again = run_cli("check", str(notebook), "--select", "BNL003", "--fix")
    assert again.exit_code == 0
    assert notebook.read_bytes() == expected


def test_fix_keeps_string_sources_indentation_and_missing_final_newline(tmp_path: Path) -> None:
    notebook = tmp_path / "styled.ipynb"
    before = write_notebook(
        notebook,
        [
            code(
                "from tensorflow.keras import layers\nx = layers.Flatten(trainable=False)\n",
                OUTPUTS,
            )
        ],
        indent=2,
        final_newline=False,
    )
    run_cli("check", str(notebook), "--select", "BNL003", "--fix")
    after = notebook.read_bytes()
    assert after == before.replace(b"layers.Flatten(trainable=False)", b"layers.Flatten()")
    assert json.loads(after)["cells"][0]["source"] == (
        "from tensorflow.keras import layers\nx = layers.Flatten()\n"
    )


def test_fix_of_a_multiline_call_rewrites_the_cell_lines(tmp_path: Path) -> None:
    notebook = tmp_path / "multi.ipynb"
    before = write_notebook(
        notebook,
        [
            code(IMPORTS),
            code(
                lines(
                    "x = layers.Dropout(",
                    "    0.3,",
                    "    trainable=False,",
                    "    name='drop',",
                    ")",
                )
            ),
        ],
    )
    run_cli("check", str(notebook), "--select", "BNL003", "--fix")
    after = json.loads(notebook.read_bytes())
    assert after["cells"][1]["source"] == lines(
        "x = layers.Dropout(", "    0.3,", "    name='drop',", ")"
    )
    assert after["cells"][0] == json.loads(before)["cells"][0]
    assert notebook.read_bytes().startswith(before[: before.index(b'"x = layers.Dropout(')])


def test_diff_shows_the_cell_and_writes_nothing(tmp_path: Path) -> None:
    notebook = tmp_path / "diff.ipynb"
    before = write_notebook(
        notebook,
        [markdown("intro"), code([*IMPORTS, "\n", "x = layers.Dropout(0.5, trainable=False)"])],
    )
    result = run_cli("check", str(notebook), "--select", "BNL003", "--diff")
    assert result.exit_code == 1
    name = notebook.as_posix()
    assert f"--- {name}:cell 2\n+++ {name}:cell 2\n" in result.output
    assert "-x = layers.Dropout(0.5, trainable=False)\n+x = layers.Dropout(0.5)\n" in result.output
    assert notebook.read_bytes() == before


def test_noqa_in_a_cell(tmp_path: Path) -> None:
    notebook = tmp_path / "noqa.ipynb"
    write_notebook(
        notebook,
        [
            code(IMPORTS),
            code(
                lines(
                    "a = layers.Dropout(0.5, trainable=False)  # noqa: BNL003",
                    "b = layers.Dropout(0.5, trainable=False)  # noqa: BNL001",
                    "c = layers.Dropout(0.5, trainable=False)  # noqa",
                )
            ),
        ],
    )
    items = run_json(str(notebook), "--select", "BNL003")
    assert [(i["cell"], i["location"]["row"]) for i in items] == [(2, 2)]


def test_malformed_notebooks_are_one_diagnostic_each_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a_truncated.ipynb").write_text('{"cells": [', encoding="utf-8")
    (tmp_path / "b_no_cells.ipynb").write_text('{"worksheets": []}', encoding="utf-8")
    (tmp_path / "c_cells_not_list.ipynb").write_text('{"cells": {}}', encoding="utf-8")
    (tmp_path / "d_bad_source.ipynb").write_text(
        '{"cells": [{"cell_type": "code", "source": 42}]}', encoding="utf-8"
    )
    (tmp_path / "e_latin1.ipynb").write_bytes('{"cells": [], "x": "café"}'.encode("latin-1"))
    (tmp_path / "f_list.ipynb").write_text("[1, 2]", encoding="utf-8")
    write_notebook(
        tmp_path / "g_good.ipynb", [code([*IMPORTS, "\nx = layers.Flatten(trainable=False)"])]
    )

    result = run_cli("check", str(tmp_path), "--output-format", "json")
    assert result.exit_code == 1
    items = json.loads(result.stdout)
    found = [(Path(i["filename"]).name, i["code"]) for i in items]
    assert found == [
        ("a_truncated.ipynb", "BNL000"),
        ("b_no_cells.ipynb", "BNL000"),
        ("c_cells_not_list.ipynb", "BNL000"),
        ("d_bad_source.ipynb", "BNL000"),
        ("e_latin1.ipynb", "BNL000"),
        ("f_list.ipynb", "BNL000"),
        ("g_good.ipynb", "BNL003"),
    ]
    assert "not valid JSON" in items[0]["message"]
    assert '"source" of cell 1' in items[3]["message"]
    assert "UTF-8" in items[4]["message"]


def test_syntax_error_in_a_cell_is_reported_at_the_cell(tmp_path: Path) -> None:
    notebook = tmp_path / "broken.ipynb"
    write_notebook(
        notebook,
        [markdown("x"), code(IMPORTS), code(lines("x.trainable = 1", "def f(:", "    pass"))],
    )
    [item] = run_json(str(notebook))
    assert item["code"] == "BNL000"
    assert (item["cell"], item["location"]["row"]) == (3, 2)


def test_a_notebook_is_one_module_scope_in_cell_order(tmp_path: Path) -> None:
    notebook = tmp_path / "scope.ipynb"
    write_notebook(
        notebook,
        [
            code(IMPORTS),
            code(FINETUNE),
            code(lines("model.fit(x, y)")),
            code(lines("base.trainable = True", "model.compile(optimizer='adam', loss='mse')")),
            code(lines("model.fit(x, y)")),
        ],
    )
    assert run_json(str(notebook), "--select", "BNL001") == []


def test_non_python_notebook_is_not_linted(tmp_path: Path) -> None:
    notebook = tmp_path / "r.ipynb"
    write_notebook(
        notebook,
        [code("library(keras)\nlayer_dropout(rate = 0.5, trainable = FALSE)")],
        metadata={"kernelspec": {"language": "R", "name": "ir"}, "language_info": {"name": "R"}},
    )
    result = run_cli("check", str(notebook))
    assert result.exit_code == 0


def test_notebook_on_standard_input(tmp_path: Path) -> None:
    notebook = tmp_path / "stdin.ipynb"
    data = write_notebook(notebook, [code([*IMPORTS, "\nx = layers.Flatten(trainable=False)"])])
    result = run_cli(
        "check", "-", "--stdin-filename", "stdin.ipynb", "--output-format", "json", input=data
    )
    [item] = json.loads(result.stdout)
    assert (item["filename"], item["cell"], item["location"]["row"]) == ("stdin.ipynb", 1, 3)


def test_colab_form_cell_before_a_cell_magic_is_skipped(tmp_path: Path) -> None:
    notebook = tmp_path / "colab.ipynb"
    write_notebook(
        notebook,
        [
            code(IMPORTS),
            code(
                lines("#@title Download the data", "%%bash", "wget -q https://x/y.zip && unzip y")
            ),
            code(lines("x = layers.Flatten(trainable=False)")),
        ],
    )
    items = run_json(str(notebook), "--select", "BNL003")
    assert [(i["code"], i["cell"], i["location"]["row"]) for i in items] == [("BNL003", 3, 1)]


def test_a_cell_indented_as_a_whole_is_read_as_ipython_runs_it(tmp_path: Path) -> None:
    """IPython removes the first line's indentation from every line before running a cell."""
    notebook = tmp_path / "indented.ipynb"
    before = write_notebook(
        notebook,
        [
            code(IMPORTS),
            code(lines(" x = layers.Flatten(trainable=False)", " if x:", "     print(x)")),
        ],
    )
    [item] = run_json(str(notebook), "--select", "BNL003")
    assert (item["code"], item["cell"], item["location"], item["end_location"]) == (
        "BNL003",
        2,
        {"row": 1, "column": 21},
        {"row": 1, "column": 36},
    )
    result = run_cli("check", str(notebook), "--select", "BNL003", "--fix")
    assert result.exit_code == 0, result.output
    assert notebook.read_bytes() == before.replace(
        b'" x = layers.Flatten(trainable=False)\\n"', b'" x = layers.Flatten()\\n"'
    )


def test_automagic_lines_are_ipython_not_python(tmp_path: Path) -> None:
    """Jupyter runs ``pip install x`` and ``cd data`` as ``%pip`` and ``%cd`` (automagic)."""
    notebook = tmp_path / "automagic.ipynb"
    write_notebook(
        notebook,
        [
            code(lines("pip install -q tensorflow==2.15", "conda install -y pandas", "cd ../data")),
            code(
                lines(
                    "from tensorflow.keras import layers",
                    "cd = 3",
                    "x = layers.Flatten(trainable=False)",
                )
            ),
        ],
    )
    items = run_json(str(notebook), "--select", "BNL003")
    assert [(i["code"], i["cell"], i["location"]["row"]) for i in items] == [("BNL003", 2, 3)]
