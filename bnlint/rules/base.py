"""What a rule is: its identity, documentation, trigger words and check; what a check reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Optional, Union

import libcst as cst

from bnlint.diagnostics import Applicability, Severity
from bnlint.facts import Facts

#: Target Keras versions a rule can be asked about: "2", "3", or "both" when unknown.
KERAS_BOTH = "both"


@dataclass(frozen=True)
class NodeEdit:
    """Replace the source span of ``node`` with ``replacement`` (its new code)."""

    node: cst.CSTNode
    replacement: str


@dataclass(frozen=True)
class FixProposal:
    """A fix as a rule proposes it: edits expressed on CST nodes."""

    applicability: Applicability
    message: str
    edits: tuple[NodeEdit, ...]


@dataclass(frozen=True)
class Finding:
    """What a rule reports: the node a person would fix, the message, and an optional fix."""

    node: cst.CSTNode
    message: str
    fix: Optional[FixProposal] = None
    severity: Optional[Severity] = None


@dataclass(frozen=True)
class RuleDoc:
    """A rule's documentation, in the sections ``bnlint rule CODE`` shows."""

    what_it_does: str
    why_is_this_bad: str
    example: str
    use_instead: str
    fix_safety: str
    keras_versions: str


class RuleContext:
    """What a check may read: the file's facts, its source, and the targeted Keras version."""

    def __init__(
        self,
        facts: Facts,
        source: str,
        keras_version: Union[str, Callable[[], str]],
        multi_backend_keras: Union[bool, Callable[[], bool]] = False,
    ) -> None:
        self.facts = facts
        self.source = source
        self._keras_version = keras_version
        self._multi_backend_keras = multi_backend_keras

    @property
    def keras_version(self) -> str:
        """The targeted Keras version: "2", "3" or "both" (resolved from the project's declared
        dependencies on first use, so a file without findings never reads them)."""
        if callable(self._keras_version):
            self._keras_version = self._keras_version()
        return self._keras_version

    @property
    def multi_backend_keras(self) -> bool:
        """Whether the code is multi-backend Keras (2.3 and older, before tf.keras): it imports
        its backend modules or the project pins ``keras`` below 2.4 (resolved on first use)."""
        if callable(self._multi_backend_keras):
            self._multi_backend_keras = self._multi_backend_keras()
        return self._multi_backend_keras

    @property
    def module(self) -> cst.Module:
        """The parsed module."""
        return self.facts.module

    def code(self, node: cst.CSTNode) -> str:
        """The source code of a node, as written."""
        return self.facts.module.code_for_node(node)


class Rule:
    """Base class of every rule: subclasses set the class attributes and implement ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    #: The prefilter: a file is analysed only if it holds one of these words (or, for a tuple of
    #: words, all of them). They must be complete: every file the rule can fire on holds one.
    triggers: ClassVar[tuple[Union[str, tuple[str, ...]], ...]]
    doc: ClassVar[RuleDoc]
    fixable: ClassVar[Optional[Applicability]] = None
    #: Its findings can rest on the summaries of imported project files (a model built in
    #: ``models.py``, a helper of ``utils.py``): its trigger words count in those files too.
    reads_project: ClassVar[bool] = False

    def check(self, context: RuleContext) -> Iterator[Finding]:
        """Yield the findings of this rule in one file."""
        raise NotImplementedError

    @classmethod
    def url(cls) -> str:
        """Where the rule's documentation lives."""
        return f"https://github.com/bnlint/bnlint/blob/main/docs/rules.md#{cls.code.lower()}-{cls.name}"

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation as Markdown, as ``bnlint rule CODE`` prints it."""
        doc = cls.doc
        fix = {
            None: "No automatic fix.",
            Applicability.SAFE: "Safe fix available (`--fix`).",
            Applicability.UNSAFE: "Unsafe fix available (`--fix --unsafe-fixes`).",
        }[cls.fixable]
        return (
            f"# {cls.name} ({cls.code})\n\n"
            f"Default severity: {cls.severity.value}. {fix}\n\n"
            f"## What it does\n{doc.what_it_does.strip()}\n\n"
            f"## Why is this bad?\n{doc.why_is_this_bad.strip()}\n\n"
            f"## Example\n```python\n{doc.example.strip()}\n```\n\n"
            f"## Use instead\n```python\n{doc.use_instead.strip()}\n```\n\n"
            f"## Fix safety\n{doc.fix_safety.strip()}\n\n"
            f"## Keras versions\n{doc.keras_versions.strip()}\n"
        )


def by_keras_version(version: str, keras2: str, keras3: str, both: Optional[str] = None) -> str:
    """Pick the sentence that describes the targeted Keras version (both when unknown)."""
    if version == "2":
        return keras2
    if version == "3":
        return keras3
    return both if both is not None else f"Keras 2: {keras2} Keras 3: {keras3}"
