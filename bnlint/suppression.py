"""``# noqa`` comments: on the reported line (``# noqa`` / ``# noqa: BNL001, BNL002``) or file-wide
(``# bnlint: noqa`` / ``# bnlint: noqa: BNL001``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_CODES = r"(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)"
_LINE_NOQA = re.compile(r"#\s*noqa(?::\s*" + _CODES + r")?", re.IGNORECASE)
_FILE_NOQA = re.compile(r"#\s*bnlint\s*:\s*noqa(?::\s*" + _CODES + r")?", re.IGNORECASE)
_SPLIT = re.compile(r"[\s,]+")


def _codes(match: re.Match[str]) -> Optional[frozenset[str]]:
    codes = match.group("codes")
    return frozenset(c.upper() for c in _SPLIT.split(codes.strip())) if codes else None


@dataclass(frozen=True)
class Suppressions:
    """Which diagnostics a file's comments silence."""

    file_all: bool
    file_codes: frozenset[str]
    lines: dict[int, Optional[frozenset[str]]]

    def suppresses(self, code: str, rows: tuple[int, ...]) -> bool:
        """Whether ``code`` reported on any of ``rows`` is silenced."""
        if self.file_all or code in self.file_codes:
            return True
        for row in rows:
            if row in self.lines:
                codes = self.lines[row]
                if codes is None or code in codes:
                    return True
        return False


def find_suppressions(lines: list[str]) -> Suppressions:
    """Scan source lines for noqa comments (cheap: only lines containing 'noqa' are matched)."""
    file_all = False
    file_codes: set[str] = set()
    by_line: dict[int, Optional[frozenset[str]]] = {}
    for number, line in enumerate(lines, start=1):
        if "noqa" not in line.lower() or "#" not in line:
            continue
        file_match = _FILE_NOQA.search(line)
        if file_match:
            codes = _codes(file_match)
            if codes is None:
                file_all = True
            else:
                file_codes.update(codes)
            continue
        line_match = _LINE_NOQA.search(line)
        if line_match:
            by_line[number] = _codes(line_match)
    return Suppressions(file_all, frozenset(file_codes), by_line)


def with_noqa(line: str, code: str) -> str:
    """``line`` (without its line break) with ``code`` silenced by its ``# noqa`` comment: added to the
    codes of the comment it has, or a new ``  # noqa: CODE`` at its end. A line whose bare ``# noqa``
    already silences everything, or whose comment names the code, is returned unchanged."""
    match = _LINE_NOQA.search(line) if not _FILE_NOQA.search(line) else None
    if match is None:
        return f"{line.rstrip()}  # noqa: {code}"
    codes = _codes(match)
    if codes is None or code in codes:
        return line
    end = match.end("codes")
    return f"{line[:end]}, {code}{line[end:]}"
