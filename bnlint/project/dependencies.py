"""Reads a project's declared dependencies to tell which Keras it targets (``keras-version = "auto"``).

The project is the nearest folder, from the linted path upwards, that holds a pyproject.toml, setup.py,
setup.cfg, requirements*.txt, a requirements/ folder or an environment.yml. Its files are read as text
(setup.py with ``ast``), never executed. Every Keras-related requirement found votes: ``keras>=3`` or
``tensorflow>=2.16`` (without tf-keras) for Keras 3; tf-keras, ``keras<3`` or ``tensorflow<2.16`` for
Keras 2. Unanimous votes decide; none or a conflict leave the target unknown (both versions).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from bnlint.project.specifiers import VersionRange, parse_specifier

#: TensorFlow 2.16 was the first whose ``tf.keras`` is Keras 3.
TENSORFLOW_KERAS3 = (2, 16)
KERAS3 = (3,)
#: Keras 2.4 was the first standalone release that is only a front end to tf.keras.
MULTI_BACKEND_KERAS_END = (2, 4)
TENSORFLOW_PACKAGES = frozenset(
    {
        "tensorflow",
        "tensorflow-cpu",
        "tensorflow-gpu",
        "tensorflow-macos",
        "tensorflow-intel",
        "tensorflow-aarch64",
        "tensorflow-rocm",
    }
)
TF_KERAS_PACKAGES = frozenset({"tf-keras"})
RELEVANT = TENSORFLOW_PACKAGES | TF_KERAS_PACKAGES | {"keras"}

#: Guards for following ``-r`` includes: a cycle or a huge tree never stalls the run.
MAX_INCLUDED_FILES = 50
MAX_FILE_BYTES = 2_000_000

_INCLUDE = re.compile(r"^(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+|(?=\S))(?P<file>\S+)")


@dataclass(frozen=True)
class Requirement:
    """One declared dependency: its normalized name and the versions it admits (None: unreadable)."""

    name: str
    versions: Optional[VersionRange]


def normalize_name(name: str) -> str:
    """A project name as PEP 503 compares it (``packaging`` normalizes it)."""
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def parse_requirement(text: str) -> Optional[Requirement]:
    """A PEP 508 requirement string read by ``packaging`` (extras and markers dropped), or None when
    it is not one. A marker ``packaging`` cannot read does not hide the requirement before it."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Pep508Requirement

    from bnlint.project.specifiers import specifier_range

    try:
        parsed = Pep508Requirement(text)
    except InvalidRequirement:
        if ";" not in text:
            return None
        return parse_requirement(text.split(";", 1)[0])
    name = normalize_name(parsed.name)
    if parsed.url:
        return Requirement(name, None)
    return Requirement(name, specifier_range(parsed.specifier))


def find_project_root(start: Path) -> Optional[Path]:
    """The nearest folder from ``start`` upwards that declares dependencies (stops at a git root)."""
    start = start.resolve()
    return _project_root_from(start if start.is_dir() else start.parent)


@lru_cache(maxsize=4096)
def _project_root_from(folder: Path) -> Optional[Path]:
    """``find_project_root`` for a resolved folder; remembered per folder, since a run asks for
    every folder of a tree and each asks for its parents (``forget_project_roots`` starts afresh)."""
    if _declares_dependencies(folder):
        return folder
    if (folder / ".git").exists() or folder.parent == folder:
        return None
    return _project_root_from(folder.parent)


def forget_project_roots() -> None:
    """Look at the folders again (their dependency files may have changed since the last run)."""
    _project_root_from.cache_clear()


def _declares_dependencies(folder: Path) -> bool:
    names = ("pyproject.toml", "setup.py", "setup.cfg", "environment.yml", "environment.yaml")
    try:
        return (
            any((folder / name).is_file() for name in names)
            or any(folder.glob("requirements*.txt"))
            or (folder / "requirements").is_dir()
        )
    except OSError:
        return False


