"""The opt-in token store (`token_store=FileTokenStore(path)`): one token per URL and credential,
kept between clients and runs, in a file only its owner can read; a store that cannot be read or
written never stops a call.

Clients of both kinds run on `FakeKraken` (behind pytest-httpx, counting token requests exactly)
with a `FakeClock`; the store files live in pytest's `tmp_path`. Every warning a test provokes is
checked for secrets: the store's path may be in it, a token or credential may not.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from auth_helpers import (
    API_KEY_VALUE,
    CREDENTIALS,
    EMAIL,
    MARGIN,
    OBTAIN,
    PASSWORD,
    REFRESH,
    START,
    TOKEN_LIFETIME,
    URL,
    Driver,
    FakeClock,
    FakeKraken,
    Sent,
    error_response,
    leaked_secrets,
    secrets_of,
)
from pytest_httpx import HTTPXMock

import oeus_kraken._token_store
from oeus_kraken import APIKey, EmailPassword, FileTokenStore, KrakenClient, SyncKrakenClient
from oeus_kraken._token_store import StoredTokens, store_key

CLIENT_CLASSES = {"async": KrakenClient, "sync": SyncKrakenClient}
STORE_FORMAT = "oeus-kraken-tokens/1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(httpx_mock: HTTPXMock, clock: FakeClock) -> FakeKraken:
    """One fake endpoint for clients of both kinds (its replies are plain responses, which
    pytest-httpx hands to async clients as well)."""
    fake = FakeKraken(clock)
    httpx_mock.add_callback(fake.handle, is_reusable=True, is_optional=True)
    return fake


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the store file goes: in a folder that does not exist yet."""
    return tmp_path / "cache" / "oeus-kraken" / "tokens.json"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
async def connect(
    clock: FakeClock, server: FakeKraken, path: Path
) -> AsyncIterator[Callable[..., Driver]]:
    """A client of the given kind with a FileTokenStore (a new store object each time, as a new
    process would have) on `path` by default."""
    made: list[Driver] = []

    def connect(
        kind: str,
        *,
        store_path: Path | None = None,
        credentials: Any = CREDENTIALS["api_key"],
        url: str = URL,
        **options: Any,
    ) -> Driver:
        store = FileTokenStore(store_path or path)
        options = {"clock": clock, "refresh_margin": MARGIN, "max_retries": 0, **options}
        client = CLIENT_CLASSES[kind](url, credentials=credentials, token_store=store, **options)
        driver = Driver(kind, client, server)
        made.append(driver)
        return driver

    yield connect
    for driver in made:
        await driver.close()


def operations(sent: list[Sent]) -> list[str | None]:
    return [s.operation for s in sent]


