"""Texas premises for `addressLookup`: every seeded property, their neighbours, and a few homes in
each ZIP code the sandbox knows, each with its ESI ID, TDSP and ERCOT load zone.

Premises of seeded accounts are Octopus customers (`isCustomer.isOeCustomer` true); the others are
not. A lookup takes an ESI ID, or a street address with a ZIP code: the address matches when it
starts the premise's street line once both are normalised (case, punctuation, runs of spaces,
and the usual suffix abbreviations: "1100 louisiana st" finds "1100 Louisiana Street"), and
`address2`, `city` and `state` narrow the result when given.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._data import TDSPS_BY_CODE, TDSPS_BY_POSTAL_CODE, Account, tdsp_for_esi_id
from ._errors import KrakenAPIError
from ._grid import unit_random

__all__ = ["Premise", "lookup", "premises"]

_CITIES = {
    "75001": "Addison",
    "75201": "Dallas",
    "75204": "Dallas",
    "76102": "Fort Worth",
    "79701": "Midland",
    "77002": "Houston",
    "77006": "Houston",
    "77494": "Katy",
    "78401": "Corpus Christi",
    "78501": "McAllen",
    "79601": "Abilene",
    "76903": "San Angelo",
    "76401": "Stephenville",
    "77573": "League City",
}
_STREETS = ("Oak Lawn Avenue", "Pecan Street", "Bluebonnet Drive", "Mesquite Lane", "Main Street")
_ABBREVIATIONS = {
    "street": "st",
    "avenue": "ave",
    "drive": "dr",
    "lane": "ln",
    "road": "rd",
    "boulevard": "blvd",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "apartment": "apt",
    "suite": "ste",
    "#": "apt",
}
_UNIT = re.compile(r"^(?P<street>.*?)\s+(?P<unit>(?:Apt|Unit|Ste|#)\s*\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Premise:
    esi_id: str
    house_number: str
    street: str  # the street line without the unit, e.g. "1100 Louisiana Street"
    unit: str | None  # e.g. "Apt 804"
    city: str
    postal_code: str
    is_customer: bool
    state: str = "TX"

    def to_graphql(self) -> dict[str, Any]:
        tdsp = tdsp_for_esi_id(self.esi_id)
        return {
            "houseNumber": self.house_number,
            "address": self.street,
            "address2": self.unit,
            "postCode": self.postal_code,
            "city": self.city,
            "state": self.state,
            "serviceProvider": tdsp.service_provider if tdsp else None,
            "loadZone": tdsp.load_zone if tdsp else None,
            "esiId": self.esi_id,
            "isCustomer": {"isOeCustomer": self.is_customer},
        }


def _split(street: str) -> tuple[str, str | None]:
    match = _UNIT.match(street)
    return (match["street"], match["unit"]) if match else (street, None)


def _normalised(text: str) -> str:
    words = re.sub(r"[.,]", " ", text.casefold().replace("#", " # ")).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def _esi_id(prefix: str, *seed: int) -> str:
    return prefix + f"{int(unit_random(*seed) * 10**10):010d}"


def _customers(accounts: Iterable[Account]) -> list[Premise]:
    found = []
    for account in accounts:
        for prop in account.properties:
            street, unit = _split(prop.street)
            for esi_id in prop.esi_ids:
                found.append(
                    Premise(
                        esi_id,
                        street.split()[0],
                        street,
                        unit,
                        prop.city,
                        prop.postal_code,
                        is_customer=True,
                    )
                )
    return found


def _neighbours(customers: list[Premise]) -> list[Premise]:
    """Other units in a customer's building, and the house next door."""
    found = []
    for n, premise in enumerate(customers):
        tdsp = tdsp_for_esi_id(premise.esi_id)
        if tdsp is None:
            continue
        number = premise.house_number
        if premise.unit is not None:
            for i, unit in enumerate(("Apt 805", "Apt 1203")):
                esi_id = _esi_id(tdsp.esi_id_prefix, n, i, 31)
                found.append(
                    Premise(
                        esi_id,
                        number,
                        premise.street,
                        unit,
                        premise.city,
                        premise.postal_code,
                        is_customer=False,
                    )
                )
        elif number.isdigit():
            next_door = str(int(number) + 2)
            street = next_door + premise.street[len(number) :]
            esi_id = _esi_id(tdsp.esi_id_prefix, n, 32)
            found.append(
                Premise(
                    esi_id,
                    next_door,
                    street,
                    None,
                    premise.city,
                    premise.postal_code,
                    is_customer=False,
                )
            )
    return found


def _homes() -> list[Premise]:
    """Three homes in every ZIP code the sandbox knows, numbered 1xxx, 2xxx and 3xxx."""
    found = []
    for z, (postal_code, codes) in enumerate(sorted(TDSPS_BY_POSTAL_CODE.items())):
        tdsp = TDSPS_BY_CODE[codes[0]]
        for i in range(3):
            number = str((i + 1) * 1000 + int(unit_random(z, i, 33) * 900))
            street = f"{number} {_STREETS[(z + i) % len(_STREETS)]}"
            esi_id = _esi_id(tdsp.esi_id_prefix, z, i, 34)
            found.append(
                Premise(
                    esi_id,
                    number,
                    street,
                    None,
                    _CITIES[postal_code],
                    postal_code,
                    is_customer=False,
                )
            )
    return found


@functools.lru_cache(maxsize=4)
def premises(accounts: tuple[Account, ...]) -> tuple[Premise, ...]:
    customers = _customers(accounts)
    return (*customers, *_neighbours(customers), *_homes())


def lookup(
    accounts: tuple[Account, ...],
    *,
    esi_id: str | None = None,
    address: str | None = None,
    address2: str | None = None,
    city: str | None = None,
    post_code: str | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """`addressLookup`: the premises matching an ESI ID, or an address in a ZIP code."""
    if esi_id is None and (address is None or post_code is None):
        raise KrakenAPIError(
            None,
            "addressLookup needs `esiId`, or `address` together with `postCode`.",
            error_type="VALIDATION",
        )
    found = []
    for premise in premises(accounts):
        if esi_id is not None and premise.esi_id != esi_id.strip():
            continue
        if post_code is not None and premise.postal_code != post_code.strip()[:5]:
            continue
        if address is not None and not _normalised(premise.street).startswith(_normalised(address)):
            continue
        if address2 is not None and _normalised(premise.unit or "") != _normalised(address2):
            continue
        if city is not None and premise.city.casefold() != city.strip().casefold():
            continue
        if state is not None and premise.state.casefold() != state.strip().casefold():
            continue
        found.append(premise.to_graphql())
    return found
