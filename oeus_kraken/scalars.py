"""Python types for the Kraken schema's custom scalars, used by the generated models.

codegen.toml maps each GraphQL scalar to a type here or in the standard library, and names the
parse (wire -> Python) and serialize (Python -> wire) functions below. This module must not import
anything from the rest of `oeus_kraken`: generated model modules import it while the package may
still be initialising.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias, Union

# A JSON value as `json.loads` returns it (GenericScalar, JSONString).
JSONValue: TypeAlias = Union[dict[str, Any], list[Any], str, int, float, bool, None]  # noqa: UP007
# (Union, not `|`: pydantic evaluates this alias at runtime, also on Python 3.10.)


def parse_decimal(value: object) -> object:
    """Kraken sends Decimal as a string ("20.00380"); keep every digit.

    A JSON number is converted through its shortest repr, so 0.1 becomes Decimal("0.1") rather
    than the binary float's 55 digits. Anything else is left for pydantic to reject with a clear
    validation error.
    """
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value):
            # Decimal() also reads "1_0" as 10, Arabic-Indic digits as theirs and skips spaces:
            # a garbled answer read as a number the API never sent. A ValueError makes it
            # pydantic's validation error (an InvalidResponseError naming the field).
            raise ValueError(f"a Decimal is a number spelt in ASCII digits, not {value[:40]!r}")
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")

# The serializers pass anything that is not their type through unchanged: ariadne-codegen calls
# them on optional operation arguments even when they are unset (UNSET) or None, and the client
# then drops UNSET and sends None as null. A value of their type the API would read otherwise
# than meant is refused before anything is sent.


def _refused(message: str) -> Exception:
    # Imported when needed: this module is imported while `oeus_kraken` may still initialise.
    from ._errors import ConfigurationError

    return ConfigurationError(message)


def serialize_decimal(value: object) -> object:
    """Send Decimals as strings: a JSON float would lose digits."""
    if not isinstance(value, Decimal):
        return value
    if not value.is_finite():
        # "NaN" would go as a string the API refuses after the round trip (a usage of NaN kWh).
        raise _refused(f"a Decimal variable must be a finite number, not Decimal('{value}')")
    return str(value)


def serialize_datetime(value: object) -> object:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        # mypy refuses it, untyped code does not: it went as "2026-01-01", midnight in a zone
        # of the API's choosing, or a GraphQLError.
        raise _refused(
            f"a DateTime variable takes a datetime with a time zone, not the date {value}: "
            "e.g. datetime.combine(day, time(), ZoneInfo('America/Chicago'))"
        )
    if not isinstance(value, _dt.datetime):
        return value
    if value.utcoffset() is None:
        # Without an offset the API would read it in a zone of its own choosing (or refuse
        # it): the instant sent would not be the one meant.
        raise _refused(
            f"a DateTime variable needs a time zone, and {value.isoformat()} has none: give "
            "it tzinfo (e.g. ZoneInfo('America/Chicago') for Texas local time, or timezone.utc)"
        )
    return value.isoformat()


def serialize_date(value: object) -> object:
    if isinstance(value, _dt.datetime):
        # A datetime is a date to Python and to mypy, but the API refuses its time: say which
        # day is meant (its .date() is the day on its own clock, which may not be Texas's).
        raise _refused(
            f"a Date variable takes a date, not the datetime {value.isoformat()}: pass the "
            "day meant, e.g. its .date(), or .astimezone(ZoneInfo('America/Chicago')).date()"
        )
    return value.isoformat() if isinstance(value, _dt.date) else value


def parse_json_string(value: object) -> object:
    """JSONString fields carry JSON encoded inside a string; decode it to a value."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
        except RecursionError:
            # The answer around it parsed, so only this value is absurd: a ValueError makes it
            # pydantic's validation error (an InvalidResponseError naming the field), where the
            # decoder's RecursionError escaped the client bare.
            raise ValueError("a JSON string nested too deeply to decode") from None
    return value


def _check_keys(value: object) -> None:
    """A TypeError for a dict key that is not a str, however deep."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("a dict key that is not a str")
            _check_keys(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_keys(item)


def serialize_json_string(value: JSONValue) -> str:
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and the API's store refuses them.
        encoded = json.dumps(value, separators=(",", ":"), allow_nan=False)
        # json.dumps writes a key 1 as "1" and None as "null": {1: "a", "1": "b"} would go with
        # "1" twice and the API keep one value of the two, silently. (After dumps, which has
        # refused a cycle, so this walk ends.)
        _check_keys(value)
    except (TypeError, ValueError, RecursionError) as exc:
        # The value itself is not quoted: metadata may hold what should not reach a log.
        raise _refused(
            "a JSONString variable takes what JSON holds: dicts with str keys, lists, str, int, "
            "float (not NaN or infinity), bool and None; convert the rest (a datetime to its "
            f".isoformat(), a Decimal to str) first ({type(exc).__name__})"
        ) from None
    return encoded


def parse_big_int(value: object) -> object:
    """BigInt may arrive as a string when it exceeds JavaScript's safe integer range."""
    if isinstance(value, str):
        if not _INTEGER_TEXT.fullmatch(value):
            # As for a Decimal: int() reads "1_000" as 1000 (cents, in a payment) and skips
            # spaces; a garbled answer is pydantic's validation error instead.
            raise ValueError(f"a BigInt is an integer spelt in ASCII digits, not {value[:40]!r}")
        try:
            return int(value)
        except ValueError:  # past Python's 4,300 digits
            return value
    return value


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
