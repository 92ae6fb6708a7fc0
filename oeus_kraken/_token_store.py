"""Keeping tokens between runs (opt-in, `token_store=`), so a command run twice within a token's
lifetime asks the API for one token, not two.

`FileTokenStore(path)` keeps one JSON file, readable by its owner only (0600), replaced
atomically, and changed only under a lock file beside it (`<name>.lock`), so processes sharing
the file never lose each other's entries. One file can serve several accounts: a client hands the
store a fingerprint of its URL and credential (`store_key`), and the file holds only a salted
scrypt hash of that fingerprint, with a random salt of its own. A leaked file therefore names no
credential and cannot be used to test password guesses offline any faster than scrypt allows,
one file at a time.

The file is read only if it is a regular file of ours that no one else can write, of at most
`MAX_STORE_BYTES`, opened without blocking: a FIFO, a device or a symlink to one, a file others
could have put a token in, an oversized file, JSON nested too deeply, or a file in another
format are ignored with a warning and replaced on the next save. A file a later version of
oeus-kraken wrote (a format "oeus-kraken-tokens/<n>" unknown here) is neither read nor written:
two versions share the CLI's default path, and replacing the later one's file would lose its
tokens, its rotated refresh token included. One of ours that others can
only read is used, and made 0600 as it is read (the next save may be an hour away), unless it is
reached through a link (some other file of the user's, not ours to change). A token cache
must never stop the client from working: no method here raises, whatever the file holds or
the disk does; problems are logged (with the store's path, never a token or credential).

The file's shape (format 2):

    {"format": "oeus-kraken-tokens/2", "salt": "<base64, 32 random bytes>",
     "entries": {"<hex scrypt(key, salt)>": {"claims": {...}, "token": "...",
                                             "refresh_token": "..." | null,
                                             "refresh_expires_at": 1767225600.0 | null,
                                             "received_at": 1767200000.0 | null}}}

Format 1 files (keyed by an unsalted SHA-256 of the credential) are migrated the first time
they are read: the reader's own entry is kept under its salted key; the others cannot be re-keyed
without their credentials, so they are dropped (each of those costs one token request later).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._credentials import Credentials
from ._errors import ConfigurationError
from ._folders import expand_home, make_private_folders, xdg_folder

__all__ = [
    "FileTokenStore",
    "StoredTokens",
    "TokenStore",
    "check_token_store",
    "default_token_store_path",
    "fits_a_header",
    "forget_from",
    "load_from",
    "save_to",
]

logger = logging.getLogger("oeus_kraken")

_FORMAT_PREFIX = "oeus-kraken-tokens/"
_VERSION = 2  # of the format this version writes
_FORMAT = f"{_FORMAT_PREFIX}{_VERSION}"
_FORMAT_1 = f"{_FORMAT_PREFIX}1"


def _later_version(found: str) -> bool:
    """Is `found` the format of a file a later version of oeus-kraken wrote ("...tokens/3")?
    Anything else that is not ours (garbage, "...tokens/", "...tokens/x") is replaced."""
    number = found.removeprefix(_FORMAT_PREFIX)
    return (
        found.startswith(_FORMAT_PREFIX)
        and 0 < len(number) <= 9  # (int() refuses thousands of digits: ValueError)
        and number.isascii()
        and number.isdigit()
        and int(number) > _VERSION
    )


# A token file holds a few kilobytes per credential: anything bigger than this is not ours (or is
# hostile) and is ignored rather than read into memory. Saving drops the least recently saved
# entries to stay under it.
MAX_STORE_BYTES = 1_000_000

# How long a save waits for another process to finish its own save before giving up on this one
# (the token is still used in memory). A save holds the lock for a few milliseconds, so only a
# stuck or stopped process makes anyone wait this long.
LOCK_TIMEOUT = 5.0

_SALT_BYTES = 32
_MIN_SALT_BYTES = 16
# scrypt's "interactive" parameters (about 16 MB and 40 ms per hash): costly for someone trying
# guesses against a leaked file, paid by a client once per store file per credential. Fixed by the
# format version, never read from the file, so a hostile file cannot make us hash for hours.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1

_OWNER_ONLY = 0o077  # permission bits that must be clear on the file
# A save's temporary file: this prefix, mkstemp's 8 random characters, "-" and the store's name.
_TEMP_PREFIX = ".tokens-"
# Temporary files of an earlier version (no name after the random part), and the age past which
# no save is still writing one (a save takes milliseconds).
_UNNAMED_TEMP = re.compile(r"\.tokens-[a-z0-9_]{8}")
_ORPHAN_AGE = 600.0
# ... and on the folder, which could swap the file; on the file itself, set, it is not read.
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


@dataclass(frozen=True)
class StoredTokens:
    """What a store keeps for one URL and credential. Secrets stay out of the repr."""

    claims: dict[str, Any]
    token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: float | None = None
    received_at: float | None = None  # when the token arrived, by the local clock


class TokenStore(Protocol):
    """Anything with these two methods can keep tokens (a keyring, a database...).

    `key` is `store_key(url, credentials)`: a SHA-256 fingerprint of the URL and credential. It
    names no secret, but it is unsalted, so a store that keeps keys where others could read them
    should hash them again with a salt of its own, as FileTokenStore does. A store must not raise:
    a token cache that fails should lose tokens, not calls.
    """

    def load(self, key: str) -> StoredTokens | None: ...

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        """Keep `tokens` under `key`; None forgets them."""
        ...


def check_token_store(store: object) -> TokenStore | None:
    """`token_store=`: None, or anything with `load` and `save`. A path given for one (not
    FileTokenStore(path)) kept no token, every call warning that the store failed to load."""
    if store is None or all(callable(getattr(store, name, None)) for name in ("load", "save")):
        return store  # type: ignore[return-value]
    raise ConfigurationError(
        "token_store must be a TokenStore (with load and save), such as FileTokenStore(path), "
        f"got {type(store).__name__}"
    )


def load_from(store: TokenStore, key: str) -> StoredTokens | None:
    """`store.load(key)` for a store of anyone's (a keyring, a database...): a store that raises
    loses its tokens, never the call, and what it returns is used only if it is well-formed
    StoredTokens (the same test a FileTokenStore's entries pass). Logs name the store's type and
    the exception's, never their text, which a store of anyone's may fill with its secrets."""
    try:
        stored = store.load(key)
    except Exception as exc:  # any store's failure: a cache must not fail the call
        logger.warning(
            "token store %s failed to load (%s); ignoring it",
            type(store).__name__,
            type(exc).__name__,
        )
        return None
    if stored is None:
        return None
    checked = _valid_entry(_entry_document(stored)) if isinstance(stored, StoredTokens) else None
    if checked is None:
        logger.warning(
            "token store %s returned a malformed entry (%s); ignoring it",
            type(store).__name__,
            type(stored).__name__,
        )
    return checked


def save_to(store: TokenStore, key: str, tokens: StoredTokens | None) -> None:
    """`store.save(key, tokens)`, never raising: the token is kept in memory meanwhile."""
    try:
        store.save(key, tokens)
    except Exception as exc:  # any store's failure: a cache must not fail the call
        logger.warning(
            "token store %s failed to save (%s); the token is kept in memory only",
            type(store).__name__,
            type(exc).__name__,
        )


def forget_from(store: TokenStore, key: str, token: str) -> None:
    """Forget `key`'s entry if it still holds `token` (one the API rejected), never raising:
    another process sharing the store may have saved a newer token meanwhile, which stays.
    Under the lock in a FileTokenStore; a store of anyone's is read first."""
    if isinstance(store, FileTokenStore):
        store.forget(key, token)
        return
    stored = load_from(store, key)
    if stored is None or stored.token == token:
        save_to(store, key, None)


def store_key(url: str, credentials: Credentials) -> str:
    """A fingerprint of where and as whom a token was obtained (never the secret itself)."""
    parts = [url, type(credentials).__name__, *(str(v) for v in vars(credentials).values())]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def default_token_store_path() -> Path:
    """$XDG_CACHE_HOME/oeus-kraken/tokens.json, or under ~/.cache. A relative XDG_CACHE_HOME is
    ignored (the XDG spec), and a relative HOME counts as unset: either put the tokens under
    the working folder. RuntimeError with no home folder (no HOME, no passwd entry)."""
    cache = xdg_folder("XDG_CACHE_HOME", ".cache")
    if cache is None:
        raise RuntimeError("Could not determine home directory.")
    return cache / "oeus-kraken" / "tokens.json"


@functools.lru_cache(maxsize=64)
def _salted(key: str, salt: bytes) -> str:
    """The name `key` has in a file with this salt. Cached: a client saves each new token under
    the same key, and scrypt is deliberately slow."""
    return hashlib.scrypt(
        key.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    ).hex()


@dataclass(repr=False)  # its entries hold tokens
class _Contents:
    """What a read found. `salt` is None when there is no usable file in format 2."""

    salt: bytes | None = None
    entries: dict[str, Any] = field(default_factory=dict)
    format_1: bool = False
    newer: str | None = None  # the format of a file a later version wrote: not ours to replace


def _entry_document(tokens: StoredTokens) -> dict[str, Any]:
    return {
        "claims": tokens.claims,
        "token": tokens.token,
        "refresh_token": tokens.refresh_token,
        "refresh_expires_at": tokens.refresh_expires_at,
        "received_at": tokens.received_at,
    }


def fits_a_header(token: str) -> bool:
    """Could `token` be sent as the Authorization header? The client refuses a token from the
    API that could not (CR, LF, spaces, non-ASCII); one read from a file must pass the same test,
    or sending it fails in httpx with an error that quotes it, on every call until it expires."""
    return bool(token) and token.isascii() and token.isprintable() and " " not in token


def _valid_entry(entry: object) -> StoredTokens | None:
    if not isinstance(entry, dict):
        return None
    claims, token = entry.get("claims"), entry.get("token")
    refresh_token = entry.get("refresh_token")
    refresh_expires_at = entry.get("refresh_expires_at")
    if not (
        isinstance(claims, dict)
        and isinstance(token, str)
        and fits_a_header(token)
        and (refresh_token is None or isinstance(refresh_token, str))
        and (
            refresh_expires_at is None
            or (
                isinstance(refresh_expires_at, (int, float))
                and not isinstance(refresh_expires_at, bool)
            )
        )
    ):
        return None
    received_at = entry.get("received_at")
    if not isinstance(received_at, (int, float)) or isinstance(received_at, bool):
        received_at = None  # absent (written by an older version) or garbage: not used
    return StoredTokens(claims, token, refresh_token, refresh_expires_at, received_at)


def _others_can_change(info: os.stat_result) -> bool:
    """Can someone else write the file: its group or others, or it is not ours at all?"""
    if os.name == "nt":  # Windows has ACLs, not mode bits or owners
        return False
    return bool(info.st_mode & _OTHERS_WRITE) or info.st_uid != os.geteuid()


def _file_path(path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """`path`, if it can name the store's file. A folder ("", ".", "/", "tokens/") and a NUL
    were taken, and every load or save then raised ValueError (its lock file's name, or the
    NUL), which the clients logged as a failed store on each call, keeping no token: a
    ConfigurationError now, as the client is made, like every other option."""
    text = os.fspath(path)
    if not isinstance(text, str):  # bytes: Path refuses them itself, with a TypeError
        return path
    if "\0" in text:
        raise ConfigurationError(f"FileTokenStore: the path {text!r} holds a NUL character (\\0)")
    name = os.path.basename(text)
    if name in ("", ".", ".."):  # (basename: "" after a trailing separator)
        raise ConfigurationError(
            f"FileTokenStore needs the path of a file, such as "
            f"'~/.cache/oeus-kraken/tokens.json'; {text!r} names a folder"
        )
    return path


class FileTokenStore:
    """Tokens in one owner-only JSON file, shared safely by threads and processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # "~/.cache/..." is the user's home, as in a shell (and as the usage store reads it);
        # with no home folder, a ConfigurationError (it was Path.expanduser's RuntimeError).
        self.path = expand_home(_file_path(path))
        # (os.path.isdir: False when the path cannot be looked at, where Path.is_dir raises a
        # PermissionError; such a store is warned about as it is used, as ever.)
        if os.path.isdir(self.path):
            # A folder that is there already ("~", "~/.cache/oeus-kraken": the folder meant for
            # the file) was taken, and then no token was ever kept: each run warned that the
            # store is not a regular file and could not be written, and left a lock file
            # beside the folder.
            raise ConfigurationError(
                f"FileTokenStore needs the path of a file; {os.fspath(path)!r} is a folder "
                f"({self.path}): give a file in it, such as {str(self.path / 'tokens.json')!r}"
            )
        self._warned_folder_mode = False
        self._warned_file_mode = False
        self._warned_newer = False

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    @property
    def lock_path(self) -> Path:
        """The lock file every save takes (it stays in place, empty, between saves)."""
        return self.path.with_name(self.path.name + ".lock")

    # -- the two methods of TokenStore ------------------------------------------------------

    def load(self, key: str) -> StoredTokens | None:
        contents = self._read()
        if contents.format_1:
            return self._migrate_format_1(key, contents.entries.get(key))
        if contents.salt is None:
            return None
        entry = contents.entries.get(_salted(key, contents.salt))
        if entry is None:
            return None
        tokens = _valid_entry(entry)
        if tokens is None:
            # Wrong types would otherwise surface later, as a crash far from the file.
            logger.warning("token store %s has a malformed entry; ignoring it", self.path)
        return tokens

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        self._update(key, None if tokens is None else _entry_document(tokens))

    def forget(self, key: str, token: str) -> None:
        """Drop `key`'s entry if it holds `token`; one holding another token stays."""
        self._update(key, None, holding=token)

    # -- reading -----------------------------------------------------------------------------

    def _read(self) -> _Contents:
        raw = self._read_bytes()
        if raw is None:
            return _Contents()
        try:
            document = json.loads(raw)  # bytes: not UTF-8 is a ValueError here, like bad JSON
        except ValueError:
            logger.warning("token store %s is not valid JSON; ignoring it", self.path)
            return _Contents()
        except RecursionError:
            logger.warning("token store %s is nested too deeply to read; ignoring it", self.path)
            return _Contents()
        found = document.get("format") if isinstance(document, dict) else None
        if isinstance(found, str) and _later_version(found):
            self._warn_newer(found)
            return _Contents(newer=found)
        if not isinstance(document, dict) or found not in (_FORMAT, _FORMAT_1):
            logger.warning(
                "token store %s is not an oeus-kraken token file; ignoring it", self.path
            )
            return _Contents()
        entries = document.get("entries")
        entries = entries if isinstance(entries, dict) else {}
        if document["format"] == _FORMAT_1:
            return _Contents(entries=entries, format_1=True)
        salt = document.get("salt")
        try:
            salt_bytes = base64.b64decode(salt, validate=True) if isinstance(salt, str) else b""
        except ValueError:  # binascii.Error, or a salt that is not ASCII at all
            salt_bytes = b""
        if len(salt_bytes) < _MIN_SALT_BYTES:
            logger.warning("token store %s has no valid salt; ignoring it", self.path)
            return _Contents()
        return _Contents(salt_bytes, entries)

    def _warn_newer(self, found: str) -> None:
        if self._warned_newer:
            return
        self._warned_newer = True
        logger.warning(
            "token store %s was written by a later version of oeus-kraken (format %r); it is "
            "neither read nor replaced, so each run asks the API for a new token: upgrade "
            "oeus-kraken, or give this one a token store of its own",
            self.path,
            found,
        )

    def _read_bytes(self) -> bytes | None:
        """The file's bytes, or None if there is no file we should read. Opened without blocking
        (a FIFO would otherwise wait for a writer forever) and checked through the open file
        descriptor, so what is checked is what is read, even if the path is swapped meanwhile."""
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        # O_NOCTTY: a terminal device at the path must not become our controlling terminal.
        flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("token store %s unreadable (%s); ignoring it", self.path, exc.strerror)
            return None
        try:
            info = os.fstat(fd)
            self._check_folder_mode()
            if not stat.S_ISREG(info.st_mode):
                logger.warning("token store %s is not a regular file; ignoring it", self.path)
                return None
            if _others_can_change(info):
                logger.warning(
                    "token store %s can be changed by other users (mode %03o, or not yours); "
                    "ignoring it, since a token put there by someone else would be used. It is "
                    "rewritten as yours, readable by you only, on the next save",
                    self.path,
                    stat.S_IMODE(info.st_mode),
                )
                return None
            self._make_owner_only(fd, info)
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_STORE_BYTES:  # st_size could lie (a file still growing)
                chunk = os.read(fd, MAX_STORE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > MAX_STORE_BYTES:
                logger.warning(
                    "token store %s is larger than %d bytes; ignoring it",
                    self.path,
                    MAX_STORE_BYTES,
                )
                return None
            return b"".join(chunks)
        except OSError as exc:
            logger.warning("token store %s unreadable (%s); ignoring it", self.path, exc.strerror)
            return None
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _check_folder_mode(self) -> None:
        if self._warned_folder_mode or os.name == "nt":  # Windows has ACLs, not mode bits
            return
        with contextlib.suppress(OSError):
            if os.stat(self.path.parent).st_mode & _OTHERS_WRITE:
                self._warned_folder_mode = True
                logger.warning(
                    "token store %s is in a folder that other users can write to, so they could "
                    "replace it; keep it in a folder only you can write to (chmod go-w)",
                    self.path,
                )

    def _make_owner_only(self, fd: int, info: os.stat_result) -> None:
        """Others can read the file (they cannot write it: that file is not read at all). It is
        ours, so it is made 0600 now: the next save may be a token's lifetime away. Only if the
        path is that file itself: through a symlink or a second hard link it is some other file
        of the user's (a page, a script), whose mode is not ours to change; the next save
        replaces the link with a file of our own."""
        mode = info.st_mode
        if os.name == "nt" or not mode & _OWNER_ONLY:
            return
        if self._is_the_path_itself(info):
            try:
                os.fchmod(fd, 0o600)
                outcome = "it was made readable by you only (chmod 600)"
            except OSError as exc:
                outcome = f"it could not be made owner-only ({exc.strerror}): chmod 600 it"
        else:
            outcome = "it is a link to another file, so it was not made readable by you only"
        if not self._warned_file_mode:
            self._warned_file_mode = True
            logger.warning(
                "token store %s could be read by other users (mode %03o); %s",
                self.path,
                stat.S_IMODE(mode),
                outcome,
            )

    def _is_the_path_itself(self, info: os.stat_result) -> bool:
        """Is the open file (`info`) the regular file at the path, and its only name?"""
        try:
            here = os.lstat(self.path)
        except OSError:
            return False
        return (
            stat.S_ISREG(here.st_mode)
            and here.st_nlink == 1
            and (here.st_dev, here.st_ino) == (info.st_dev, info.st_ino)
        )

    # -- writing -----------------------------------------------------------------------------

    def _migrate_format_1(self, key: str, entry: object) -> StoredTokens | None:
        tokens = _valid_entry(entry)
        logger.info(
            "token store %s is in the old format (unsalted keys); rewriting it in the new format",
            self.path,
        )
        self._update(key, None if tokens is None else _entry_document(tokens))
        return tokens

    def _update(self, key: str, entry: dict[str, Any] | None, holding: str | None = None) -> None:
        """Set (or with None, drop) `key`'s entry: a read-modify-write under the lock file, so
        concurrent writers each see the other's entries; with `holding`, only an entry holding
        that token. Never raises."""
        try:
            self._check_folder_mode()
            make_private_folders(self.path.parent)
            # Hashed before taking the lock (the hash is cached), so the lock is held for
            # milliseconds, not scrypt's tens of them, and eight processes saving at once do
            # not queue behind each other's hashing. A salt that changed meanwhile is rehashed.
            salt_now = self._read().salt
            if salt_now is not None:
                _salted(key, salt_now)
            with self._locked():
                self._remove_orphans()
                contents = self._read()
                if contents.newer is not None:
                    return  # a later version's file: replacing it would lose its tokens
                salt = contents.salt or secrets.token_bytes(_SALT_BYTES)
                # A format 1 file's other entries are keyed by unsalted hashes: dropped.
                entries = contents.entries if contents.salt is not None else {}
                name = _salted(key, salt)
                held = entries.get(name)
                if holding is not None and isinstance(held, dict) and held.get("token") != holding:
                    return  # another process saved a newer token since: it stays
                entries.pop(name, None)  # re-added last: entries stay in order of saving
                if entry is not None:
                    entries[name] = entry
                body = self._document(salt, entries)
                if body is not None:
                    self._replace(body)
        except TimeoutError:
            logger.warning(
                "could not write token store %s (another process held its lock file %s for "
                "more than %g s)",
                self.path,
                self.lock_path,
                LOCK_TIMEOUT,
            )
        except OSError as exc:
            logger.warning("could not write token store %s (%s)", self.path, exc.strerror)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Imported here: only a save needs it, and `import oeus_kraken` stays quick.
        import filelock

        lock = filelock.FileLock(self.lock_path, timeout=LOCK_TIMEOUT, mode=0o600)
        try:
            lock.acquire()
        except TimeoutError:  # filelock.Timeout: warned about as a lock held too long
            raise
        except OSError as exc:
            # Named, or the warning sends the user to the store file, which is fine (the lock
            # file is a symlink, which filelock does not follow, or is in the way otherwise).
            raise OSError(exc.errno, f"{exc.strerror}: its lock file {self.lock_path}") from exc
        try:
            yield
        finally:
            lock.release()

    def _remove_orphans(self) -> None:
        """Delete the temporary files of saves that never finished: a process killed (SIGKILL,
        a power cut) between writing one and renaming it left it, holding a token and refresh
        token, for good. Called under the lock, which every save of this store holds from
        writing to renaming: any temporary file of its own there now is an orphan. Older ones,
        named before they ended with the store's name (so perhaps another store's, beside this
        one), only once no save could still be writing them."""
        mine = re.compile(rf"{re.escape(_TEMP_PREFIX)}[a-z0-9_]{{8}}-{re.escape(self.path.name)}")
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.path.parent):
                if mine.fullmatch(entry.name) or (
                    _UNNAMED_TEMP.fullmatch(entry.name)
                    and time.time() - entry.stat(follow_symlinks=False).st_mtime > _ORPHAN_AGE
                ):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    def _document(self, salt: bytes, entries: dict[str, Any]) -> bytes | None:
        """The file's new bytes, without the oldest entries if they would not fit the cap."""
        salt_text = base64.b64encode(salt).decode()
        while True:
            try:
                body = json.dumps({"format": _FORMAT, "salt": salt_text, "entries": entries})
            except (TypeError, ValueError):  # claims that JSON cannot carry: not saved
                logger.warning("could not write token store %s (unserialisable token)", self.path)
                return None
            if len(body) <= MAX_STORE_BYTES:  # ASCII (ensure_ascii): characters are bytes
                return body.encode()
            if len(entries) <= 1:
                logger.warning("could not write token store %s (entry too large)", self.path)
                return None
            del entries[next(iter(entries))]

    def _replace(self, body: bytes) -> None:
        # Written under a temporary name with 0600 from the start, then renamed over the old
        # file: readers see the old file or the new one, never half of one. The name ends with
        # the store's, so that its orphans are known as this store's (_remove_orphans).
        fd, temp = tempfile.mkstemp(
            prefix=_TEMP_PREFIX, suffix=f"-{self.path.name}", dir=self.path.parent
        )
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
