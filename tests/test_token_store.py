"""The opt-in token store (`token_store=FileTokenStore(path)`): one token per URL and credential,
kept between clients, runs and processes, in a file only its owner can read, keyed by salted
hashes a leaked file cannot be tested against; a store that cannot be read or written, or holds
something hostile, never stops a call.

Clients of both kinds run on `FakeKraken` (behind pytest-httpx, counting token requests exactly)
with a `FakeClock`; the store files live in pytest's `tmp_path`. Every warning a test provokes is
checked for secrets: the store's path may be in it, a token or credential may not.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import time
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
    run_in_threads,
    secrets_of,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock

import oeus_kraken._token_store
from oeus_kraken import (
    APIKey,
    ConfigurationError,
    EmailPassword,
    FileTokenStore,
    KrakenAuth,
    KrakenClient,
    SyncKrakenClient,
)
from oeus_kraken._token_store import StoredTokens, default_token_store_path, store_key

CLIENT_CLASSES = {"async": KrakenClient, "sync": SyncKrakenClient}
STORE_FORMAT = "oeus-kraken-tokens/2"
FORMAT_1 = "oeus-kraken-tokens/1"
LATER_FORMAT = "oeus-kraken-tokens/3"  # what a later version of oeus-kraken may write


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


def salt_of(path: Path) -> bytes:
    return base64.b64decode(json.loads(path.read_text())["salt"])


def scrypt_name(key: str, salt: bytes) -> str:
    """What the module docstring promises an entry is called: scrypt(key, the file's salt)."""
    return hashlib.scrypt(key.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


def store_file(entries_by_key: dict[str, Any], salt: bytes = b"s" * 32) -> bytes:
    """A format 2 file holding these entries under the names their keys have with `salt`."""
    named = {scrypt_name(key, salt): entry for key, entry in entries_by_key.items()}
    document = {"format": STORE_FORMAT, "salt": base64.b64encode(salt).decode(), "entries": named}
    return json.dumps(document).encode()


def tokens(token: str = "TOKENSECRET-1") -> StoredTokens:
    return StoredTokens({"exp": START + TOKEN_LIFETIME}, token, "REFRESHSECRET-1", START + 86400)


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


def is_regular_file(path: Path) -> bool:
    return stat.S_ISREG(path.lstat().st_mode)


def make_fifo(path: Path) -> None:
    path.parent.mkdir(parents=True)
    os.mkfifo(path)


def make_symlink(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True)
    path.symlink_to(target)


def exists(path: Path) -> bool:
    return path.exists()


def files_beside(path: Path) -> list[str]:
    """What the store's folder holds (nothing if it is not a folder)."""
    return sorted(os.listdir(path.parent)) if path.parent.is_dir() else []


# What a store leaves in its folder: the file, and the (empty) lock file its saves take.
STORE_FILES = ["tokens.json", "tokens.json.lock"]


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
    assert files_beside(path) == STORE_FILES  # no .tokens-* left behind
    assert mode(path) == 0o600
    assert mode(path.with_name("tokens.json.lock")) == 0o600
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
    assert files_beside(path) == STORE_FILES
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
        assert secret not in text  # entries are keyed by a salted hash, not the credential


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
    return store_file({key: {"claims": {"exp": START + 3600}, "token": "t", "refresh_token": 5}})


def _entry_with_token(token: str) -> bytes:
    key = store_key(URL, CREDENTIALS["api_key"])
    return store_file({key: {"claims": {"exp": START + 3600}, "token": token}})


def _too_large() -> bytes:
    padding = "x" * oeus_kraken._token_store.MAX_STORE_BYTES
    return json.dumps({"format": STORE_FORMAT, "salt": "c2FsdA==" * 4, "padding": padding}).encode()


# file content -> the words of the warning
UNTRUSTED_FILES: dict[str, tuple[bytes, str]] = {
    "truncated JSON": (b'{"format": "oeus-kraken-tokens/1", "entr', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "not UTF-8": (bytes(range(256)), "not valid JSON"),
    "another program's JSON object": (b'{"tokens": ["abc"]}', "not an oeus-kraken token file"),
    "a JSON array": (b"[1, 2, 3]", "not an oeus-kraken token file"),
    "a format that is no version of ours": (
        b'{"format": "oeus-kraken-token", "entries": {}}',
        "not an oeus-kraken token file",
    ),
    "an entry of the wrong types": (_malformed_entry(), "malformed entry"),
    # A token no API would issue (the client refuses such a token from the API too): sending it
    # fails before any request, in an error that would quote it.
    "a token with a line break": (_entry_with_token("TOKEN\r\nX-Injected: 1"), "malformed entry"),
    "a token with a space": (_entry_with_token("JWT TOKEN"), "malformed entry"),
    "a token that is not ASCII": (_entry_with_token("T\u00d6KEN"), "malformed entry"),
    "JSON nested 100000 deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "an object nested 100000 deep": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "too deeply"),
    "larger than the size cap": (_too_large(), "larger than 1000000 bytes"),
    "our format without a salt": (b'{"format": "oeus-kraken-tokens/2", "entries": {}}', "salt"),
    "a salt that is not base64": (
        b'{"format": "oeus-kraken-tokens/2", "salt": "%%%", "entries": {}}',
        "no valid salt",
    ),
    "a salt too short to be ours": (
        b'{"format": "oeus-kraken-tokens/2", "salt": "c2FsdA==", "entries": {}}',
        "no valid salt",
    ),
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


@pytest.mark.parametrize("kind", KINDS)
async def test_a_store_file_a_later_version_wrote_is_neither_read_nor_replaced(
    connect: Callable[..., Driver],
    server: FakeKraken,
    path: Path,
    logs: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    # Two versions of the CLI (a pipx install and a project's venv) share its default path: an
    # older one replacing the later one's file lost its tokens, rotated refresh tokens included.
    later = json.dumps(
        {"format": "oeus-kraken-tokens/3", "entries": {"k": {"refresh_token": "LATER-RT"}}}
    ).encode()
    write(path, later)
    driver = connect(kind)

    viewer = await driver.call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server.sent) == [OBTAIN, "getViewer"]
    assert read(path) == later
    (warning,) = [w for w in warnings_about(logs, path) if "later version" in w]  # once only
    assert "upgrade oeus-kraken" in warning
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
    kraken = connect(kind)
    UNWRITABLE[where](path)  # (after: a folder there already is refused as the store is made)

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


class _StoreOfAnyones:
    """A TokenStore written by someone else (a keyring, a database...) that breaks its contract:
    its load returns `loads` (or raises it), its save raises `save_raises`."""

    def __init__(self, loads: object = None, save_raises: Exception | None = None) -> None:
        self.loads, self.save_raises = loads, save_raises

    def load(self, key: str) -> Any:
        if isinstance(self.loads, Exception):
            raise self.loads
        return self.loads

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        if self.save_raises is not None:
            raise self.save_raises


# what the store does -> the words of the warning
STORES_OF_ANYONES: dict[str, tuple[_StoreOfAnyones, str]] = {
    "load raises OSError": (_StoreOfAnyones(OSError(5, "TOKENSECRET-io")), "failed to load"),
    "load raises its own error": (_StoreOfAnyones(LookupError("no keyring")), "failed to load"),
    "save raises (a full disk)": (
        _StoreOfAnyones(save_raises=OSError(28, "No space left on device")),
        "failed to save",
    ),
    "load returns a dict": (_StoreOfAnyones({"token": "TOKENSECRET-x"}), "malformed entry"),
    "load returns a string": (_StoreOfAnyones("TOKENSECRET-x"), "malformed entry"),
    "a token that is not a string": (_StoreOfAnyones(StoredTokens({}, 123)), "malformed entry"),  # type: ignore[arg-type]
    "claims that are not a dict": (
        _StoreOfAnyones(StoredTokens("exp", "TOKENSECRET-x")),  # type: ignore[arg-type]
        "malformed entry",
    ),
    "a token with a line break": (
        _StoreOfAnyones(StoredTokens({"exp": START + 3600}, "TOKEN\r\nX-Injected: 1")),
        "malformed entry",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("store", list(STORES_OF_ANYONES))
async def test_a_custom_store_that_raises_or_returns_garbage_loses_its_tokens_never_the_call(
    server: FakeKraken, clock: FakeClock, logs: pytest.LogCaptureFixture, kind: str, store: str
) -> None:
    """The TokenStore protocol asks a store not to raise; a client does not rely on it, nor on
    the types it returns (README: a token cache must never stop the client from working)."""
    token_store, warning = STORES_OF_ANYONES[store]
    client = CLIENT_CLASSES[kind](
        URL, credentials=CREDENTIALS["api_key"], token_store=token_store, clock=clock
    )
    kraken = Driver(kind, client, server)
    try:
        for _ in range(2):
            assert (await kraken.call("get_viewer")).viewer is not None
    finally:
        await kraken.close()

    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]
    messages = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
    assert any(warning in m and "_StoreOfAnyones" in m for m in messages), messages
    assert not any("TOKENSECRET" in m for m in messages)
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


@pytest.mark.parametrize("kind", KINDS)
async def test_a_fifo_at_the_path_is_ignored_without_hanging(
    connect: Callable[..., Driver],
    server: FakeKraken,
    path: Path,
    logs: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    make_fifo(path)
    try:
        # The constructor reads the store: in a thread, so that a hang fails the test.
        ((kraken, error),) = run_in_threads(1, lambda: connect(kind))
    finally:
        _release_a_reader_waiting_on(path)
    assert error is None

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert any("not a regular file" in w for w in warnings_about(logs, path))
    assert is_regular_file(path)  # the save replaced the FIFO with our file
    (entry,) = entries(path).values()
    assert entry["token"] == server.issued_tokens[0]


def _release_a_reader_waiting_on(fifo: Path) -> None:
    """If a reader is stuck opening the FIFO, give it a writer (and so an end of file)."""
    with contextlib.suppress(OSError):  # no reader waiting (ENXIO): nothing to release
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize("kind", KINDS)
async def test_a_symlink_to_dev_zero_is_ignored_without_reading_it(
    connect: Callable[..., Driver],
    server: FakeKraken,
    path: Path,
    logs: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    # Read to its end, /dev/zero would fill memory: the store must not read it at all.
    make_symlink(path, "/dev/zero")

    viewer = await connect(kind).call("get_viewer")

    assert viewer.viewer is not None
    assert any("not a regular file" in w for w in warnings_about(logs, path))
    assert is_regular_file(path)  # replaced by our file, not written through the link
    assert len(entries(path)) == 1


# -- a leaked file --------------------------------------------------------------------------


def test_a_leaked_store_file_holds_neither_a_credential_nor_its_unsalted_fingerprint(
    path: Path,
) -> None:
    """Whoever reads the file cannot check a guessed password against it with a plain hash: the
    names are salted, slow hashes of the fingerprint."""
    credentials = [APIKey(API_KEY_VALUE), EmailPassword(EMAIL, PASSWORD)]
    for credential in credentials:
        FileTokenStore(path).save(store_key(URL, credential), tokens())

    text = read(path).decode()
    for credential in credentials:
        fingerprint = store_key(URL, credential)
        assert fingerprint not in text
        assert hashlib.sha256(fingerprint.encode()).hexdigest() not in text
    for secret in (API_KEY_VALUE, PASSWORD, EMAIL):
        assert secret not in text
    assert len(entries(path)) == 2


def test_each_store_file_has_its_own_random_salt_so_names_differ_between_files(
    tmp_path: Path,
) -> None:
    key = store_key(URL, APIKey(API_KEY_VALUE))
    first, second = tmp_path / "one" / "tokens.json", tmp_path / "two" / "tokens.json"
    FileTokenStore(first).save(key, tokens())
    FileTokenStore(second).save(key, tokens())

    assert len(salt_of(first)) == 32
    assert salt_of(first) != salt_of(second)
    assert entries(first).keys() != entries(second).keys()
    # The name is scrypt(fingerprint, this file's salt), as the module docstring says.
    assert list(entries(first)) == [scrypt_name(key, salt_of(first))]


def test_the_salt_is_kept_so_later_stores_and_saves_find_their_entries(path: Path) -> None:
    key, other = store_key(URL, APIKey(API_KEY_VALUE)), store_key(URL, EmailPassword(EMAIL, "p"))
    FileTokenStore(path).save(key, tokens("TOKENSECRET-first"))
    salt = salt_of(path)
    FileTokenStore(path).save(other, tokens("TOKENSECRET-other"))

    assert salt_of(path) == salt
    later = FileTokenStore(path)
    assert later.load(key) == tokens("TOKENSECRET-first")
    assert later.load(other) == tokens("TOKENSECRET-other")
    later.save(key, None)  # forgetting one keeps the other
    assert FileTokenStore(path).load(key) is None
    assert FileTokenStore(path).load(other) == tokens("TOKENSECRET-other")


# -- files from before the salt --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_format_1_file_is_migrated_keeping_this_clients_token_and_dropping_unsalted_names(
    connect: Callable[..., Driver],
    server: FakeKraken,
    path: Path,
    logs: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    await connect(kind).call("get_viewer")  # a valid token, which we put in an old-format file
    (ours,) = entries(path).values()
    fingerprint = store_key(URL, CREDENTIALS["api_key"])
    someone_elses = store_key(URL, APIKey("APIKEYSECRET-other-77f0"))
    old = {"format": FORMAT_1, "entries": {fingerprint: ours, someone_elses: ours}}
    write(path, json.dumps(old).encode())

    await connect(kind).call("get_viewer")

    assert operations(server.token_requests) == [OBTAIN]  # the old file's token was used
    text = read(path).decode()
    assert fingerprint not in text
    assert someone_elses not in text
    assert entries(path) == {scrypt_name(fingerprint, salt_of(path)): ours}
    assert any("old format" in r.getMessage() for r in logs.records)
    assert_no_secret_leaked(logs, server)


# -- processes and threads sharing one file ---------------------------------------------------

# Four writers on two cores already interleave their saves; each save pays scrypt once.
WRITERS, KEYS_EACH = 4, 10

# One writer process: waits for the go-ahead file, then saves KEYS_EACH entries of its own. Logs
# go to stderr, so a save that failed (a lock timeout, say) fails the test.
_WRITER = textwrap.dedent(
    """
    import logging, os, sys, time
    from oeus_kraken._token_store import FileTokenStore, StoredTokens

    logging.basicConfig(level=logging.WARNING)
    path, writer, keys, ready, go = sys.argv[1:]
    store = FileTokenStore(path)
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    for i in range(int(keys)):
        store.save(f"writer-{writer}-key-{i}", StoredTokens({"exp": 1}, f"token-{writer}-{i}"))
    """
)


@pytest.mark.slow
def test_concurrent_processes_never_lose_each_others_entries(tmp_path: Path, path: Path) -> None:
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{w}" for w in range(WRITERS)]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(w), str(KEYS_EACH), str(ready[w]), go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(WRITERS)
    ]
    try:
        _wait_for(lambda: all(r.exists() for r in ready), "the writers to start")
        go.touch()  # all at once, for the most contention
        outcomes = [writer.communicate(timeout=120) for writer in writers]
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()

    for writer, (_, stderr) in zip(writers, outcomes, strict=True):
        assert writer.returncode == 0, stderr.decode()
        assert stderr == b"", stderr.decode()
    stored = entries(path)
    expected = {f"token-{w}-{i}" for w in range(WRITERS) for i in range(KEYS_EACH)}
    assert {entry["token"] for entry in stored.values()} == expected
    assert len(stored) == WRITERS * KEYS_EACH
    later = FileTokenStore(path)  # and each is found under its key (two, to keep scrypt cheap)
    last = (f"writer-{WRITERS - 1}-key-{KEYS_EACH - 1}", f"token-{WRITERS - 1}-{KEYS_EACH - 1}")
    for key, token in [("writer-0-key-0", "token-0-0"), last]:
        found = later.load(key)
        assert found is not None
        assert found.token == token


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    """A guard against a stuck subprocess, not a measurement: passing tests never wait long."""
    for _ in range(6000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_threads_with_stores_of_their_own_never_lose_each_others_entries(path: Path) -> None:
    counter = iter(range(4))

    def writer() -> None:
        w, store = next(counter), FileTokenStore(path)
        for i in range(5):
            store.save(f"thread-{w}-key-{i}", StoredTokens({"exp": 1}, f"token-{w}-{i}"))

    outcomes = run_in_threads(4, writer)

    assert [error for _, error in outcomes] == [None] * 4
    tokens_stored = {entry["token"] for entry in entries(path).values()}
    assert tokens_stored == {f"token-{w}-{i}" for w in range(4) for i in range(5)}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_save_that_cannot_take_the_lock_in_time_gives_up_with_a_warning_and_calls_work(
    connect: Callable[..., Driver],
    server: FakeKraken,
    path: Path,
    logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    import filelock

    monkeypatch.setattr(oeus_kraken._token_store, "LOCK_TIMEOUT", 0.05)
    kraken = connect(kind)
    with filelock.FileLock(path.with_name("tokens.json.lock")):  # another process, stuck
        viewer = await kraken.call("get_viewer")
        again = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert again.viewer is not None
    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]  # kept in memory
    assert not exists(path)
    assert any("held its lock file" in w for w in warnings_about(logs, path))
    assert_no_secret_leaked(logs, server)


# -- permissions ----------------------------------------------------------------------------


def test_a_folder_others_can_write_to_is_warned_about_once_per_store(
    path: Path, logs: pytest.LogCaptureFixture
) -> None:
    path.parent.mkdir(parents=True)
    path.parent.chmod(0o777)
    key = store_key(URL, APIKey(API_KEY_VALUE))

    store = FileTokenStore(path)
    store.load(key)
    store.save(key, tokens())
    store.load(key)
    store.save(key, None)
    FileTokenStore(path).load(key)  # a new store warns anew

    folder_warnings = [w for w in warnings_about(logs, path) if "other users can write" in w]
    assert len(folder_warnings) == 2
    assert "chmod go-w" in folder_warnings[0]


def test_a_path_starting_with_a_tilde_is_in_the_home_folder_as_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: token_store=FileTokenStore("~/.cache/oeus-kraken/tokens.json")
    home, elsewhere = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    key = store_key(URL, APIKey(API_KEY_VALUE))

    store = FileTokenStore("~/.cache/oeus-kraken/tokens.json")
    store.save(key, tokens())

    assert store.path == home / ".cache" / "oeus-kraken" / "tokens.json"
    assert FileTokenStore(home / ".cache/oeus-kraken/tokens.json").load(key) == tokens()
    assert os.listdir(elsewhere) == []  # no folder literally named "~"


def test_a_store_file_others_can_read_is_warned_about_once_and_rewritten_owner_only(
    path: Path, logs: pytest.LogCaptureFixture
) -> None:
    key = store_key(URL, APIKey(API_KEY_VALUE))
    FileTokenStore(path).save(key, tokens())
    path.chmod(0o644)

    store = FileTokenStore(path)
    assert store.load(key) == tokens()  # still used: it is ours, only too open
    store.load(key)
    store.save(key, tokens("TOKENSECRET-2"))

    file_warnings = [w for w in warnings_about(logs, path) if "other users (mode 644)" in w]
    assert len(file_warnings) == 1
    assert mode(path) == 0o600
    assert not [w for w in warnings_about(logs, path) if "can write to" in w]  # folder is 0700


def test_a_store_file_others_can_read_is_made_owner_only_when_read_not_at_a_later_save(
    path: Path, logs: pytest.LogCaptureFixture
) -> None:
    """While its token lasts there may be no save for an hour: the tokens must not stay readable
    by others that long."""
    key = store_key(URL, APIKey(API_KEY_VALUE))
    FileTokenStore(path).save(key, tokens())
    path.chmod(0o644)

    assert FileTokenStore(path).load(key) == tokens()

    assert mode(path) == 0o600
    assert [w for w in warnings_about(logs, path) if "made readable by you only" in w]


@pytest.mark.parametrize("file_mode", [0o666, 0o620, 0o602])
def test_a_store_file_others_can_write_is_not_read_and_is_rewritten_as_yours_only(
    path: Path, logs: pytest.LogCaptureFixture, file_mode: int
) -> None:
    """Someone who can write the file could put a token of their choosing in it, which the client
    would then send: such a file is ignored (one token request), and replaced on the next save."""
    key = store_key(URL, APIKey(API_KEY_VALUE))
    FileTokenStore(path).save(key, tokens())
    path.chmod(file_mode)

    store = FileTokenStore(path)
    assert store.load(key) is None
    assert [w for w in warnings_about(logs, path) if "can be changed by other users" in w]
    store.save(key, tokens("TOKENSECRET-2"))
    assert mode(path) == 0o600
    assert FileTokenStore(path).load(key) == tokens("TOKENSECRET-2")


def test_a_store_file_that_is_not_yours_is_not_read(
    path: Path, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = store_key(URL, APIKey(API_KEY_VALUE))
    FileTokenStore(path).save(key, tokens())
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)  # as another user

    assert FileTokenStore(path).load(key) is None
    assert [w for w in warnings_about(logs, path) if "or not yours" in w]


@pytest.mark.skipif(os.name == "nt", reason="symlinks and mode bits are POSIX")
def test_a_symlink_at_the_store_path_never_has_its_target_made_owner_only(
    path: Path, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    """A symlink (or a second hard link) at the path leads to a file that is not the store, a
    user's page or script: reading through it must not change that file's mode. (Before, its
    target was chmodded 600 as the store was read.) The next save replaces the link itself."""
    key = store_key(URL, APIKey(API_KEY_VALUE))
    path.parent.mkdir(mode=0o700, parents=True)
    page = tmp_path / "index.html"
    page.write_text("<p>hello</p>")
    page.chmod(0o644)
    path.symlink_to(page)
    (path.parent / "second.json").hardlink_to(page)

    assert FileTokenStore(path).load(key) is None
    assert FileTokenStore(path.parent / "second.json").load(key) is None

    assert mode(page) == 0o644
    assert [w for w in warnings_about(logs, path) if "not made readable by you only" in w]
    FileTokenStore(path).save(key, tokens())
    assert not path.is_symlink()
    assert mode(path) == 0o600
    assert page.read_text() == "<p>hello</p>"
    assert mode(page) == 0o644


@pytest.mark.skipif(os.name == "nt", reason="symlinks are POSIX")
def test_a_lock_file_that_is_a_symlink_is_never_followed_and_the_warning_names_it(
    path: Path, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    """The lock file is not followed (the file it points to is left as it was), and the warning
    names the lock file: the store file itself is fine, so "could not write the store" alone
    sent the user looking at the wrong file."""
    key = store_key(URL, APIKey(API_KEY_VALUE))
    store = FileTokenStore(path)
    path.parent.mkdir(mode=0o700, parents=True)
    script = tmp_path / "script.sh"
    script.write_text("echo hello\n")
    store.lock_path.symlink_to(script)

    store.save(key, tokens())

    assert script.read_text() == "echo hello\n"
    assert [w for w in warnings_about(logs, path) if str(store.lock_path) in w]


@pytest.mark.skipif(os.name == "nt", reason="mode bits are POSIX")
def test_the_folders_a_save_creates_are_owner_only_even_under_umask_000(tmp_path: Path) -> None:
    """`Path.mkdir(parents=True)` gives the parents it creates the umask's mode, not `mode`:
    under umask 000 they were 0777, so anyone could swap the store's folder for their own."""
    store = FileTokenStore(tmp_path / "a" / "b" / "tokens.json")
    old = os.umask(0)
    try:
        store.save(store_key(URL, APIKey(API_KEY_VALUE)), tokens())
    finally:
        os.umask(old)

    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    assert mode(store.path) == mode(store.lock_path) == 0o600


def test_an_owner_only_store_in_an_owner_only_folder_warns_about_nothing(
    path: Path, logs: pytest.LogCaptureFixture
) -> None:
    key = store_key(URL, APIKey(API_KEY_VALUE))
    FileTokenStore(path).save(key, tokens())
    FileTokenStore(path).load(key)

    assert warnings_about(logs, path) == []


# -- the size cap -----------------------------------------------------------------------------


def test_saving_past_the_size_cap_drops_the_least_recently_saved_entries(
    path: Path, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oeus_kraken._token_store, "MAX_STORE_BYTES", 4000)  # room for 3 below
    store = FileTokenStore(path)

    def save(name: str, size: int = 1000) -> None:
        store.save(f"key-{name}", tokens(name * size))

    for name in "abc":
        save(name)
    save("a")  # saved again: now the newest
    save("d")  # one too many: the least recently saved ("b") goes

    assert len(read(path)) <= 4000
    kept = {name for name in "abcd" if store.load(f"key-{name}") is not None}
    assert kept == {"c", "a", "d"}

    save("e", size=5000)  # could never fit: not saved, and nothing else lost
    assert store.load("key-e") is None
    assert {name for name in "acd" if store.load(f"key-{name}") is not None} == {"a", "c", "d"}
    assert any("entry too large" in w for w in warnings_about(logs, path))


# -- whatever the file holds -----------------------------------------------------------------

_FUZZ_SALT = b"fuzz-salt-0123456789abcdefghijkl"
_FUZZ_KEY = store_key(URL, APIKey(API_KEY_VALUE))
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_ENTRY_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "claims": _JSON_VALUES,
        "token": _JSON_VALUES | st.text(min_size=1),
        "refresh_token": _JSON_VALUES,
        "refresh_expires_at": _JSON_VALUES,
    },
)
_DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "format": st.sampled_from(
            [STORE_FORMAT, FORMAT_1, LATER_FORMAT, "oeus-kraken-tokens/", "oeus-kraken-tokens/x"]
        )
        | _JSON_VALUES,
        "salt": st.sampled_from([base64.b64encode(_FUZZ_SALT).decode(), "", "%%"]) | _JSON_VALUES,
        "entries": _JSON_VALUES
        | st.dictionaries(
            st.sampled_from([scrypt_name(_FUZZ_KEY, _FUZZ_SALT), _FUZZ_KEY]),
            _ENTRY_VALUES | _JSON_VALUES,
        ),
    },
)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300) | _DOCUMENTS.map(lambda d: json.dumps(d).encode()))
def test_whatever_the_file_holds_the_store_never_raises_and_returns_only_well_formed_tokens(
    path: Path, content: bytes
) -> None:
    write(path, content)
    store = FileTokenStore(path)

    found = store.load(_FUZZ_KEY)

    if found is not None:
        assert isinstance(found.claims, dict)
        assert isinstance(found.token, str)
        assert found.token
        assert found.refresh_token is None or isinstance(found.refresh_token, str)
        assert found.refresh_expires_at is None or isinstance(found.refresh_expires_at, float | int)
    store.save(_FUZZ_KEY, tokens())
    if _is_a_later_versions(content):  # not ours to replace: left as it was
        assert found is None
        assert path.read_bytes() == content
    else:  # the file works again afterwards
        assert FileTokenStore(path).load(_FUZZ_KEY) == tokens()


def _is_a_later_versions(content: bytes) -> bool:
    try:
        document = json.loads(content)
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("format") == LATER_FORMAT


# -- what token_store= may be ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "store", ["~/.cache/oeus-kraken/tokens.json", Path("tokens.json"), {}], ids=repr
)
@pytest.mark.parametrize("make", ["SyncKrakenClient", "KrakenAuth"])
def test_a_token_store_that_is_no_token_store_is_refused_at_construction(
    make: str, store: Any
) -> None:
    """`token_store="~/.cache/oeus-kraken/tokens.json"` (the path, not FileTokenStore(path)) was
    taken: every call then logged "token store str failed to load (AttributeError); ignoring
    it" and kept no token, where every other option is checked as the client is made."""
    with pytest.raises(ConfigurationError, match=r"FileTokenStore\(path\)"):
        MADE_WITH_A_STORE[make](store)


def _closed_client(store: Any) -> None:
    SyncKrakenClient(URL, credentials=APIKey("k"), token_store=store).close()


MADE_WITH_A_STORE: dict[str, Callable[[Any], object]] = {
    "SyncKrakenClient": _closed_client,
    "KrakenAuth": lambda store: KrakenAuth(APIKey("k"), url=URL, token_store=store),
}


@pytest.mark.skipif(sys.platform == "win32", reason="HOME and passwd are the POSIX rule")
def test_a_relative_home_is_ignored_never_a_token_cache_in_the_working_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """HOME=home (relative): Path.home() returned it as it was, and the token cache went to
    ./home/.cache/oeus-kraken/tokens.json under whatever folder a command ran in. A relative
    HOME counts as unset: the passwd entry's home is used (as platformdirs does)."""
    import pwd

    home = tmp_path / "passwd-home"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", "home")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: type("Entry", (), {"pw_dir": str(home)}))

    assert default_token_store_path() == home / ".cache" / "oeus-kraken" / "tokens.json"


def test_a_token_store_path_under_a_home_folder_that_is_not_there_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FileTokenStore("~/.cache/oeus-kraken/tokens.json") with no home folder (no HOME, a uid
    with no passwd entry) raised Path.expanduser's bare RuntimeError."""

    def no_home(self: Path) -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "expanduser", no_home)
    with pytest.raises(ConfigurationError, match="no home folder to expand it to"):
        FileTokenStore("~/.cache/oeus-kraken/tokens.json")


@pytest.mark.parametrize("folder", ["the folder meant for the file", "~", "a link to a folder"])
def test_a_token_store_path_that_is_a_folder_already_is_refused_when_made(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FileTokenStore("~/.cache/oeus-kraken"), the folder meant for the file, or "~", was
    taken: every run then warned that the store "is not a regular file" and "could not be
    written (Is a directory)", kept no token, and left a lock file beside the folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    meant = tmp_path / ".cache" / "oeus-kraken"
    meant.mkdir(parents=True)
    link = tmp_path / "tokens"
    link.symlink_to(meant)
    given = {
        "the folder meant for the file": str(meant),
        "~": "~",
        "a link to a folder": str(link),
    }[folder]

    with pytest.raises(ConfigurationError, match="is a folder") as raised:
        FileTokenStore(given)

    assert "tokens.json" in str(raised.value)  # what to give instead
    assert sorted(os.listdir(tmp_path)) == [".cache", "tokens"]  # no lock file made
    assert os.listdir(meant) == []


@pytest.mark.parametrize("given", ["", ".", "/", "..", "tokens/", "cache/tokens\0.json"])
def test_a_token_store_path_that_names_no_file_is_refused_when_made_never_at_each_save(
    given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FileTokenStore(".") or ("tokens/") was taken, and every load or save then raised
    ValueError (its lock file's name is made from the file's, and a folder has none; a NUL is
    no path at all): the clients logged "token store FileTokenStore failed to save" on every
    call and kept no token. Refused as the store is made, as every other option is."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=r"names a folder|NUL"):
        FileTokenStore(given)
