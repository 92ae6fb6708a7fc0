"""Processes sharing one token store, against an API that rotates refresh tokens (each is good
for one refresh): the process that loses the race to refresh takes the winner's tokens from
the store, and its calls do not fail meanwhile.

Two clients with a state each stand for two processes; the winner's store saves late (a
keyring, a database, a busy disk), released a while after the loser's refusal.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
from auth_helpers import VIEWER_DATA, SavesHeldBack, make_kraken_jwt
from hostile_server import HostileServer, Request, at_once

from oeus_kraken import FileTokenStore, RefreshToken, StoredTokens, SyncKrakenClient

GIVEN = "RT-given-rotation-SECRET-4f1e"
SAVE_LATE = 0.6  # the winner's save lands this long after the loser's refusal


class RotatingKraken:
    """Refresh tokens good for one refresh each; `refused` is set at the first refusal."""

    def __init__(self) -> None:
        self.good = {GIVEN}
        self.issued: set[str] = set()
        self.refused = threading.Event()
        self._lock = threading.Lock()

    def answer(self, request: Request) -> Iterator[tuple[bytes, float]]:
        body = request.json
        if "obtainKrakenToken" not in body["query"]:
            ok = request.headers.get("authorization") in self.issued
            data = {"data": VIEWER_DATA} if ok else _error("KT-CT-1124")
            yield from at_once(json.dumps(data).encode())
            return
        given = body["variables"]["input"].get("refreshToken")
        with self._lock:
            if given not in self.good:
                self.refused.set()
                yield from at_once(json.dumps(_error("KT-CT-1135")).encode())
                return
            self.good.discard(given)
            rotated = f"RT-{secrets.token_hex(6)}"
            self.good.add(rotated)
            token = make_kraken_jwt(jti=secrets.token_hex(4))
            self.issued.add(token)
        result = {
            "token": token,
            "payload": jwt.decode(token, options={"verify_signature": False}),
            "refreshToken": rotated,
            "refreshExpiresIn": int(time.time() + 86400),
        }
        yield from at_once(json.dumps({"data": {"obtainKrakenToken": result}}).encode())


def _error(code: str) -> dict[str, object]:
    return {"data": None, "errors": [{"message": code, "extensions": {"errorCode": code}}]}


def test_a_process_that_loses_the_refresh_race_waits_for_the_winners_save_instead_of_failing(
    tmp_path: Path,
) -> None:
    """Two processes, one RefreshToken, one token file. The first refreshes (the API rotates
    the refresh token) and saves what it got 0.6 s after the second, refreshing with the spent
    one, was refused. The second's call gets the first's token from the file and succeeds."""
    kraken = RotatingKraken()
    path = tmp_path / "tokens.json"
    late = SavesHeldBack(path)
    late.holding = True
    with HostileServer(kraken.answer) as server:
        first = SyncKrakenClient(server.url, credentials=RefreshToken(GIVEN), token_store=late)
        second = SyncKrakenClient(
            server.url, credentials=RefreshToken(GIVEN), token_store=FileTokenStore(path)
        )
        with first, second:
            assert first.get_viewer().viewer is not None  # rotated; its save held

            def release_after_the_refusal() -> None:
                kraken.refused.wait(10)
                time.sleep(SAVE_LATE)
                late.release()

            releaser = threading.Thread(target=release_after_the_refusal, daemon=True)
            releaser.start()
            try:
                assert second.get_viewer().viewer is not None
            finally:
                releaser.join(10)


class ForgetsLate(FileTokenStore):
    """A FileTokenStore whose forgetting of a token (however it is asked for: `save(key, None)`,
    or a `forget(key, token)`) waits until `go` is set, `started` set as it begins: the store
    of a process that is slower to write than another."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.started = threading.Event()
        self.go = threading.Event()

    def _held_back(self) -> None:
        self.started.set()
        self.go.wait(10)

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        if tokens is None:
            self._held_back()
        super().save(key, tokens)

    def forget(self, key: str, token: str) -> None:
        self._held_back()
        super().forget(key, token)


def test_a_process_forgetting_its_rejected_token_keeps_the_newer_one_another_process_saved(
    tmp_path: Path,
) -> None:
    """Two processes share a token (from the file) that the API then rejects (KT-CT-1124).
    The first to notice refreshes (rotating the refresh token) and saves the new token; the
    other, slower to write, forgets the rejected token after that. The file keeps the new
    token, and the slower process, its refresh token refused, takes it from there."""
    kraken = RotatingKraken()
    path = tmp_path / "tokens.json"
    slow = ForgetsLate(path)
    with HostileServer(kraken.answer) as server:
        first = SyncKrakenClient(
            server.url, credentials=RefreshToken(GIVEN), token_store=FileTokenStore(path)
        )
        second = SyncKrakenClient(server.url, credentials=RefreshToken(GIVEN), token_store=slow)
        with first, second:
            assert first.get_viewer().viewer is not None  # refreshed; saved
            assert second.get_viewer().viewer is not None  # the same token, from the file
            kraken.issued.clear()  # the API rejects that token from now on (KT-CT-1124)
            outcome: list[object] = []

            def second_call() -> None:
                try:
                    outcome.append(second.get_viewer().viewer is not None)
                except Exception as exc:  # (the outcome is the test's to judge)
                    outcome.append(type(exc).__name__)

            slower = threading.Thread(target=second_call, daemon=True)
            slower.start()
            assert slow.started.wait(10)  # its token rejected; its forgetting held
            assert first.get_viewer().viewer is not None  # rotated; saved
            slow.go.set()
            slower.join(20)
    assert outcome == [True]
