"""Writing a user's usage to files: owner-only, and whole or not at all.

Usage shows when someone is home, so every file an export or chart writes is 0600 and every
folder 0700, like the store itself. A file is written under a temporary name beside its
target and renamed into place once complete; a folder (a Parquet dataset) is built in a
temporary folder beside its target and swapped in whole. A failure, or Ctrl-C, leaves the
target as it was and no temporary behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._errors import UsageStoreError

__all__ = ["OWNER_DIRECTORY", "OWNER_FILE", "owner_only", "replaced_file", "replaced_folder"]

OWNER_FILE = 0o600
OWNER_DIRECTORY = 0o700


def owner_only(path: Path) -> None:
    """Make a file written by a library that follows the umask (pyarrow, matplotlib) 0600."""
    os.chmod(path, OWNER_FILE)


@contextlib.contextmanager
def replaced_file(path: Path) -> Iterator[Path]:
    """A temporary path (0600) beside `path` to write; renamed to `path` once the block ends
    without an error, removed otherwise. A failed write (a full disk) is a UsageStoreError.

    A symlink at `path` stays: the file it points to is the one replaced. A named pipe or a
    device there (/dev/stdout) cannot be replaced by a file: it is written into, as given."""
    target = Path(os.path.realpath(path))
    if target.is_dir():  # found before the work, not by the rename after it
        raise UsageStoreError(f"cannot write {path}: it is a folder; give a file name", path=path)
    if target.exists() and not target.is_file():
        with _write_errors(path):
            yield target
        return
    _refuse_read_only(path, target)
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    except OSError as exc:
        raise _cannot_write(path, target.parent, exc) from exc
    os.close(fd)
    temporary = Path(name)
    try:
        with _write_errors(path):
            yield temporary
            owner_only(temporary)
            os.replace(temporary, target)  # fails e.g. for a folder made there meanwhile
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _refuse_read_only(path: Path, target: Path) -> None:
    """A file made read-only is kept: the rename into a writable folder would replace it all the
    same, where writing into it is refused. (Both checks: root may write whatever the mode, and
    the mode alone misses ACLs.)"""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise UsageStoreError(
            f"cannot write {path}: it is read-only, so it is left as it is; make it writable to "
            "replace it, or give another name",
            path=path,
        )


def _cannot_write(path: Path, folder: Path, exc: OSError) -> UsageStoreError:
    """Why nothing could be made beside `path`, in `folder`: the OS's "No such file or
    directory" does not say that the missing one is the folder."""
    reason = exc.strerror
    if exc.errno == errno.ENOENT and not folder.is_dir():
        reason = f"the folder {folder} does not exist; make it first, or give another path"
    return UsageStoreError(f"cannot write {path}: {reason}", path=path)


@contextlib.contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    """An OSError in the block (a full disk, a file too large, a reader gone) as the
    UsageStoreError that says which file could not be written."""
    try:
        yield
    except OSError as exc:
        raise UsageStoreError(f"cannot write {path}: {exc.strerror or exc}", path=path) from exc


@contextlib.contextmanager
def replaced_folder(path: Path) -> Iterator[Path]:
    """A temporary folder (0700) beside `path` to fill; it takes `path`'s place whole once the
    block ends without an error (an earlier `path` is then deleted), removed otherwise. The
    caller decides beforehand whether an existing `path` may be replaced."""
    try:
        temporary = Path(
            tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        )
    except OSError as exc:
        raise _cannot_write(path, path.parent, exc) from exc
    try:
        yield temporary
        _swap_in(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _swap_in(new: Path, path: Path) -> None:
    if not path.exists():
        os.rename(new, path)
        return
    old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
    os.rmdir(old)
    os.rename(path, old)
    try:
        os.rename(new, path)
    except BaseException:
        os.rename(old, path)  # the earlier export back where it was
        raise
    shutil.rmtree(old, ignore_errors=True)
