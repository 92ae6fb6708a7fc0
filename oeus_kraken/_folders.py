"""Folders for files holding a user's data (token caches, usage stores), made owner-only."""

from __future__ import annotations

from pathlib import Path


def make_private_folders(folder: Path) -> None:
    """`mkdir -p folder`, every folder it creates 0700. `Path.mkdir(parents=True)` gives the
    parents it creates the umask's mode (0777 under umask 000), and whoever can write a folder
    above a store can swap the store's folder for one of theirs."""
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)
