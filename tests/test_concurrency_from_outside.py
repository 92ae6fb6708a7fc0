"""The clients and KrakenAuth under threads, event loops, cancellation and other processes, used
as a user uses them, against the sandbox: what a client does when pickled (multiprocessing's
spawn and forkserver), shared by many threads, cancelled in a storm, or shared across a fork
with its token file."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import pickle
import random
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from auth_helpers import OBTAIN, VIEWER_DATA, FakeClock, FakeKraken
from hostile_server import HostileServer, Request, at_once
from test_hardening import fork_and_call  # 0 if the child returned, 1 if it raised, -1 hung

from oeus_kraken import (
    APIKey,
    ConfigurationError,
    FileTokenStore,
    KrakenAuth,
    KrakenClient,
    KrakenError,
    OrganizationSecretKey,
    SyncKrakenClient,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from oeus_kraken.sandbox import SandboxServer

DEMO_API_KEY = "sk_test_demo_api_key_0123456789abcdef"
ORGANIZATION_KEY = "sk_test_org_sandbox_0123456789abcdef"
ACCOUNTS = ("A-5F3C9D21", "A-7B4E0A18", "A-2D8F6C34")  # the sandbox's seeded accounts

UNPICKLABLE: dict[str, Callable[[str], Any]] = {
    "SyncKrakenClient": lambda url: SyncKrakenClient(url, credentials=APIKey(DEMO_API_KEY)),
    "KrakenClient": lambda url: KrakenClient(url, credentials=APIKey(DEMO_API_KEY)),
    "KrakenAuth": lambda url: KrakenAuth(APIKey(DEMO_API_KEY), url=url, allow_insecure_http=True),
}


@pytest.mark.parametrize("kind", sorted(UNPICKLABLE))
def test_pickling_a_client_or_kraken_auth_is_a_type_error_naming_it_and_saying_to_send_credentials(
    kind: str,
) -> None:
    """What multiprocessing's spawn and forkserver do to a Pool's arguments: the error names what
    cannot go and what to send instead (the credentials pickle)."""
    made = UNPICKLABLE[kind]("http://127.0.0.1:9/v1/graphql/")
    for attempt in (pickle.dumps, copy.deepcopy):
        with pytest.raises(TypeError) as caught:
            attempt(made)
        message = str(caught.value)
        assert f"a {kind} cannot be pickled" in message
        assert "send the credentials" in message
    credentials = pickle.loads(pickle.dumps(APIKey(DEMO_API_KEY)))  # noqa: S301 (our own bytes)
    assert credentials == APIKey(DEMO_API_KEY)


def test_32_threads_sharing_a_sync_client_cause_one_token_request_and_each_gets_its_own_answer(
    sandbox: SandboxServer,
) -> None:
    start = threading.Barrier(32)
    wrong: list[tuple[str, str | None]] = []
    failed: list[BaseException] = []

    def call(thread: int) -> None:
        try:
            start.wait()
            for turn in range(3):
                number = ACCOUNTS[(thread + turn) % len(ACCOUNTS)]
                account = kraken.get_account(account_number=number).account
                if account is None or account.number != number:
                    wrong.append((number, None if account is None else account.number))
        except BaseException as exc:  # (reported by the assertion below)
            failed.append(exc)

    credentials = OrganizationSecretKey(ORGANIZATION_KEY)
    with SyncKrakenClient(sandbox.url, credentials=credentials) as kraken:
        threads = [threading.Thread(target=call, args=(thread,)) for thread in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failed == []
    assert wrong == []
    assert sandbox.stats.token_requests == 1


def test_after_a_storm_of_cancelled_calls_one_call_works_with_at_most_one_token_request(
    sandbox: SandboxServer,
) -> None:
    """300 calls cancelled at random points (before, during and after the token request): the
    client is left neither holding a token request nobody waits for nor refusing calls."""
    sandbox.set_faults(delay=0.02)  # slow enough that cancellations land mid-request
    randomly = random.Random(21)  # noqa: S311 (the order of a test, not a secret)

    async def storm() -> list[Any]:
        async with KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
            calls = [asyncio.create_task(kraken.get_viewer()) for _ in range(300)]
            for task in calls:
                if randomly.random() < 0.5:
                    await asyncio.sleep(0)  # let some get further before their turn
                task.cancel()
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            sandbox.set_faults(delay=0)
            before = sandbox.stats.token_requests
            viewer = (await kraken.get_viewer()).viewer
            assert viewer is not None
            assert viewer.email == "demo@example.com"
            assert sandbox.stats.token_requests - before <= 1
            return outcomes

    outcomes = asyncio.run(storm())
    # Each call cancelled, or (on a slow machine, one that finished before its turn) answered.
    kinds = {type(outcome).__name__ for outcome in outcomes}
    assert kinds <= {"CancelledError", "GetViewer"}, kinds


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_and_its_parent_calling_at_once_with_one_token_file_get_their_own_answers(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    credentials = OrganizationSecretKey(ORGANIZATION_KEY)
    with SyncKrakenClient(
        sandbox.url, credentials=credentials, token_store=FileTokenStore(path)
    ) as kraken:
        kraken.get_viewer()  # a token and a pooled connection, both inherited by the child

        def calls(number: str) -> None:
            for _ in range(10):
                account = kraken.get_account(account_number=number).account
                assert account is not None
                assert account.number == number

        with ThreadPoolExecutor(1) as pool:
            # The parent calls while the child forks and calls: mid-request, or between two.
            parent = pool.submit(calls, ACCOUNTS[1])
            status = fork_and_call(lambda: calls(ACCOUNTS[0]))
            parent.result()  # (raises what the parent's calls raised)
    assert status == 0
    assert sandbox.stats.token_requests == 1  # the child used the token it inherited
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.slow  # before the fix: 40 s, the call's timeout
def test_closing_the_async_client_from_one_event_loop_ends_a_call_waiting_in_another_at_once() -> (
    None
):
    held = threading.Event()  # the server has the call's request, and holds its answer
    answered = threading.Event()  # the server may answer now
    ended: list[object] = []  # the call's outcome, and whether the server had answered by then
    call_ended = threading.Event()

    def answer(request: Request) -> Any:
        if request.operation == OBTAIN:
            token = FakeKraken(FakeClock(time.time())).new_token()
            return at_once(json.dumps({"data": {"obtainKrakenToken": token}}).encode())
        held.set()
        answered.wait(60)
        return at_once(json.dumps({"data": VIEWER_DATA}).encode())

    def call_on_its_own_loop() -> None:
        try:
            asyncio.run(kraken.get_viewer())
            ended.append("answered")
        except KrakenError as exc:
            ended.append(type(exc))
        ended.append(answered.is_set())
        call_ended.set()

    with HostileServer(answer) as server, warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # (the other loop's, once it is closed)
        kraken = KrakenClient(server.url, credentials=APIKey(DEMO_API_KEY), timeout=40)
        other = threading.Thread(target=call_on_its_own_loop)
        other.start()
        assert held.wait(30)
        asyncio.run(kraken.aclose())  # from this thread's loop
        call_ended.wait(10)  # a guard, not a measure: the call should end at once, not when
        # its read times out (and with timeout=None, never: its loop no longer watches the socket)
        answered.set()
        other.join()
    assert ended == [ConfigurationError, False]