def declared_requirements(root: Path) -> Iterator[Requirement]:
    """Every requirement the project at ``root`` declares, from each kind of dependency file."""
    seen: set[Path] = set()
    yield from _pyproject(root / "pyproject.toml")
    yield from _setup_cfg(root / "setup.cfg")
    yield from _setup_py(root / "setup.py")
    for name in ("environment.yml", "environment.yaml"):
        yield from _environment(root / name, seen)
    requirement_files = sorted(root.glob("requirements*.txt"))
    if (root / "requirements").is_dir():
        requirement_files += sorted((root / "requirements").glob("*.txt"))
    for path in requirement_files:
        yield from _requirements_txt(path, seen)


def detect_keras_version(start: Path) -> Optional[str]:
    """``"2"`` or ``"3"`` from the dependency pins of the project around ``start``, or None when they
    do not say (no project, no pin, or pins that disagree)."""
    root = find_project_root(start)
    if root is None:
        return None
    requirements = [r for r in declared_requirements(root) if r.name in RELEVANT]
    return decide(requirements)


def declares_multi_backend_keras(start: Path) -> bool:
    """Whether the project around ``start`` pins standalone ``keras`` below 2.4: multi-backend Keras,
    from before tf.keras, where ``set_learning_phase`` was the supported API."""
    root = find_project_root(start)
    if root is None:
        return False
    return any(
        requirement.name == "keras"
        and requirement.versions is not None
        and requirement.versions.only_below(MULTI_BACKEND_KERAS_END)
        for requirement in declared_requirements(root)
    )


def decide(requirements: list[Requirement]) -> Optional[str]:
    """The Keras major version the requirements agree on, or None."""
    has_tf_keras = any(r.name in TF_KERAS_PACKAGES for r in requirements)
    votes: set[str] = {"2"} if has_tf_keras else set()
    for requirement in requirements:
        versions = requirement.versions
        if versions is None:
            continue
        if requirement.name == "keras":
            if versions.only_at_least(KERAS3):
                votes.add("3")
            elif versions.only_below(KERAS3):
                votes.add("2")
        elif requirement.name in TENSORFLOW_PACKAGES:
            if versions.only_below(TENSORFLOW_KERAS3):
                votes.add("2")
            elif versions.only_at_least(TENSORFLOW_KERAS3) and not has_tf_keras:
                votes.add("3")
    return votes.pop() if len(votes) == 1 else None


def _read_text(path: Path) -> Optional[str]:
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _from_strings(values: Any) -> Iterator[Requirement]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        return
    for value in values:
        if isinstance(value, str):
            requirement = parse_requirement(value)
            if requirement is not None:
                yield requirement


