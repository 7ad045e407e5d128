"""Builds a file's facts with one abstract interpretation of its statements, in execution order.

The module body is interpreted first, then every function and method once on its own. Calls of
functions and methods defined in the same file are followed (their events join the caller's trace),
which is how "a helper that compiles its argument" or "returns a compiled model" is understood.
What cannot be known becomes ``None`` (unknown), and unknown things never produce findings.
"""

from __future__ import annotations

import libcst as cst

from bnlint.facts.calls import CallInterpreter
from bnlint.facts.definitions import DefinitionInterpreter
from bnlint.facts.expressions import ExpressionInterpreter
from bnlint.facts.keras_calls import KerasCallInterpreter
from bnlint.facts.results import Facts
from bnlint.facts.statements import StatementInterpreter
from bnlint.facts.user_calls import UserCallInterpreter


class Builder(
    StatementInterpreter,
    DefinitionInterpreter,
    ExpressionInterpreter,
    CallInterpreter,
    KerasCallInterpreter,
    UserCallInterpreter,
):
    """One file's abstract interpreter: the module body first, then every queued function."""

    def build(self) -> Facts:
        self.facts.traces.append(self.trace)
        self.block(self.module.body)
        while self.pending:
            function, self_obj = self.pending.pop(0)
            self.analyze_root(function, self_obj)
        return self.facts


def build_facts(module: cst.Module) -> Facts:
    """Analyse a parsed module once and return the facts every rule reads."""
    return Builder(module).build()
