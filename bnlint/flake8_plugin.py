"""The flake8 plugin: bnlint's rules reported through flake8 (``BNL`` codes), lint only.

Registered as the ``flake8.extension`` entry point ``BNL``. Each file goes through the same engine as
``bnlint check``, with the settings of the nearest ``[tool.bnlint]`` (``select``, ``ignore``,
``per-file-ignores``, ``keras-version``); flake8's own ``--select`` / ``--extend-ignore`` / ``# noqa``
apply on top. Fixes are not applied: run ``bnlint check --fix`` for that.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Optional

from bnlint import __version__

#: What a flake8 tree plugin yields: (row, 0-based column, "CODE message", plugin class).
Report = tuple[int, int, str, type]


@lru_cache(maxsize=64)
def _settings_for(folder: Path) -> tuple[object, object]:
    """(settings, lint options) for files in ``folder``, from the nearest ``[tool.bnlint]``."""
    from bnlint.engine import LintOptions
    from bnlint.project.config import load_settings, select_codes
    from bnlint.project.keras_version import resolve_keras_version
    from bnlint.rules import available_codes

    settings = load_settings(None, folder)
    codes = select_codes(
        available_codes(), settings.select, settings.extend_select, settings.ignore
    )
    version = resolve_keras_version(settings.keras_version, folder)
    return settings, LintOptions(codes=tuple(codes), keras_version=version)


class BnlintChecker:
    """flake8 calls this once per file with the file's lines (flake8 reads and decodes them)."""

    name = "bnlint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.filename = filename
        self.lines = lines

    def _path(self) -> Optional[Path]:
        if self.filename in ("stdin", "-", ""):
            return None
        return Path(self.filename)

    def run(self) -> Iterator[Report]:
        """Yield bnlint's diagnostics for the file in flake8's shape."""
        from bnlint.engine import lint_text
        from bnlint.project.config import ConfigError
        from bnlint.runner import ignored_codes

        path = self._path()
        folder = (path.parent if path is not None else Path(".")).absolute()
        try:
            settings, options = _settings_for(folder)
        except ConfigError as error:
            yield 1, 0, f"BNL000 bnlint configuration error: {error}", type(self)
            return
        ignored = ignored_codes(settings, path) if path is not None else set()  # type: ignore[arg-type]
        text = "".join(self.lines)
        for diagnostic in lint_text(text, self.filename, options):  # type: ignore[arg-type]
            if any(diagnostic.code.startswith(code) for code in ignored):
                continue
            column = max(diagnostic.start.column - 1, 0)
            yield (
                diagnostic.start.row,
                column,
                f"{diagnostic.code} {diagnostic.message}",
                type(self),
            )
