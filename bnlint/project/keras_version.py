"""The targeted Keras version: "2", "3", or "both" (when ``auto`` cannot tell)."""

from __future__ import annotations

from pathlib import Path

BOTH = "both"


def resolve_keras_version(setting: str, start: Path) -> str:
    """``"2"`` or ``"3"`` when set explicitly; for ``auto``, read the declared dependencies of the
    project around ``start`` (the linted path: the nearest folder upwards with dependency files)."""
    if setting in ("2", "3"):
        return setting
    from bnlint.project.dependencies import detect_keras_version

    return detect_keras_version(start) or BOTH
