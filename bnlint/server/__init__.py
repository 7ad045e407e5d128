"""``bnlint server``: a language server on standard input and output, for editors.

It needs the ``server`` extra (``pip install 'bnlint[server]'``, which brings pygls); without it,
:func:`missing_extra` says how to install it. The modules below this package import pygls, so import
them only after checking.
"""

from __future__ import annotations

import sys
from typing import Optional

INSTALL_HINT = "bnlint server needs the language server extra: pip install 'bnlint[server]'"


def missing_extra() -> Optional[str]:
    """Why the language server cannot run here (pygls 2 is missing), or None when it can."""
    try:
        from pygls.lsp.server import LanguageServer  # noqa: F401  (pygls 2's place)
    except ImportError as error:
        return f"{INSTALL_HINT} ({error})"
    return None


def serve_stdio() -> None:
    """Serve the protocol on standard input and output until the client says exit.

    Standard output carries the protocol only: whatever else would print there goes to standard
    error, where editors show it in the server's log.
    """
    import logging

    from bnlint.server.handlers import create_server

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="bnlint: %(message)s")
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    create_server().start_io(sys.stdin.buffer, protocol_out)
