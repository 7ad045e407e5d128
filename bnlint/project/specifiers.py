"""Which range of versions a requirement admits: enough to answer "does this spec admit only versions at
or above X" and "only below X".

PEP 440 specifiers and versions are read by ``packaging`` (imported on first use); Poetry's forms
(``^``, ``~``, bare versions, ``*``) are first written as the PEP 440 clauses they stand for. Versions
are compared by their release numbers: a pre-release belongs to its release (``keras>=3.0.0rc1`` is
Keras 3), and an upper bound that is a post-release or has a local label admits its release
(``tensorflow<2.16.0.post1`` admits 2.16.0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

Release = tuple[int, ...]

#: How Poetry separates clauses: commas, or spaces before an operator (``>=2.16 <2.19``).
_POETRY_CLAUSES = re.compile(r",|\s+(?=[<>=!~^])")
_POETRY_CLAUSE = re.compile(r"^(?P<op>===|==|!=|~=|>=|<=|>|<|\^|~|=)?\s*(?P<version>\S+)$")


def _normal(release: Release) -> Release:
    """Trailing zeros dropped, so that 3 == 3.0 == 3.0.0."""
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def _bump(release: Release, index: int) -> Release:
    """The first release after every ``release[:index + 1].*`` (``_bump((2, 15, 1), 1) == (2, 16)``)."""
    return (*release[:index], release[index] + 1)


@dataclass(frozen=True)
class Bound:
    """One end of a range; ``release`` None means unbounded."""

    release: Optional[Release]
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
        if self.low.release is None or self.high.release is None:
            return False
        low, high = _normal(self.low.release), _normal(self.high.release)
        return low > high or (low == high and not (self.low.inclusive and self.high.inclusive))

    def only_at_least(self, release: Release) -> bool:
        """Whether every admitted version is ``>= release``."""
        if self.empty or self.low.release is None:
            return False
        return _normal(self.low.release) >= _normal(release)

    def only_below(self, release: Release) -> bool:
        """Whether every admitted version is ``< release``."""
        if self.empty or self.high.release is None:
            return False
        high, limit = _normal(self.high.release), _normal(release)
        return high < limit or (high == limit and not self.high.inclusive)


def _tighter(first: Bound, second: Bound, low: bool) -> Bound:
    if first.release is None:
        return second
    if second.release is None:
        return first
    a, b = _normal(first.release), _normal(second.release)
    if a == b:
        return Bound(first.release, first.inclusive and second.inclusive)
    return first if (a > b) == low else second


def _release(version: str) -> Optional[Release]:
    """The release numbers of a PEP 440 version (``packaging`` reads it), or None."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release
    except InvalidVersion:
        return None


def _has_post_or_local(version: str) -> bool:
    """Whether a version is a post-release or carries a local label (it comes after its release)."""
    from packaging.version import Version

    parsed = Version(version)
    return parsed.post is not None or parsed.local is not None


def _clause_range(operator: str, version: str) -> Optional[VersionRange]:
    """The range of one PEP 440 clause, or None when it cannot be interpreted."""
    if operator == "!=":
        return VersionRange()
    wildcard = version.endswith(".*")
    release = _release(version[:-2] if wildcard else version)
    if release is None:
        return None
    if wildcard:  # "==2.15.*": from 2.15 up to 2.16
        return VersionRange(Bound(release, True), Bound(_bump(release, len(release) - 1), False))
    if operator in ("==", "==="):
        return VersionRange(Bound(release, True), Bound(release, True))
    if operator in (">=", ">"):
        return VersionRange(low=Bound(release, operator == ">="))
    if operator in ("<=", "<"):
        # "<2.16.post1" admits 2.16 itself; "<3.0rc1" only what comes before Keras 3.
        admits_release = operator == "<=" or _has_post_or_local(version)
        return VersionRange(high=Bound(release, admits_release))
    if operator == "~=":  # "~=3.1": from 3.1 up to 4; "~=2.15.1": up to 2.16
        return VersionRange(Bound(release, True), Bound(_bump(release, len(release) - 2), False))
    return None


def specifier_range(specifiers: SpecifierSet) -> Optional[VersionRange]:
    """The range a parsed PEP 440 specifier set admits (all its clauses at once), or None when a
    clause cannot be interpreted."""
    result = VersionRange()
    for specifier in specifiers:
        clause = _clause_range(specifier.operator, specifier.version)
        if clause is None:
            return None
        result = result.intersect(clause)
    return result


def _poetry_clause(clause: str) -> Optional[str]:
    """A Poetry clause as PEP 440 clauses: ``^1.2`` is ``>=1.2,<2``, ``~1.2`` is ``>=1.2,<1.3``, a
    bare version is exact, ``*`` admits everything (an empty text)."""
    if clause == "*":
        return ""
    match = _POETRY_CLAUSE.match(clause.replace(" ", ""))
    if match is None:
        return None
    operator, version = match.group("op") or "==", match.group("version")
    if operator == "=":
        return f"=={version}"
    if operator not in ("^", "~"):
        return f"{operator}{version}"
    release = _release(version)
    if release is None:
        return None
    if operator == "^":  # up to the next change of the first non-zero component
        index = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
    else:  # ~1.2.3 and ~1.2 allow patch changes, ~1 minor ones
        index = 1 if len(release) >= 2 else 0
    upper = ".".join(str(part) for part in _bump(release, index))
    return f">={version},<{upper}"


def parse_specifier(text: str, poetry: bool = False) -> Optional[VersionRange]:
    """The range a comma-joined specifier admits; an empty text admits everything. None when a clause
    cannot be read (a URL, an ``||`` alternative, a marker left in).

    ``poetry`` also reads Poetry's forms: ``^1.2``, ``~1.2``, ``*``, a bare version (exact).
    """
    text = text.strip()
    if "|" in text:
        return None
    if poetry:
        clauses = [_poetry_clause(c.strip()) for c in _POETRY_CLAUSES.split(text) if c.strip()]
        if None in clauses:
            return None
        text = ",".join(clause for clause in clauses if clause)
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifiers = SpecifierSet(text)
    except InvalidSpecifier:
        return None
    return specifier_range(specifiers)
