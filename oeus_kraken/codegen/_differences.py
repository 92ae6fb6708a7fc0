"""What `oeus-kraken codegen --check` shows: how the package on disk differs from a fresh run.

A unified diff per text file, a line for a file that is not text, and a line for a folder
holding nothing; Python's byte-code caches are not compared. Whatever is in the folder (a
subfolder, a binary file of someone's) is shown, never a reason to fail.
"""

from __future__ import annotations

import difflib
from pathlib import Path

__all__ = ["differences"]


def differences(expected: Path, actual: Path) -> list[str]:
    """The lines of a diff from `actual` (on disk, maybe missing) to `expected` (fresh)."""
    want, have = _contents(expected), _contents(actual)
    lines: list[str] = []
    for name in sorted(want.keys() | have.keys()):
        before, after = have.get(name), want.get(name)
        if before == after:
            continue
        if name.endswith("/"):
            lines.append(f"Only in {actual.name}: {name}\n")
        elif not (before or after):
            # An empty file on one side only (py.typed deleted, an empty module added): a unified
            # diff of no lines is empty, and the check passed; before, it did.
            lines.append(f"Only in {'regenerated' if before is None else actual.name}: {name}\n")
        elif _is_text(before) and _is_text(after):
            lines += difflib.unified_diff(
                _lines(before), _lines(after), f"{actual.name}/{name}", f"regenerated/{name}"
            )
        else:
            lines.append(f"Binary files {actual.name}/{name} and regenerated/{name} differ\n")
    return lines


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its path there (and each folder holding nothing, by its
    path and a /), as bytes; empty if `folder` is not a folder."""
    if not folder.is_dir() or folder.is_symlink():
        return {}
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if "__pycache__" in relative.parts:
            continue
        if path.is_dir() and not path.is_symlink():
            if _bare(path):
                found[relative.as_posix() + "/"] = b""
            continue
        try:
            found[relative.as_posix()] = path.read_bytes()
        except OSError as exc:
            found[relative.as_posix()] = f"(cannot be read: {exc.strerror})\n".encode()
    return found


def _bare(folder: Path) -> bool:
    try:
        return next(folder.iterdir(), None) is None
    except OSError:  # cannot be listed: shown as if empty
        return True


def _is_text(content: bytes | None) -> bool:
    try:
        (content or b"").decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _lines(content: bytes | None) -> list[str]:
    return (content or b"").decode("utf-8").splitlines(keepends=True)
