"""``python -m bnlint.rules``: regenerate ``catalog.py`` from the rule modules."""

from __future__ import annotations

from pathlib import Path

from bnlint.rules import catalog_source


def main() -> None:
    """Write the catalog next to this module."""
    target = Path(__file__).with_name("catalog.py")
    target.write_text(catalog_source(), encoding="utf-8")
    print(f"wrote {target.name}")


if __name__ == "__main__":
    main()
