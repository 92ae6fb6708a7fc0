"""README's Options table read as a contract: the default it prints for each option is the one the
constructors have, spelt as Python, so `help(KrakenClient)` and the README never disagree.

Each row's "default" cell opens with a Python expression in backquotes (words after it may say
what that default means); evaluated with `oeus_kraken`, `httpx` and `time` in scope, it must equal
the default of that keyword in `KrakenClient`, `SyncKrakenClient` and, for the options it shares
with them, `KrakenAuth`. Every keyword of the constructors has a row, and every row a keyword.
"""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import oeus_kraken
from oeus_kraken import (
    PRODUCTION_URL,
    ConfigurationError,
    KrakenAuth,
    KrakenClient,
    SyncKrakenClient,
)

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
CONSTRUCTORS = [KrakenClient, SyncKrakenClient]


def options_table() -> dict[str, str]:
    """Option name -> its default cell, from the table under "### Options"."""
    section = README.split("### Options", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = re.match(r"`(\w+)`", cells[0])
        if name is not None and len(cells) >= 3:
            rows[name.group(1)] = cells[1]
    return rows


def documented_default(cell: str) -> Any:
    expression = re.match(r"`([^`]+)`", cell)
    assert expression is not None, f"the default cell {cell!r} does not open with `a Python value`"
    namespace = {**vars(oeus_kraken), "httpx": httpx, "time": time}
    return eval(expression.group(1), namespace)  # noqa: S307 (our own README, in a test)


def signature_defaults(constructor: Any) -> dict[str, Any]:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(constructor).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def test_the_options_table_has_a_row_for_every_keyword_of_both_constructors() -> None:
    for constructor in CONSTRUCTORS:
        assert set(options_table()) == set(signature_defaults(constructor)), constructor.__name__


@pytest.mark.parametrize("constructor", CONSTRUCTORS, ids=lambda c: c.__name__)
def test_each_options_table_default_is_the_constructors_default_spelt_as_python(
    constructor: Any,
) -> None:
    defaults = signature_defaults(constructor)
    wrong = {
        name: (cell, defaults[name])
        for name, cell in options_table().items()
        if name in defaults and documented_default(cell) != defaults[name]
    }
    assert wrong == {}, "README says (cell) but the constructor has (default)"


def test_kraken_auth_has_the_clients_defaults_for_the_options_it_shares() -> None:
    shared = signature_defaults(KrakenAuth)
    documented = {name: documented_default(cell) for name, cell in options_table().items()}
    assert {name: documented[name] for name in shared} == shared


def test_a_default_clock_is_time_time_as_the_options_table_says() -> None:
    # The table shows `None`, and says what it means: the time from `time.time`.
    with SyncKrakenClient(PRODUCTION_URL) as kraken:
        before = time.time()
        now = kraken.auth._clock()
        assert before <= now <= time.time()


@pytest.mark.parametrize("constructor", [*CONSTRUCTORS, KrakenAuth], ids=lambda c: c.__name__)
def test_a_clock_that_is_not_callable_is_refused_when_the_client_is_made(constructor: Any) -> None:
    with pytest.raises(ConfigurationError, match="clock"):
        constructor(clock=1_800_000_000.0)


@pytest.mark.parametrize("constructor", [*CONSTRUCTORS, KrakenAuth], ids=lambda c: c.__name__)
def test_the_clock_is_not_read_when_the_client_is_made(constructor: Any) -> None:
    # A caller's clock may be a script of times (`lambda: next(times)`): a reading taken at
    # construction would use up its first one.
    readings: list[float] = []

    def clock() -> float:
        readings.append(time.time())
        return readings[-1]

    constructor(clock=clock)
    assert readings == []


@pytest.mark.parametrize("constructor", [*CONSTRUCTORS, KrakenAuth], ids=lambda c: c.__name__)
@pytest.mark.parametrize("flag", ["false", "no", 0, 1, None], ids=repr)
def test_allow_insecure_http_that_is_not_a_bool_is_refused_when_the_client_is_made(
    constructor: Any, flag: object
) -> None:
    # A flag read from a file or the environment is a string, and "false" is true: it let plain
    # http:// to another host through, credential and token in clear. Like every other option,
    # a value of the wrong type is refused, saying what to give.
    with pytest.raises(ConfigurationError, match=r"allow_insecure_http must be True or False"):
        constructor(url="http://kraken.example.com/graphql", allow_insecure_http=flag)


def test_the_kraken_auth_section_names_every_keyword_kraken_auth_takes() -> None:
    section = README.split("## Kraken authentication for any httpx client", 1)[1].split("\n## ")[0]
    keywords = [name for name in inspect.signature(KrakenAuth).parameters if name != "credentials"]
    assert [name for name in keywords if f"{name}=" not in section] == []


@pytest.mark.parametrize("constructor", CONSTRUCTORS, ids=lambda c: c.__name__)
def test_from_env_given_an_option_the_constructors_have_not_names_it_in_a_configuration_error(
    constructor: Any,
) -> None:
    with pytest.raises(ConfigurationError, match="timout"):
        constructor.from_env({}, timout=5.0)


@pytest.mark.parametrize("constructor", CONSTRUCTORS, ids=lambda c: c.__name__)
def test_a_timeout_in_seconds_sets_what_the_options_table_says_it_sets(constructor: Any) -> None:
    # A number is not httpx's (all four parts): connecting keeps at most its default 5 s. The
    # table says so with examples ("`60` is `httpx.Timeout(60.0, connect=5.0)`"), checked here.
    row = next(line for line in README.splitlines() if line.startswith("| `timeout` |"))
    examples = re.findall(r"`(\d+)` is `([^`]+)`", row)
    assert examples, "the timeout row shows no `N` is `httpx.Timeout(...)` example"
    for seconds, timeout in examples:
        client = constructor(timeout=int(seconds))
        assert client.http_client.timeout == documented_default(f"`{timeout}`"), seconds
