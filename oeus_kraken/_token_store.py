"""Keeping tokens between runs (opt-in, `token_store=`), so a command run twice within a token's
lifetime asks the API for one token, not two.

`FileTokenStore(path)` keeps one JSON file, readable by its owner only (0600), replaced
atomically. Entries are keyed by a SHA-256 fingerprint of the URL and credential, so one file can
serve several accounts and a token is never used with credentials it was not issued for. A
corrupt or unrecognised file is ignored with a warning and rewritten on the next save: a token
cache must never stop the client from working.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._credentials import Credentials

__all__ = ["FileTokenStore", "StoredTokens", "TokenStore", "default_token_store_path"]

logger = logging.getLogger("oeus_kraken")

_FORMAT = "oeus-kraken-tokens/1"


@dataclass(frozen=True)
class StoredTokens:
    """What a store keeps for one URL and credential. Secrets stay out of the repr."""

    claims: dict[str, Any]
    token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: float | None = None
    received_at: float | None = None  # when the token arrived, by the local clock


class TokenStore(Protocol):
    """Anything with these two methods can keep tokens (a keyring, a database...)."""

    def load(self, key: str) -> StoredTokens | None: ...

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        """Keep `tokens` under `key`; None forgets them."""
        ...


def store_key(url: str, credentials: Credentials) -> str:
    """A fingerprint of where and as whom a token was obtained (never the secret itself)."""
    parts = [url, type(credentials).__name__, *(str(v) for v in vars(credentials).values())]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def default_token_store_path() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(cache) / "oeus-kraken" / "tokens.json"


class FileTokenStore:
    """Tokens in one owner-only JSON file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            logger.warning("token store %s unreadable (%s); ignoring it", self.path, exc.strerror)
            return {}
        try:
            document = json.loads(raw)  # bytes: not UTF-8 is a ValueError here, like bad JSON
        except ValueError:
            logger.warning("token store %s is not valid JSON; ignoring it", self.path)
            return {}
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            logger.warning(
                "token store %s is not an oeus-kraken token file; ignoring it", self.path
            )
            return {}
        entries = document.get("entries")
        return entries if isinstance(entries, dict) else {}

    def load(self, key: str) -> StoredTokens | None:
        entry = self._read().get(key)
        if not isinstance(entry, dict):
            return None
        claims, token = entry.get("claims"), entry.get("token")
        refresh_token = entry.get("refresh_token")
        refresh_expires_at = entry.get("refresh_expires_at")
        received_at = entry.get("received_at")
        if not (
            isinstance(claims, dict)
            and isinstance(token, str)
            and token
            and (refresh_token is None or isinstance(refresh_token, str))
            and (
                refresh_expires_at is None
                or (
                    isinstance(refresh_expires_at, (int, float))
                    and not isinstance(refresh_expires_at, bool)
                )
            )
        ):
            # Wrong types would otherwise surface later, as a crash far from the file.
            logger.warning("token store %s has a malformed entry; ignoring it", self.path)
            return None
        if not isinstance(received_at, (int, float)) or isinstance(received_at, bool):
            received_at = None
        return StoredTokens(claims, token, refresh_token, refresh_expires_at, received_at)

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        entries = self._read()
        if tokens is None:
            entries.pop(key, None)
        else:
            entries[key] = {
                "claims": tokens.claims,
                "token": tokens.token,
                "refresh_token": tokens.refresh_token,
                "refresh_expires_at": tokens.refresh_expires_at,
                "received_at": tokens.received_at,
            }
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Written under a temporary name with 0600 from the start, then renamed over the old
            # file: readers see the old file or the new one, never half of one.
            fd, temp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump({"format": _FORMAT, "entries": entries}, out)
                os.replace(temp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError as exc:
            logger.warning("could not write token store %s (%s)", self.path, exc.strerror)