def _pyproject(path: Path) -> Iterator[Requirement]:
    text = _read_text(path)
    if text is None:
        return
    from bnlint.project.config import toml_module

    tomllib = toml_module()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    project = data.get("project")
    if isinstance(project, dict):
        yield from _from_strings(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for values in optional.values():
                yield from _from_strings(values)
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    dependencies = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if isinstance(dependencies, dict):
        for name, spec in dependencies.items():
            yield from _poetry_requirement(str(name), spec)


def _poetry_requirement(name: str, spec: Any) -> Iterator[Requirement]:
    """``keras = "^3.0"``, ``keras = {version = ">=3"}`` or a list of such tables."""
    if isinstance(spec, list):
        for item in spec:
            yield from _poetry_requirement(name, item)
        return
    if isinstance(spec, dict):
        from_source = any(key in spec for key in ("git", "path", "url"))
        spec = spec.get("version", None if from_source else "")
    if isinstance(spec, str):
        yield Requirement(normalize_name(name), parse_specifier(spec, poetry=True))
    elif spec is None:
        yield Requirement(normalize_name(name), None)


def _setup_cfg(path: Path) -> Iterator[Requirement]:
    text = _read_text(path)
    if text is None:
        return
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    if parser.has_option("options", "install_requires"):
        yield from _from_strings(_cfg_lines(parser.get("options", "install_requires")))
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            yield from _from_strings(_cfg_lines(value))


def _cfg_lines(value: str) -> list[str]:
    lines = [re.split(r"(?:^|\s)[#;]", line, maxsplit=1)[0].strip() for line in value.splitlines()]
    return [line for line in lines if line]


def _setup_py(path: Path) -> Iterator[Requirement]:
    """``install_requires`` / ``extras_require`` given as literals (or names bound to literals) in a
    ``setup(...)`` call, read with ``ast``: the file is never executed."""
    text = _read_text(path)
    if text is None:
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    constants: dict[str, ast.expr] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                constants[target.id] = statement.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _call_name(node.func) != "setup":
            continue
        for keyword in node.keywords:
            if keyword.arg not in ("install_requires", "extras_require"):
                continue
            value = keyword.value
            if isinstance(value, ast.Name):
                value = constants.get(value.id, value)
            literal = _literal(value)
            if isinstance(literal, dict):
                for values in literal.values():
                    yield from _from_strings(values)
            else:
                yield from _from_strings(literal)


def _call_name(func: ast.expr) -> Optional[str]:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None


def _requirements_txt(path: Path, seen: set[Path]) -> Iterator[Requirement]:
    """A pip requirements file, following ``-r`` / ``-c`` includes (local files only, each once)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return
    if resolved in seen or len(seen) >= MAX_INCLUDED_FILES:
        return
    seen.add(resolved)
    text = _read_text(resolved)
    if text is None:
        return
    yield from _requirement_lines(text.splitlines(), resolved.parent, seen)


def _requirement_lines(lines: list[str], folder: Path, seen: set[Path]) -> Iterator[Requirement]:
    for line in _logical_lines(lines):
        include = _INCLUDE.match(line)
        if include is not None:
            target = include.group("file")
            if "://" not in target:
                yield from _requirements_txt(folder / target, seen)
            continue
        if line.startswith("-"):
            continue  # -e, --index-url and other options
        requirement = parse_requirement(re.split(r"\s+--?\w", line, maxsplit=1)[0])
        if requirement is not None:
            yield requirement


def _logical_lines(lines: list[str]) -> Iterator[str]:
    """Lines with comments removed and backslash continuations joined."""
    pending = ""
    for raw in lines:
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            yield line
    if pending.strip():
        yield pending.strip()


def _environment(path: Path, seen: set[Path]) -> Iterator[Requirement]:
    """A conda environment.yml: its ``dependencies`` (conda match specs) and their ``pip:`` list."""
    text = _read_text(path)
    if text is None:
        return
    conda, pip = _environment_lists(text)
    for spec in conda:
        requirement = _conda_requirement(spec)
        if requirement is not None:
            yield requirement
    yield from _requirement_lines(pip, path.parent, seen)


def _environment_lists(text: str) -> tuple[list[str], list[str]]:
    """The conda and pip items of the top-level ``dependencies:`` list (a simple YAML subset:
    block lists, optionally quoted scalars, comments, a flow list ``[a, b]``)."""
    conda: list[str] = []
    pip: list[str] = []
    inside = False
    pip_indent: Optional[int] = None
    for raw in text.splitlines():
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        content = line.strip()
        if indent == 0 and not content.startswith("-"):
            key, _, value = content.partition(":")
            inside = key.strip().strip("'\"") == "dependencies"
            pip_indent = None
            if inside and value.strip().startswith("["):
                conda.extend(_unquote(v) for v in value.strip()[1:-1].split(",") if v.strip())
                inside = False
            continue
        if not inside or not content.startswith("-"):
            continue
        item = _unquote(content[1:].strip())
        if pip_indent is not None and indent > pip_indent:
            pip.append(item)
            continue
        pip_indent = None
        if item.rstrip(":").strip() == "pip" and item.endswith(":"):
            pip_indent = indent
        elif item:
            conda.append(item)
    return conda, pip


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _conda_requirement(spec: str) -> Optional[Requirement]:
    """A conda match spec (``keras=2.15``, ``tensorflow 2.15.*``, ``conda-forge::keras>=3``)."""
    spec = spec.split("::")[-1].strip()
    match = re.match(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<rest>.*)$", spec)
    if match is None:
        return None
    name, rest = normalize_name(match.group("name")), match.group("rest").strip()
    if rest.startswith("[") or "|" in rest:
        return Requirement(name, None)
    if rest.startswith("=") and not rest.startswith("=="):
        version = rest[1:].split("=")[0].strip()
        rest = "==" + version + ("" if version.endswith("*") else ".*")
    elif rest[:1].isdigit():
        version = rest.split()[0]
        rest = "==" + version
    return Requirement(name, parse_specifier(rest))
