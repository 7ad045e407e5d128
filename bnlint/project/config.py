"""Settings: ``[tool.bnlint]`` in the nearest pyproject.toml (or ``--config``), then command-line options."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional


def toml_module():  # type: ignore[no-untyped-def]
    """The TOML parser, imported only when a pyproject.toml needs reading."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python < 3.11 only
        import tomli as tomllib
    return tomllib


class ConfigError(Exception):
    """A configuration or usage error: reported as such, exit code 2."""


KERAS_VERSIONS = ("auto", "2", "3")

#: Every key ``[tool.bnlint]`` accepts, and the type of its value.
KNOWN_KEYS: dict[str, type] = {
    "select": list,
    "extend-select": list,
    "ignore": list,
    "exclude": list,
    "extend-exclude": list,
    "per-file-ignores": dict,
    "keras-version": str,
    "unsafe-fixes": bool,
    "cache-dir": str,
    "timeout": float,
}

_TYPE_NAMES = {float: "number"}

#: The default time limit for analysing one file, in seconds (``timeout``; 0 means no limit).
DEFAULT_TIMEOUT = 20.0


@dataclass
class Settings:
    """Everything that decides what a run reports; linting one file is a function of (source, settings)."""

    select: list[str] = field(default_factory=lambda: ["ALL"])
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    keras_version: str = "auto"
    unsafe_fixes: bool = False
    cache_dir: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    project_root: Optional[Path] = None
    config_file: Optional[Path] = None


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a ``[tool.bnlint]`` table, from ``start`` upwards."""
    directory = start if start.is_dir() else start.parent
    for candidate_dir in [directory, *directory.parents]:
        candidate = candidate_dir / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
                if "bnlint" not in text:  # no [tool.bnlint] table: not worth parsing
                    continue
                tomllib = toml_module()
                data = tomllib.loads(text)
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            if "bnlint" in data.get("tool", {}):
                return candidate
    return None


def load_settings(config_file: Optional[Path], start: Path) -> Settings:
    """Settings from ``config_file`` if given, else from the nearest pyproject.toml, else defaults."""
    path = config_file if config_file is not None else find_pyproject(start.resolve())
    settings = Settings()
    if path is None:
        return settings
    tomllib = toml_module()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from error
    table: Any = data.get("tool", {}).get("bnlint", {}) if "tool" in data else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.bnlint] must be a table")
    _apply_table(settings, table, path)
    settings.config_file = path
    settings.project_root = path.parent
    return settings


def _apply_table(settings: Settings, table: dict[str, Any], path: Path) -> None:
    for key, value in table.items():
        expected = KNOWN_KEYS.get(key)
        if expected is None:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ConfigError(f"{path}: unknown key '{key}' in [tool.bnlint] (known keys: {known})")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected):
            raise ConfigError(
                f"{path}: '{key}' must be a {_TYPE_NAMES.get(expected, expected.__name__)}, "
                f"not {type(value).__name__}"
            )
        if expected is list and not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{path}: '{key}' must be a list of strings")
        if key == "per-file-ignores":
            for pattern, codes in value.items():
                if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                    raise ConfigError(
                        f"{path}: per-file-ignores '{pattern}' must be a list of codes"
                    )
        if key in ("select", "extend-select", "ignore"):
            _check_codes(value, f"{path}: '{key}'")
        if key == "per-file-ignores":
            for pattern, codes in value.items():
                _check_codes(codes, f"{path}: per-file-ignores '{pattern}'")
        if key == "timeout" and not 0 <= value < float("inf"):
            raise ConfigError(f"{path}: 'timeout' must be a number of seconds >= 0 (0: no limit)")
        if key == "keras-version" and value not in KERAS_VERSIONS:
            raise ConfigError(f"{path}: keras-version must be one of {', '.join(KERAS_VERSIONS)}")
        setattr(settings, key.replace("-", "_"), value)


def _check_codes(selectors: list[str], where: str) -> None:
    from bnlint.rules import available_codes

    codes = available_codes()
    for selector in selectors:
        if selector != "ALL" and not any(code.startswith(selector) for code in codes):
            raise ConfigError(f"{where}: unknown rule code or prefix '{selector}'")


def select_codes(
    all_codes: list[str], select: list[str], extend_select: list[str], ignore: list[str]
) -> list[str]:
    """The codes enabled by select / extend-select / ignore (codes, prefixes or ``ALL``)."""
    for selector in [*select, *extend_select, *ignore]:
        if selector != "ALL" and not any(code.startswith(selector) for code in all_codes):
            raise ConfigError(f"unknown rule code or prefix '{selector}'")

    def matches(code: str, selectors: list[str]) -> bool:
        return any(s == "ALL" or code.startswith(s) for s in selectors)

    return [
        code
        for code in all_codes
        if matches(code, [*select, *extend_select]) and not matches(code, ignore)
    ]
