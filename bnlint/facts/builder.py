"""Builds a file's facts with one abstract interpretation of its statements, in execution order.

The module body is interpreted first, then every function and method once on its own. Calls of
functions and methods defined in the same file are followed (their events join the caller's trace),
which is how "a helper that compiles its argument" or "returns a compiled model" is understood.
What cannot be known becomes ``None`` (unknown), and unknown things never produce findings.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from bnlint.facts.calls import CallInterpreter
from bnlint.facts.definitions import DefinitionInterpreter
from bnlint.facts.expressions import ExpressionInterpreter
from bnlint.facts.keras_calls import KerasCallInterpreter
from bnlint.facts.objects import UserFunction
from bnlint.facts.project_calls import ProjectInterpreter
from bnlint.facts.results import Facts
from bnlint.facts.statements import StatementInterpreter
from bnlint.facts.summaries import ModuleSummary, SummaryProvider
from bnlint.facts.summarize import SummaryInterpreter
from bnlint.facts.user_calls import UserCallInterpreter


class Builder(
    StatementInterpreter,
    DefinitionInterpreter,
    ExpressionInterpreter,
    CallInterpreter,
    KerasCallInterpreter,
    UserCallInterpreter,
    ProjectInterpreter,
    SummaryInterpreter,
):
    """One file's abstract interpreter: the module body first, then every queued function."""

    def build(self) -> Facts:
        """Interpret the module body, then every function and method not yet analysed on its own.

        A function whose calls sit in functions analysed later waits for them once, so that its
        parameters can be bound from its call sites (``agreed_arguments``).
        """
        self.facts.traces.append(self.trace)
        self.block(self.module.body)
        deferred: set[int] = set()
        while self.pending:
            function, self_obj = self.pending.pop(0)
            if id(function.node) not in deferred and self._awaits_callers(function):
                deferred.add(id(function.node))
                self.pending.append((function, self_obj))
                continue
            self.analyze_root(function, self_obj)
        return self.facts

    def _awaits_callers(self, function: UserFunction) -> bool:
        node = function.node
        if not (node.params.params or node.params.kwonly_params or node.params.posonly_params):
            return False
        seen = len(self.call_sites.get(id(node), {}))
        return seen < self.call_count(node.name.value)


def build_facts(
    module: cst.Module, code: Optional[str] = None, provider: Optional[SummaryProvider] = None
) -> Facts:
    """Analyse a parsed module once and return the facts every rule reads (``code``: the module's
    code without comments and docstrings, when the caller has it already; ``provider``: the
    summaries of the project modules it imports)."""
    return Builder(module, code, provider).build()


def summarize_module(
    module: cst.Module, code: Optional[str] = None, provider: Optional[SummaryProvider] = None
) -> ModuleSummary:
    """What a parsed module exports to the files that import it."""
    builder = Builder(module, code, provider)
    builder.build()
    return builder.summarize()
