"""The rule registry: every ``bnlNNN_<name>.py`` module in this package holds exactly one rule."""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

from bnlint.rules.base import Rule

_MODULE_PATTERN = re.compile(r"^bnl(\d{3})_[a-z0-9_]+$")


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class, ordered by code, found from the modules of this package."""
    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        match = _MODULE_PATTERN.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rules = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Rule)
            and value is not Rule
            and value.__module__ == module.__name__
        ]
        if len(rules) != 1:
            raise RuntimeError(f"{info.name} must define exactly one rule, found {len(rules)}")
        rule = rules[0]
        if rule.code != f"BNL{match.group(1)}":
            raise RuntimeError(
                f"{info.name} defines {rule.code}; the module name says BNL{match.group(1)}"
            )
        found.append(rule)
    return tuple(sorted(found, key=lambda rule: rule.code))


def rules_by_code() -> dict[str, type[Rule]]:
    """Every rule class keyed by its code."""
    return {rule.code: rule for rule in all_rules()}
