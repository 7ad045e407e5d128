"""Writing fixed content back without losing anything: not another program's edit, not a hard link, not
the file's owner, mode or extended attributes.

The file is read again first: when it no longer holds what bnlint read (an editor or another tool wrote
it meanwhile), it is left alone. Then, when a new file can carry everything the old one has (one link,
the same owner and group, the same extended attributes, a writable folder), the content goes to a new
file in the same folder, which is synced and renamed over the old one: a crash leaves the old content or
the new, never a mix. Otherwise (a hard-linked file, a file owned by someone else, attributes a new file
cannot take), the file is rewritten in place, as editors do: its old content is first saved to a copy
beside it, removed once the new content is on disk; if writing fails, the old content is written back.
A symbolic link is followed: the file it points to is written, the link stays a link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import NoReturn, Optional

_BINARY = getattr(os, "O_BINARY", 0)


class FileChanged(Exception):
    """The file no longer holds what bnlint read: another program wrote it meanwhile."""

    def __init__(self) -> None:
        super().__init__(
            "the file changed on disk after bnlint read it (another program wrote it meanwhile), "
            "so it was left as it is; run bnlint again"
        )


class WriteFailed(Exception):
    """The content could not be written; the message says why and what the file now holds."""


def replace_contents(path: Path, expected: bytes, data: bytes) -> None:
    """Write ``data`` to ``path`` if the file still holds ``expected``.

    Raises FileChanged when it does not (nothing is written), WriteFailed when writing fails (the
    message says whether the file is unchanged).
    """
    target = Path(os.path.realpath(path))
    try:
        if not _holds(target, expected):
            raise FileChanged()
        status = os.stat(target)
        if not os.access(target, os.W_OK):
            raise WriteFailed("cannot write the fixes: the file is read-only; it is unchanged")
        if status.st_nlink == 1 and _replace_by_rename(target, status, expected, data):
            return
        _rewrite_in_place(target, expected, data)
    except OSError as error:
        raise WriteFailed(
            f"cannot write the fixes ({_describe(error)}); the file is unchanged"
        ) from error


def _replace_by_rename(target: Path, status: os.stat_result, expected: bytes, data: bytes) -> bool:
    """Replace ``target`` by a new file holding ``data``; False (nothing done) when a new file cannot
    carry the old one's owner, group or extended attributes, or cannot be created in its folder."""
    try:
        handle, temporary = _new_file_beside(target, ".bnlint")
    except PermissionError:
        return False
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if not _carry_metadata(stream.fileno(), temporary, target, status):
                _remove(temporary)
                return False
            os.fsync(stream.fileno())
        if not _holds(target, expected):  # the last look before the rename
            raise FileChanged()
        os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise
    _sync_folder(target.parent)
    return True


def _carry_metadata(handle: int, temporary: str, target: Path, status: os.stat_result) -> bool:
    """Give the new file the old one's owner, group, mode and extended attributes; False when the
    platform refuses one of them (the file is then rewritten in place instead)."""
    if hasattr(os, "fchown"):
        mine = os.fstat(handle)
        if (mine.st_uid, mine.st_gid) != (status.st_uid, status.st_gid):
            try:
                os.fchown(handle, status.st_uid, status.st_gid)
            except PermissionError:
                return False
    os.chmod(temporary, stat.S_IMODE(status.st_mode))  # after chown, which may clear set-id bits
    return _copy_extended_attributes(target, handle)


def _copy_extended_attributes(source: Path, handle: int) -> bool:
    """Make the open file's extended attributes (ACLs, SELinux labels, user.*) those of ``source``;
    False when one cannot be set or removed."""
    if not hasattr(os, "listxattr"):
        return True
    try:
        wanted = {name: os.getxattr(source, name) for name in os.listxattr(source)}
        present = {name: os.getxattr(handle, name) for name in os.listxattr(handle)}
    except OSError as error:
        if error.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return True  # a file system without extended attributes
        raise
    try:
        for name in present.keys() - wanted.keys():
            os.removexattr(handle, name)
        for name, value in wanted.items():
            if present.get(name) != value:
                os.setxattr(handle, name, value)
    except OSError:
        return False
    return True


def _rewrite_in_place(target: Path, expected: bytes, data: bytes) -> None:
    """Overwrite the file itself (its inode keeps links, owner, mode and attributes), with its old
    content saved beside it until the new content is on disk."""
    handle = os.open(target, os.O_RDWR | _BINARY)
    try:
        if _read_handle(handle) != expected:
            raise FileChanged()
        backup = _save_backup(target, expected)
        try:
            _overwrite(handle, data)
        except OSError as error:
            _write_back(handle, expected, backup, error)
        if backup is not None:
            _remove(backup)
    finally:
        os.close(handle)


def _write_back(handle: int, expected: bytes, backup: Optional[str], error: OSError) -> NoReturn:
    """After a failed overwrite, put the old content back and say what happened."""
    cause = _describe(error)
    try:
        _overwrite(handle, expected)
    except OSError:
        where = f"; its old content is saved in {backup}" if backup else ""
        raise WriteFailed(
            f"cannot write the fixes ({cause}), and the old content could not be written back "
            f"either{where}"
        ) from error
    if backup is not None:
        _remove(backup)
    raise WriteFailed(f"cannot write the fixes ({cause}); the file is unchanged") from error


def _overwrite(handle: int, data: bytes) -> None:
    os.lseek(handle, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        view = view[written:]
    os.ftruncate(handle, len(data))
    os.fsync(handle)


def _save_backup(target: Path, content: bytes) -> Optional[str]:
    """A copy of ``content`` beside ``target`` (synced), or None when the folder does not allow one."""
    try:
        handle, backup = _new_file_beside(target, ".bnlint-backup")
    except OSError:
        return None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError:
        _remove(backup)
        return None
    return backup


def _new_file_beside(target: Path, suffix: str) -> tuple[int, str]:
    """A new hidden file in ``target``'s folder, named after it: (open descriptor, path)."""
    return tempfile.mkstemp(dir=str(target.parent), prefix=f".{target.name}.", suffix=suffix)


def _holds(path: Path, expected: bytes) -> bool:
    """Whether the file holds ``expected`` (a file deleted meanwhile does not)."""
    try:
        return _read(path) == expected
    except FileNotFoundError:
        return False


def _read(path: Path) -> bytes:
    handle = os.open(path, os.O_RDONLY | _BINARY)
    try:
        return _read_handle(handle)
    finally:
        os.close(handle)


def _read_handle(handle: int) -> bytes:
    os.lseek(handle, 0, os.SEEK_SET)
    chunks = []
    while True:
        chunk = os.read(handle, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (a folder cannot be opened, or synced, everywhere)."""
    with contextlib.suppress(OSError, AttributeError):
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _describe(error: OSError) -> str:
    return error.strerror or str(error)
