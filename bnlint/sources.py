"""Loading sources with their exact encoding, and writing fixed text back atomically."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

_UTF8_BOM = b"\xef\xbb\xbf"


class SourceError(Exception):
    """A file that cannot be read or decoded; reported as a diagnostic, never a crash."""


@dataclass(frozen=True)
class PythonSource:
    """A decoded ``.py`` file and what it takes to write it back byte for byte."""

    text: str
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        """Bytes for ``text`` in this file's encoding (BOM kept)."""
        data = text.encode(self.encoding)
        return (_UTF8_BOM + data) if self.bom else data


def decode_python(data: bytes) -> PythonSource:
    """Decode Python source bytes as CPython would: BOM, then a PEP 263 coding cookie, else UTF-8."""
    bom = data.startswith(_UTF8_BOM)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise SourceError(f"cannot decode: {error}") from error
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[len(_UTF8_BOM) :] if bom else data
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise SourceError(f"cannot decode as {encoding}: {error}") from error
    return PythonSource(text=text, encoding=encoding, bom=bom)


def read_python(path: Path) -> PythonSource:
    """Read and decode a ``.py`` file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from error
    return decode_python(data)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` via a temporary file in the same folder; the file mode is kept."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(
        dir=str(path.parent), prefix=f".{path.name}.", suffix=".bnlint"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
