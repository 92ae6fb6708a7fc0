"""Folders for files holding a user's data (token caches, usage stores), made owner-only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ._errors import ConfigurationError


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


def home_folder() -> Path | None:
    """The user's home folder, or None when there is none to use.

    A relative HOME counts as unset, and then the passwd entry is asked, as platformdirs does:
    `Path.home()` returns a relative HOME as it is, and `~/.local/share` became
    `./HOME/.local/share` under whatever folder a program ran in. None too for a uid with no
    passwd entry and no HOME (a container run as an arbitrary user), where it raises."""
    if sys.platform == "win32":  # USERPROFILE, not HOME
        try:
            home = Path.home()
        except RuntimeError:
            return None
        return home if home.is_absolute() else None
    home_text = os.environ.get("HOME", "")
    if not os.path.isabs(home_text):
        try:
            import pwd

            home_text = pwd.getpwuid(os.getuid()).pw_dir
        except (ImportError, KeyError):  # no pwd module (WASI), or no entry for this uid
            return None
    return Path(home_text) if os.path.isabs(home_text) else None


def xdg_folder(variable: str, default: str) -> Path | None:
    """$variable when it is an absolute path, else `default` under the home folder (None with
    no home folder). The XDG spec: a relative path "should be considered invalid and ignored"."""
    value = os.environ.get(variable, "")
    if os.path.isabs(value):
        return Path(value)
    home = home_folder()
    return None if home is None else home / default


def expand_home(path: str | os.PathLike[str]) -> Path:
    """`Path(path).expanduser()`, and a ConfigurationError saying what to give where it raised
    a bare RuntimeError: a `~` path with no home folder to expand it to (no HOME, and a uid
    with no passwd entry, as in a container run as an arbitrary user). A NUL character, which
    no file name holds, is a ConfigurationError too: the OS call was a bare ValueError."""
    if "\0" in os.fspath(path):
        raise ConfigurationError(f"the path {os.fspath(path)!r} holds a NUL character (\\0)")
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise ConfigurationError(
            f"{os.fspath(path)!r} starts with ~, and there is no home folder to expand it to: "
            "give the whole path"
        ) from None
