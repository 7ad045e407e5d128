"""The facts engine: one analysis pass per file that builds what every rule asks about."""

from bnlint.facts.builder import CallFact, Facts, build_facts

__all__ = ["CallFact", "Facts", "build_facts"]
