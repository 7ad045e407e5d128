"""The facts engine: one analysis pass per file that builds what every rule asks about.

The package's names are imported on first use, so that reading a summary's data types (the results
cache does, before any file is parsed) does not import LibCST.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CallFact", "Facts", "build_facts"]


def __getattr__(name: str) -> Any:
    if name == "build_facts":
        from bnlint.facts.builder import build_facts

        return build_facts
    if name in ("CallFact", "Facts"):
        from bnlint.facts import results

        return getattr(results, name)
    raise AttributeError(name)
