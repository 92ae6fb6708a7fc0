"""oeus_kraken._compat: each answer is the same on every supported Python (3.10 to 3.13).

These tests mean most on the versions where _compat does the work itself (3.10): they run on
each of them with `make test-pythons`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from oeus_kraken._compat import (
    code_qualname,
    date_fromisoformat,
    datetime_fromisoformat,
    packages_distributions,
    toml_loads,
)
from oeus_kraken.sandbox import SandboxServer

UTC = timezone.utc
NEW_YEAR = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T00:00:00+00:00", NEW_YEAR),  # what isoformat() writes: 3.10 read only this
        ("2024-01-01T00:00:00Z", NEW_YEAR),
        ("20240101T000000Z", NEW_YEAR),
        ("2024-W01-1T00:00Z", NEW_YEAR),
        ("2024-01-01T01:00:00+0100", NEW_YEAR),
        ("2024-01-01 01:00+01", NEW_YEAR),
        ("2024-01-01T00:00:00.5Z", NEW_YEAR + timedelta(milliseconds=500)),
        ("2024-01-01T00:00:00.1234567Z", NEW_YEAR + timedelta(microseconds=123456)),
        ("2024-01-01", datetime(2024, 1, 1)),  # naive, as written
    ],
)
def test_datetime_fromisoformat_reads_iso_8601_as_python_3_11_does(
    text: str, expected: datetime
) -> None:
    assert datetime_fromisoformat(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01", date(2024, 1, 1)),
        ("20240101", date(2024, 1, 1)),
        ("2024-W01-1", date(2024, 1, 1)),
    ],
)
def test_date_fromisoformat_reads_iso_8601_as_python_3_11_does(text: str, expected: date) -> None:
    assert date_fromisoformat(text) == expected


@pytest.mark.parametrize("text", ["2024-13-01", "2024-001", "2024-01-01T00:00", "yesterday", ""])
def test_date_fromisoformat_refuses_what_is_not_a_calendar_date(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the stdlib's own message, which varies)
        date_fromisoformat(text)


@pytest.mark.parametrize("text", ["2024-01-01T24:00:00", "2024-01-01T00:00:00+25:00", "noon"])
def test_datetime_fromisoformat_refuses_what_is_not_a_date_time(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        datetime_fromisoformat(text)


def test_packages_distributions_finds_packages_from_wheels_without_top_level_txt() -> None:
    # httpx and pydantic are built by hatchling, which writes no top_level.txt: 3.10's own
    # importlib.metadata does not see them; PyJWT (setuptools) writes one.
    found = packages_distributions()
    assert found["httpx"] == ["httpx"]
    assert found["pydantic"] == ["pydantic"]
    assert found["jwt"] == ["PyJWT"]


class Sender:
    def send(self) -> None: ...


class OtherSender:
    def send(self) -> None: ...


def test_code_qualname_tells_apart_same_named_methods_of_one_module() -> None:
    def nested() -> None: ...

    assert code_qualname(Sender.send.__code__) == "Sender.send"
    assert code_qualname(OtherSender.send.__code__) == "OtherSender.send"
    assert code_qualname(nested.__code__).endswith("<locals>.nested")


def test_toml_loads_parses_toml() -> None:
    assert toml_loads('[tool.x]\nname = "a"\nn = 1\n') == {"tool": {"x": {"name": "a", "n": 1}}}
    with pytest.raises(ValueError):  # noqa: PT011 (tomllib's and tomli's TOMLDecodeError)
        toml_loads("[unclosed")


@pytest.mark.parametrize(
    "available_at",
    ["2023-07-01T00:00:00Z", "20230701T000000Z", "2023-07-01T00:00:00.000+00:00", "2023-W26-6"],
)
def test_the_sandbox_reads_a_datetime_argument_alike_on_every_python(
    sandbox: SandboxServer, available_at: str
) -> None:
    query = "query q($at: DateTime) { products(availableAt: $at) { code } }"
    answer = httpx.post(sandbox.url, json={"query": query, "variables": {"at": available_at}})
    body = answer.json()
    assert "errors" not in body, body
    codes = [p["code"] for p in body["data"]["products"]]
    assert codes == ["OCTOPUS-MONTH-TO-MONTH", "OCTOPUS-EXTRA-90-DAY-FIXED"]