def entries(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    assert document["format"] == STORE_FORMAT
    return dict(document["entries"])


# Small synchronous file helpers: the async tests call these rather than pathlib directly.


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def inode(path: Path) -> int:
    return path.stat().st_ino


def read(path: Path) -> bytes:
    return path.read_bytes()


def write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def files_beside(path: Path) -> list[str]:
    """What the store's folder holds (nothing if it is not a folder)."""
    return sorted(os.listdir(path.parent)) if path.parent.is_dir() else []


def assert_no_secret_leaked(logs: pytest.LogCaptureFixture, server: FakeKraken) -> None:
    leaks = leaked_secrets(logs.records, secrets_of(server), logs.text)
    assert not leaks, f"a secret leaked into: {sorted({where for _, where in leaks})}"


def warnings_about(logs: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [
        r.getMessage()
        for r in logs.records
        if r.levelno == logging.WARNING and r.name == "oeus_kraken" and str(path) in r.getMessage()
    ]


class _ModuleWith:
    """`module`, except for the attributes given (so a test breaks one call of the store's, not
    everyone's)."""

    def __init__(self, module: Any, **overrides: Any) -> None:
        self._module = module
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


KINDS = ["async", "sync"]


# -- the file ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_the_store_is_one_owner_only_file_replaced_atomically_with_no_temporary_files_left(
    connect: Callable[..., Driver], server: FakeKraken, clock: FakeClock, path: Path, kind: str
) -> None:
    kraken = connect(kind)

    await kraken.call("get_viewer")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    first_inode = inode(path)

    clock.now = START + TOKEN_LIFETIME - MARGIN + 1
    await kraken.call("get_viewer")  # refreshed: the file is written again

    assert operations(server.token_requests) == [OBTAIN, REFRESH]
    assert files_beside(path) == ["tokens.json"]  # no .tokens-* left behind
    assert mode(path) == 0o600
    assert inode(path) != first_inode  # a new file renamed over the old, not rewritten
    (entry,) = entries(path).values()
    assert entry["token"] == server.issued_tokens[-1]
    assert entry["refresh_token"] == server.issued_refresh_tokens[-1]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_failed_write_keeps_the_previous_file_whole_and_leaves_no_temporary_file(
    connect: Callable[..., Driver],
    server: FakeKraken,
    clock: FakeClock,
    path: Path,
    logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    kraken = connect(kind)
    await kraken.call("get_viewer")
    before = read(path)

    def disk_full(_src: object, _dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(oeus_kraken._token_store, "os", _ModuleWith(os, replace=disk_full))
    clock.now = START + TOKEN_LIFETIME - MARGIN + 1
    viewer = await kraken.call("get_viewer")  # refreshed; saving the new token fails

    assert viewer.viewer is not None
    assert read(path) == before
    assert files_beside(path) == ["tokens.json"]
    assert any("No space left" in w for w in warnings_about(logs, path))
    assert_no_secret_leaked(logs, server)


# -- reuse ----------------------------------------------------------------------------------


@pytest.mark.parametrize("second", KINDS)
@pytest.mark.parametrize("first", KINDS)
async def test_a_second_client_with_the_same_store_url_and_credential_makes_no_token_request(
    connect: Callable[..., Driver], server: FakeKraken, clock: FakeClock, first: str, second: str
) -> None:
    await connect(first).call("get_viewer")
    clock.advance(TOKEN_LIFETIME - MARGIN - 1)  # the token's last second before its refresh

    await connect(second).call("get_viewer")

    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]
    assert {s.authorization for s in server.data_requests} == {server.issued_tokens[0]}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_later_client_refreshes_a_stored_token_with_the_stored_refresh_token(
    connect: Callable[..., Driver], server: FakeKraken, clock: FakeClock, kind: str
) -> None:
    await connect(kind).call("get_viewer")
    clock.advance(TOKEN_LIFETIME + 1)  # expired since

    await connect(kind).call("get_viewer")

    assert operations(server.token_requests) == [OBTAIN, REFRESH]
    refresh = server.token_requests[1]
    assert refresh.variables["input"] == {"refreshToken": server.issued_refresh_tokens[0]}


OTHER_CLIENTS: dict[str, dict[str, Any]] = {
    "another API key": {"credentials": APIKey("APIKEYSECRET-other-77f0")},
    "another kind of credential": {"credentials": EmailPassword(EMAIL, PASSWORD)},
    "another URL": {"url": "https://other-kraken.example.test/v1/graphql/"},
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("other", list(OTHER_CLIENTS))
async def test_a_different_credential_or_url_does_not_reuse_the_stored_token(
    connect: Callable[..., Driver],
    server: FakeKraken,
    path: Path,
    kind: str,
    other: str,
) -> None:
    await connect(kind).call("get_viewer")

    await connect(kind, **OTHER_CLIENTS[other]).call("get_viewer")

    assert operations(server.token_requests) == [OBTAIN, OBTAIN]
    first, second = server.data_requests
    assert first.authorization != second.authorization
    stored = entries(path)
    assert len(stored) == 2  # one file, one entry for each
    text = read(path).decode()
    for secret in (API_KEY_VALUE, PASSWORD, "APIKEYSECRET-other-77f0"):
        assert secret not in text  # entries are keyed by a fingerprint, not the credential


def test_the_store_key_is_a_fingerprint_of_url_and_credential_never_the_secret() -> None:
    key = store_key(URL, APIKey(API_KEY_VALUE))

    assert len(key) == 64
    assert API_KEY_VALUE not in key
    assert key == store_key(URL, APIKey(API_KEY_VALUE))
    assert key != store_key(URL, APIKey(API_KEY_VALUE + "x"))
    assert key != store_key(URL + "x", APIKey(API_KEY_VALUE))


def test_stored_tokens_and_the_store_never_show_a_token_in_their_repr(path: Path) -> None:
    tokens = StoredTokens({"exp": 1}, "TOKENSECRET-1", "REFRESHSECRET-1", 2.0)

    for text in (repr(tokens), repr(FileTokenStore(path))):
        assert "TOKENSECRET-1" not in text
        assert "REFRESHSECRET-1" not in text


@pytest.mark.parametrize("kind", KINDS)
async def test_a_token_the_api_rejected_is_never_handed_to_a_later_client(
    connect: Callable[..., Driver], server: FakeKraken, path: Path, kind: str
) -> None:
    kraken = connect(kind)
    await kraken.call("get_viewer")
    server.queue("getViewer", lambda _s: error_response("KT-CT-1143"))
    await kraken.call("get_viewer")  # rejected: obtained anew, and the store updated

    await connect(kind).call("get_viewer")

    assert operations(server.token_requests) == [OBTAIN, OBTAIN]
    assert server.data_requests[-1].authorization == server.issued_tokens[1]
    (entry,) = entries(path).values()
    assert entry["token"] == server.issued_tokens[1]


# -- a store that cannot be trusted, read or written ------------------------------------------


def _malformed_entry() -> bytes:
    key = store_key(URL, CREDENTIALS["api_key"])
    entry = {"claims": {"exp": START + 3600}, "token": "t", "refresh_token": 5}
    return json.dumps({"format": STORE_FORMAT, "entries": {key: entry}}).encode()


# file content -> the words of the warning
UNTRUSTED_FILES: dict[str, tuple[bytes, str]] = {
    "truncated JSON": (b'{"format": "oeus-kraken-tokens/1", "entr', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "not UTF-8": (bytes(range(256)), "not valid JSON"),
    "another program's JSON object": (b'{"tokens": ["abc"]}', "not an oeus-kraken token file"),
    "a JSON array": (b"[1, 2, 3]", "not an oeus-kraken token file"),
    "another format version": (
        b'{"format": "oeus-kraken-tokens/99", "entries": {}}',
        "not an oeus-kraken token file",
    ),
    "an entry of the wrong types": (_malformed_entry(), "malformed entry"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content", list(UNTRUSTED_FILES))
async def test_a_corrupt_or_foreign_store_file_is_ignored_with_a_warning_then_replaced(
    connect: Callable[..., Driver],
    server: FakeKraken,
    path: Path,
    logs: pytest.LogCaptureFixture,
    kind: str,
    content: str,
) -> None:
    data, warning = UNTRUSTED_FILES[content]
    write(path, data)

    viewer = await connect(kind).call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server.sent) == [OBTAIN, "getViewer"]
    assert any(warning in w for w in warnings_about(logs, path))
    (entry,) = entries(path).values()  # rewritten in our format on the next save
    assert entry["token"] == server.issued_tokens[0]
    assert_no_secret_leaked(logs, server)


def _read_only_directory(path: Path) -> Path:
    path.parent.mkdir(parents=True)
    path.parent.chmod(0o500)
    return path


def _under_a_regular_file(path: Path) -> Path:
    path.parent.parent.mkdir(parents=True)
    path.parent.write_text("a file where the store's folder should be")
    return path


def _a_directory(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


# where the store cannot be written -> make it so
UNWRITABLE: dict[str, Callable[[Path], Path]] = {
    "a read-only directory": _read_only_directory,
    "a path under a regular file": _under_a_regular_file,
    "a path that is a directory": _a_directory,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", list(UNWRITABLE))
async def test_an_unwritable_store_logs_a_warning_and_every_call_still_works(
    connect: Callable[..., Driver],
    server: FakeKraken,
    clock: FakeClock,
    path: Path,
    logs: pytest.LogCaptureFixture,
    kind: str,
    where: str,
) -> None:
    if where == "a read-only directory" and os.geteuid() == 0:
        pytest.skip("root writes into read-only directories; the other cases cover this rule")
    UNWRITABLE[where](path)
    kraken = connect(kind)

    for _ in range(2):
        viewer = await kraken.call("get_viewer")
        assert viewer.viewer is not None
        clock.advance(60)

    # The token lives on in memory: one token request, however often saving it fails.
    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]
    assert warnings_about(logs, path)
    assert not [name for name in files_beside(path) if name.startswith(".tokens-")]
    assert_no_secret_leaked(logs, server)


@pytest.mark.parametrize("kind", KINDS)
async def test_no_store_warning_ever_contains_a_token_or_credential(
    connect: Callable[..., Driver],
    server: FakeKraken,
    clock: FakeClock,
    path: Path,
    logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Every kind of store warning in one lifecycle: unreadable JSON, a failed write, a foreign
    file; each while tokens and refresh tokens are held and being saved."""
    write(path, b"{corrupt")
    kraken = connect(kind)
    await kraken.call("get_viewer")

    def fails(_src: object, _dst: object) -> None:
        raise OSError(13, "Permission denied")

    with monkeypatch.context() as patched:
        patched.setattr(oeus_kraken._token_store, "os", _ModuleWith(os, replace=fails))
        clock.now = START + TOKEN_LIFETIME - MARGIN + 1
        await kraken.call("get_viewer")
    write(path, b'{"somebody": "else"}')
    clock.advance(TOKEN_LIFETIME)
    await kraken.call("get_viewer")

    messages = warnings_about(logs, path)
    for phrase in ("not valid JSON", "Permission denied", "not an oeus-kraken token file"):
        assert any(phrase in m for m in messages), phrase
    assert len(server.issued_tokens) == 3
    assert_no_secret_leaked(logs, server)


def test_a_client_with_a_store_but_no_credentials_neither_reads_nor_writes_it(
    path: Path, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": {"products": []}})
    with SyncKrakenClient(URL, token_store=FileTokenStore(path)) as kraken:
        assert kraken.get_products().products == []

    assert not path.parent.exists()
    (request,) = httpx_mock.get_requests()
    assert "authorization" not in request.headers
