"""The facts engine: one analysis pass per file that builds what every rule asks about."""

from bnlint.facts.builder import build_facts
from bnlint.facts.results import CallFact, Facts

__all__ = ["CallFact", "Facts", "build_facts"]
