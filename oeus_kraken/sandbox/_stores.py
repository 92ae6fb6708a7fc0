"""What the sandbox's mutations write: account metadata, and smart-device OAuth states.

Both live in memory for the life of a server and are cleared by `reset()`. Thread-safe: the
server thread writes while a test thread may read.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

__all__ = ["OAUTH_STATE_LIFETIME", "DeviceLinks", "MetadataStore", "OAuthState"]

OAUTH_STATE_LIFETIME = 600.0  # seconds a createSmartDeviceToken state stays usable


class MetadataStore:
    """`updateMetadata`: key -> JSON string, per linked object (ACCOUNT or ACCOUNT_USER, id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], dict[str, str]] = {}

    def set(self, linked_object_type: str, identifier: str, key: str, value: str) -> None:
        with self._lock:
            self._values.setdefault((linked_object_type, identifier), {})[key] = value

    def get(self, linked_object_type: str, identifier: str) -> dict[str, str]:
        with self._lock:
            return dict(self._values.get((linked_object_type, identifier), {}))

    def reset(self) -> None:
        with self._lock:
            self._values.clear()


@dataclass(frozen=True)
class OAuthState:
    account_number: str
    device_type: str
    device_vendor: str
    created_at: float


class DeviceLinks:
    """`createSmartDeviceToken` states, each usable once by `acquireOauthTokens`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, OAuthState] = {}
        self.linked: list[OAuthState] = []  # devices whose tokens were acquired

    def create(self, account_number: str, device_type: str, device_vendor: str, now: float) -> str:
        state = secrets.token_hex(16)
        with self._lock:
            self._states[state] = OAuthState(account_number, device_type, device_vendor, now)
        return state

    def acquire(self, account_number: str, state: str, now: float) -> bool:
        """Use up `state` for `account_number`: True if it was issued for it and is still fresh."""
        with self._lock:
            issued = self._states.get(state)
            if (
                issued is None
                or issued.account_number != account_number
                or now - issued.created_at > OAUTH_STATE_LIFETIME
            ):
                return False
            del self._states[state]
            self.linked.append(issued)
            return True

    def reset(self) -> None:
        with self._lock:
            self._states.clear()
            self.linked.clear()
