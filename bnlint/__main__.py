"""Entry point for ``python -m bnlint``."""

from bnlint.cli import main

if __name__ == "__main__":
    main()
