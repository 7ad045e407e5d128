"""The rules reference page, generated from the rules' own documentation.

``python -m bnlint.docs`` writes ``docs/rules.md``; ``python -m bnlint.docs --check`` exits 1 when the
file is out of date. Each rule's section is headed ``BNLnnn: name`` so that its anchor is the one in
:meth:`Rule.url`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

DEFAULT_OUTPUT = Path("docs") / "rules.md"


def heading(rule: type) -> str:
    """A rule's section heading; GitHub derives the anchor of :meth:`Rule.url` from it."""
    return f"{rule.code}: {rule.name}"  # type: ignore[attr-defined]


def anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def _demote(markdown: str) -> str:
    """Move every heading of a rule's documentation one level down, leaving code blocks alone."""
    lines = []
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            line = "#" + line
        lines.append(line)
    return "\n".join(lines)


def _section(rule: type) -> str:
    body = rule.documentation()  # type: ignore[attr-defined]
    _title, _, rest = body.partition("\n")
    return f"## {heading(rule)}\n{_demote(rest).rstrip()}\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown(rules: Optional[Sequence[type]] = None) -> str:
    """The text of ``docs/rules.md`` for ``rules`` (default: every rule of the registry)."""
    if rules is None:
        from bnlint.rules import all_rules

        rules = all_rules()
    table = [
        "| Code | Name | Severity | Fix | Summary |",
        "|------|------|----------|-----|---------|",
    ]
    for rule in rules:
        fixable = rule.fixable.value if rule.fixable is not None else "—"  # type: ignore[attr-defined]
        table.append(
            f"| [{rule.code}](#{anchor(heading(rule))}) | {rule.name} "  # type: ignore[attr-defined]
            f"| {rule.severity.value} | {fixable} | {_cell(rule.summary)} |"  # type: ignore[attr-defined]
        )
    intro = (
        "# Rules\n\n"
        "<!-- Generated from the rules' own documentation by `python -m bnlint.docs`; "
        "do not edit by hand. -->\n\n"
        f"bnlint has {len(rules)} rules. `bnlint rule CODE` prints the same documentation in the "
        "terminal, `bnlint rule --all` all of it. Fixes marked *safe* are applied by `--fix`; "
        "*unsafe* ones need `--unsafe-fixes` too. Files that cannot be read or parsed are reported "
        "as `BNL000` (parse-error).\n"
    )
    sections = "\n".join(_section(rule) for rule in rules)
    return f"{intro}\n" + "\n".join(table) + "\n\n" + sections


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write the rules page, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(
        prog="python -m bnlint.docs", description="Generate the rules reference page."
    )
    parser.add_argument(
        "output", nargs="?", type=Path, default=DEFAULT_OUTPUT, help="default: docs/rules.md"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file is not up to date; write nothing"
    )
    args = parser.parse_args(argv)
    text = rules_markdown()
    output: Path = args.output
    current = output.read_text(encoding="utf-8") if output.is_file() else None
    if args.check:
        if current != text:
            print(f"{output} is out of date: run `python -m bnlint.docs`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
