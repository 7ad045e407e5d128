"""A small interpreter of version specifiers: which range of versions a requirement admits.

Enough of PEP 440 (``==``, ``===``, ``!=``, ``>=``, ``>``, ``<=``, ``<``, ``~=``, ``.*`` wildcards, comma-joined
clauses) and of Poetry (``^``, ``~``, bare versions, ``*``) to answer "does this spec admit only versions
at or above X" and "only below X". Pre-release, post-release and local labels are ignored: they never move
a version across the major or minor boundaries asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

Version = tuple[int, ...]

_VERSION = re.compile(
    r"^v?(?:\d+!)?(?P<release>\d+(?:\.\d+)*)(?P<wildcard>\.\*)?(?P<rest>[-_.+a-z0-9]*)$"
)
_CLAUSE = re.compile(r"^(?P<op>===|==|!=|~=|>=|<=|>|<|\^|~|=)?\s*(?P<version>\S+)$")


def parse_version(text: str) -> Optional[tuple[Version, bool]]:
    """(release numbers, whether it ends in ``.*``), or None when it is not a version."""
    match = _VERSION.match(text.strip().lower())
    if match is None:
        return None
    release = tuple(int(part) for part in match.group("release").split("."))
    wildcard = match.group("wildcard") is not None
    if wildcard and match.group("rest"):
        return None
    return release, wildcard


def _normal(version: Version) -> Version:
    """Trailing zeros dropped, so that 3 == 3.0 == 3.0.0."""
    end = len(version)
    while end > 1 and version[end - 1] == 0:
        end -= 1
    return version[:end]


def _bump(version: Version, index: int) -> Version:
    """The first version after every ``version[:index + 1].*`` (``_bump((2, 15, 1), 1) == (2, 16)``)."""
    return (*version[:index], version[index] + 1)


@dataclass(frozen=True)
class Bound:
    """One end of a range; ``version`` None means unbounded."""

    version: Optional[Version]
    inclusive: bool


@dataclass(frozen=True)
class VersionRange:
    """The versions a specifier admits, as one interval (``!=`` clauses are ignored: they only punch
    holes, which never make a spec admit fewer major versions than its bounds say)."""

    low: Bound = Bound(None, False)
    high: Bound = Bound(None, False)

    def intersect(self, other: VersionRange) -> VersionRange:
        """The versions both ranges admit."""
        return VersionRange(
            _tighter(self.low, other.low, low=True), _tighter(self.high, other.high, low=False)
        )

    @property
    def empty(self) -> bool:
        """Whether no version is admitted (a contradictory spec)."""
        if self.low.version is None or self.high.version is None:
            return False
        low, high = _normal(self.low.version), _normal(self.high.version)
        return low > high or (low == high and not (self.low.inclusive and self.high.inclusive))

    def only_at_least(self, version: Version) -> bool:
        """Whether every admitted version is ``>= version``."""
        if self.empty or self.low.version is None:
            return False
        return _normal(self.low.version) >= _normal(version)

    def only_below(self, version: Version) -> bool:
        """Whether every admitted version is ``< version``."""
        if self.empty or self.high.version is None:
            return False
        high, limit = _normal(self.high.version), _normal(version)
        return high < limit or (high == limit and not self.high.inclusive)


def _tighter(first: Bound, second: Bound, low: bool) -> Bound:
    if first.version is None:
        return second
    if second.version is None:
        return first
    a, b = _normal(first.version), _normal(second.version)
    if a == b:
        return Bound(first.version, first.inclusive and second.inclusive)
    return first if (a > b) == low else second


def _clause_range(op: str, version: Version, wildcard: bool) -> Optional[VersionRange]:
    """The range of one clause, or None when it cannot be interpreted."""
    if wildcard:
        if op not in ("==", "!=", "="):
            return None
        if op == "!=":
            return VersionRange()
        return VersionRange(Bound(version, True), Bound(_bump(version, len(version) - 1), False))
    if op in ("==", "===", "="):
        return VersionRange(Bound(version, True), Bound(version, True))
    if op == "!=":
        return VersionRange()
    if op == ">=":
        return VersionRange(low=Bound(version, True))
    if op == ">":
        return VersionRange(low=Bound(version, False))
    if op == "<=":
        return VersionRange(high=Bound(version, True))
    if op == "<":
        return VersionRange(high=Bound(version, False))
    if op == "~=":
        if len(version) < 2:
            return None
        return VersionRange(Bound(version, True), Bound(_bump(version, len(version) - 2), False))
    if op == "^":  # Poetry: up to the next change of the first non-zero component
        index = next((i for i, part in enumerate(version) if part != 0), len(version) - 1)
        return VersionRange(Bound(version, True), Bound(_bump(version, index), False))
    if op == "~":  # Poetry: ~1.2.3 and ~1.2 allow patch changes, ~1 minor ones
        index = 1 if len(version) >= 2 else 0
        return VersionRange(Bound(version, True), Bound(_bump(version, index), False))
    return None


def parse_specifier(text: str, poetry: bool = False) -> Optional[VersionRange]:
    """The range a comma-joined specifier admits; an empty text admits everything. None when a clause
    cannot be read (a URL, an ``||`` alternative, a marker left in).

    ``poetry`` also reads Poetry's forms: ``^1.2``, ``~1.2``, ``*``, a bare version (exact).
    """
    text = text.strip()
    if "|" in text:
        return None
    result = VersionRange()
    clauses = re.split(r",|\s+(?=[<>=!~^])", text) if poetry else text.split(",")
    for raw in clauses:
        clause = raw.strip()
        if not clause or (poetry and clause == "*"):
            continue
        match = _CLAUSE.match(clause.replace(" ", ""))
        if match is None:
            return None
        op = match.group("op") or ("==" if poetry else "")
        if not op or (op in ("^", "~", "=") and not poetry):
            return None
        parsed = parse_version(match.group("version"))
        if parsed is None:
            return None
        clause_range = _clause_range(op, *parsed)
        if clause_range is None:
            return None
        result = result.intersect(clause_range)
    return result
