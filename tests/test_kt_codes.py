"""Every KT-CT code in the one table, through both clients: the client does what the table says.

The table (`oeus_kraken._kt_codes.CODES`) gives each code a category and an action. Each test
below answers a request with one code and checks the action: the requests that follow (counted
at the fake server), and the error that reaches the caller. A code added to the table without a
behaviour here fails `test_every_category_has_a_behaviour_test`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from auth_helpers import (
    MARGIN,
    OBTAIN,
    REFRESH,
    START,
    TOKEN_LIFETIME,
    Driver,
    FakeClock,
    FakeKraken,
    Waits,
    error_reply,
)
from conftest import connector

from oeus_kraken import (
    AuthenticationError,
    GraphQLError,
    PermissionDeniedError,
    QueryTooLargeError,
    RateLimitError,
)
from oeus_kraken._kt_codes import CODES, Category, codes_in
from oeus_kraken.sandbox._errors import ERROR_CATALOGUE

RETRIES = 2


@pytest.fixture
async def kraken(
    kind: str, clock: FakeClock, server: FakeKraken, waits: Waits
) -> AsyncIterator[Driver]:
    connect, made = connector(kind, clock, server, max_retries=RETRIES)
    yield connect()
    for driver in made:
        await driver.close()


def codes(category: Category) -> list[str]:
    return sorted(codes_in(category))


def operations(server: FakeKraken) -> list[str | None]:
    return [s.operation for s in server.sent]


def test_every_category_has_a_behaviour_test() -> None:
    tested = {
        Category.TOKEN_REJECTED,
        Category.REFRESH_TOKEN_REJECTED,
        Category.BAD_CREDENTIALS,
        Category.NOT_AUTHENTICATED,
        Category.PERMISSION,
        Category.RATE_LIMIT,
        Category.TOO_LARGE,
        Category.REQUEST_ERROR,
    }
    assert {entry.category for entry in CODES.values()} <= tested
    assert set(Category) == tested


def test_the_sandbox_answers_every_code_the_way_the_table_says() -> None:
    assert set(ERROR_CATALOGUE) == set(CODES)
    for code, entry in CODES.items():
        assert ERROR_CATALOGUE[code].message == entry.api_message
        assert ERROR_CATALOGUE[code].error_type == entry.error_type


@pytest.mark.parametrize("code", codes(Category.TOKEN_REJECTED))
async def test_a_rejected_token_is_renewed_once_and_the_request_resent(
    kraken: Driver, server: FakeKraken, code: str
) -> None:
    server.queue("getViewer", error_reply(code))

    result = await kraken.call("get_viewer")

    assert result.viewer is not None
    renewal = REFRESH if code in ("KT-CT-1120", "KT-CT-1124") else OBTAIN
    assert operations(server) == [OBTAIN, "getViewer", renewal, "getViewer"]


@pytest.mark.parametrize("code", codes(Category.REFRESH_TOKEN_REJECTED))
async def test_a_rejected_refresh_token_is_dropped_and_the_credential_obtains(
    kraken: Driver, server: FakeKraken, clock: FakeClock, code: str
) -> None:
    await kraken.call("get_viewer")
    clock.now = START + TOKEN_LIFETIME - MARGIN + 1  # inside the refresh margin
    server.queue(REFRESH, error_reply(code))

    await kraken.call("get_viewer")

    assert operations(server) == [OBTAIN, "getViewer", REFRESH, OBTAIN, "getViewer"]


@pytest.mark.parametrize("code", codes(Category.BAD_CREDENTIALS))
async def test_bad_credentials_raise_at_once_and_are_never_sent_again(
    kraken: Driver, server: FakeKraken, clock: FakeClock, code: str
) -> None:
    """The one test of this rule: each code the table says means bad credentials, on both
    clients. The first call raises at once, in our words with the code (not the API's message);
    however long it has been, every later call raises again without sending anything."""
    entry = CODES[code]
    server.queue(OBTAIN, error_reply(code, message="Invalid data.", error_type=entry.error_type))
    with pytest.raises(AuthenticationError) as first:
        await kraken.call("get_viewer")
    assert first.value.error_code == code
    assert f"authentication failed: {entry.meaning} ({code})" in str(first.value)
    assert first.value.__cause__ is not first.value

    for wait in (0, 1, 3600, 30 * 86400, 365 * 86400):  # retrying cannot help, however late
        clock.advance(wait)
        with pytest.raises(AuthenticationError) as again:
            await kraken.call("get_viewer")
        assert again.value.error_code == code
        assert entry.meaning in str(again.value)
        assert "will not send this API key again" in str(again.value)
    assert operations(server) == [OBTAIN]  # no retry, no data call, ever


@pytest.mark.parametrize("code", codes(Category.NOT_AUTHENTICATED))
async def test_an_operation_needing_credentials_raises_authentication_error(
    kraken: Driver, server: FakeKraken, code: str
) -> None:
    server.queue("getViewer", error_reply(code))
    with pytest.raises(AuthenticationError) as raised:
        await kraken.call("get_viewer")
    assert raised.value.error_code == code
    assert operations(server) == [OBTAIN, "getViewer"]


@pytest.mark.parametrize(
    ("category", "error_class"),
    [
        (Category.PERMISSION, PermissionDeniedError),
        (Category.TOO_LARGE, QueryTooLargeError),
        (Category.REQUEST_ERROR, GraphQLError),
    ],
)
async def test_errors_retrying_cannot_cure_are_raised_without_a_retry(
    kraken: Driver, server: FakeKraken, category: Category, error_class: type[Exception]
) -> None:
    for code in codes(category):
        server.sent.clear()
        server.queue("getViewer", error_reply(code, error_type=CODES[code].error_type))
        with pytest.raises(error_class) as raised:
            await kraken.call("get_viewer")
        assert type(raised.value) is error_class
        assert raised.value.error_code == code  # type: ignore[attr-defined]
        assert [op for op in operations(server) if op == "getViewer"] == ["getViewer"]
        if category is Category.TOO_LARGE:
            assert "Ask for less" in str(raised.value)


@pytest.mark.parametrize("code", codes(Category.RATE_LIMIT))
async def test_a_rate_limit_is_backed_off_and_retried_then_raised_as_rate_limit_error(
    kraken: Driver, server: FakeKraken, waits: Waits, code: str
) -> None:
    server.set_default("getViewer", error_reply(code))
    with pytest.raises(RateLimitError) as raised:
        await kraken.call("get_viewer")
    assert not isinstance(raised.value, AuthenticationError)
    assert operations(server).count("getViewer") == RETRIES + 1
    assert len(waits.delays) == RETRIES


def test_each_code_has_its_plain_words_and_an_action() -> None:
    for code, entry in CODES.items():
        assert code.startswith("KT-CT-")
        assert entry.meaning
        assert not entry.meaning.endswith(".")  # goes inside a sentence of ours
        assert entry.action
