"""Where an import leads inside the project, found on disk and never by importing anything.

``import pkg.mod``, ``from pkg import mod``, ``from .models import Net`` and ``from ..utils import f``
resolve to files of the project only. Absolute imports are looked for, in order, in the importing
file's folder when it is not a package (a flat script beside its modules, a notebook beside its
helpers: Python puts a script's folder first on its path; a module inside a package has no implicit
relative imports, so its ``import numpy`` is never the package's own ``numpy.py``), the root its
package hangs from (walking up ``__init__.py`` files), the project root (the nearest folder with a
``pyproject.toml`` or ``.git``) and its ``src/``. Anything else (an installed package, a typo) is
unknown: ``None``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

#: What marks the root of a project.
PROJECT_MARKERS = ("pyproject.toml", ".git")


def resolve_module(name: str, importer: Path, level: int = 0) -> Optional[Path]:
    """The file that ``import name`` (``level`` dots for a relative import) means in ``importer``'s
    project: ``name.py`` or ``name/__init__.py`` under the first search root that has it."""
    return _resolve_from(name, _folder_of(importer), level)


def _folder_of(importer: Path) -> Path:
    return real_path(importer).parent


@lru_cache(maxsize=8192)
def real_path(path: Path) -> Path:
    """A file's real path (symbolic links followed), once per file and run: the files of a folder
    ask for the same imports, and resolving a path costs a system call per component."""
    return path.resolve()


@lru_cache(maxsize=16384)
def _resolve_from(name: str, folder: Path, level: int) -> Optional[Path]:
    if level > 0:
        for _ in range(level - 1):
            folder = folder.parent
        roots: tuple[Path, ...] = (folder,)
    else:
        roots = search_roots(folder)
    parts = [part for part in name.split(".") if part]
    for root in roots:
        found = _module_file(root, tuple(parts))
        if found is not None:
            return found
    return None


@lru_cache(maxsize=4096)
def search_roots(folder: Path) -> tuple[Path, ...]:
    """The folders an absolute import from a file in ``folder`` is looked for in, in order."""
    roots = [] if (folder / "__init__.py").is_file() else [folder]
    top = folder
    while (top / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    roots.append(top)
    project = project_root(folder)
    if project is not None:
        roots.extend((project, project / "src"))
    unique: list[Path] = []
    for root in roots:
        if root not in unique and root.is_dir():
            unique.append(root)
    return tuple(unique)


@lru_cache(maxsize=4096)
def project_root(folder: Path) -> Optional[Path]:
    """The nearest folder from ``folder`` upwards that holds a ``pyproject.toml`` or ``.git``."""
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return None


@lru_cache(maxsize=16384)
def _module_file(root: Path, parts: tuple[str, ...]) -> Optional[Path]:
    if not parts:
        init = root / "__init__.py"
        return init if init.is_file() else None
    target = root.joinpath(*parts)
    for candidate in (target.with_name(target.name + ".py"), target / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def forget_layout() -> None:
    """Look at the disk again (files may have been added or removed since the last run)."""
    real_path.cache_clear()
    _resolve_from.cache_clear()
    search_roots.cache_clear()
    project_root.cache_clear()
    _module_file.cache_clear()
