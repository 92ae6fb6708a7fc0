"""The sandbox's seeded data: account users, an organisation, Texas accounts, ledgers, products.

Everything here is built deterministically at import (no randomness, no clock), and every secret is
a clearly sandbox-only value. Attribute names are the snake_case of the GraphQL field names, so the
default resolver (`_fake.py`) finds `postedDate` as `posted_date`; fields the sandbox has no value
for are fabricated from the schema instead.

Money is in cents (Kraken's integer convention); rates are Decimal cents per kWh or per month.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import ClassVar

__all__ = [
    "DEMO_ACCOUNT_NUMBERS",
    "DEMO_API_KEY",
    "DEMO_EMAIL",
    "DEMO_ORGANIZATION_SECRET_KEY",
    "DEMO_PASSWORD",
    "OTHER_ACCOUNT_NUMBER",
    "OTHER_API_KEY",
    "OTHER_EMAIL",
    "OTHER_PASSWORD",
    "TDSPS",
    "Account",
    "AccountUser",
    "Amounts",
    "ElectricityMeterPoint",
    "Ledger",
    "Organization",
    "Product",
    "Property",
    "RichAddress",
    "SandboxData",
    "Tdsp",
    "Transaction",
]

# -- demo credentials (sandbox-only values) -------------------------------------------------------

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 (a published sandbox-only value)
DEMO_API_KEY = "sk_test_demo_api_key_0123456789abcdef"
OTHER_EMAIL = "sam.patel@example.com"
OTHER_PASSWORD = "other-password"  # noqa: S105
OTHER_API_KEY = "sk_test_other_api_key_fedcba9876543210"
DEMO_ORGANIZATION_SECRET_KEY = "sk_test_org_sandbox_0123456789abcdef"  # noqa: S105

DEMO_ACCOUNT_NUMBERS = ("A-5F3C9D21", "A-7B4E0A18")  # the demo user's two accounts
OTHER_ACCOUNT_NUMBER = "A-2D8F6C34"  # the other user's account

# -- Texas TDSPs and ZIP codes -------------------------------------------------------------------


@dataclass(frozen=True)
class Tdsp:
    """A transmission and distribution service provider and its delivery charges."""

    service_provider: str  # ServiceProvider enum value
    load_zone: str  # LoadZone enum value
    name: str
    consumption_rate: Decimal  # cents per kWh
    standing_rate: Decimal  # cents per month
    esi_id_prefix: str


# Residential delivery charges as the PUCT approved them from March 1, 2024 (the latest table
# giving all five TDSPs, per kWh and per month, that we could find published: "Texas TDU Delivery
# Charges - Residential", electricityplans.com/texas/tdu-delivery-charges/, updated 2024-03-01,
# which republishes the PUCT's summary of TDU charges). Real charges change every March and
# September; the sandbox keeps these.
_C = Decimal  # the figures below are cents: per kWh, then per month
TDSPS: tuple[Tdsp, ...] = (
    Tdsp("ONCOR", "LZ_NORTH", "Oncor Electric Delivery", _C("4.54030"), _C("423"), "1044372"),
    Tdsp("CENTERPOINT", "LZ_HOUSTON", "CenterPoint Energy", _C("3.89570"), _C("439"), "1008901"),
    Tdsp("AEP_TCC", "LZ_SOUTH", "AEP Texas Central", _C("4.87870"), _C("479"), "1003278"),
    Tdsp("AEP_TNC", "LZ_SOUTH", "AEP Texas North", _C("4.52540"), _C("479"), "1020404"),
    Tdsp("TNMP", "LZ_WEST", "Texas-New Mexico Power", _C("5.03830"), _C("785"), "1040051"),
)
TDSPS_BY_CODE = {tdsp.service_provider: tdsp for tdsp in TDSPS}

# ZIP code -> the TDSPs serving it.
TDSPS_BY_POSTAL_CODE: dict[str, tuple[str, ...]] = {
    "75001": ("ONCOR",),  # Addison
    "75201": ("ONCOR",),  # Dallas
    "75204": ("ONCOR",),  # Dallas
    "76102": ("ONCOR",),  # Fort Worth
    "79701": ("ONCOR",),  # Midland
    "77002": ("CENTERPOINT",),  # Houston
    "77006": ("CENTERPOINT",),  # Houston
    "77494": ("CENTERPOINT",),  # Katy
    "78401": ("AEP_TCC",),  # Corpus Christi
    "78501": ("AEP_TCC",),  # McAllen
    "79601": ("AEP_TNC",),  # Abilene
    "76903": ("AEP_TNC",),  # San Angelo
    "76401": ("TNMP",),  # Stephenville
    "77573": ("TNMP", "CENTERPOINT"),  # League City: two TDSPs serve parts of it
}

# Energy-charge adjustment per ERCOT load zone, cents per kWh.
LOAD_ZONE_ADJUSTMENTS: dict[str, Decimal] = {
    "LZ_NORTH": Decimal("0"),
    "LZ_HOUSTON": Decimal("0.15000"),
    "LZ_SOUTH": Decimal("0.35000"),
    "LZ_WEST": Decimal("0.55000"),
}


ESI_ID_DIGITS = range(17, 23)
"""An ESI ID is 17 to 22 digits (Oncor's 17, CenterPoint's 22), its TDSP's number first."""


def tdsp_for_esi_id(esi_id: str) -> Tdsp | None:
    """The TDSP an ESI ID's leading digits name; None for anything that is no ESI ID."""
    if not (esi_id.isascii() and esi_id.isdigit() and len(esi_id) in ESI_ID_DIGITS):
        return None
    return next((t for t in TDSPS if esi_id.startswith(t.esi_id_prefix)), None)


# -- products --------------------------------------------------------------------------------------

_CENTRAL = timezone(timedelta(hours=-6))


@dataclass(frozen=True)
class Product:
    """Served as both ProductType and ProductWithConciseApplicableRatesType."""

    id: str
    code: str
    display_name: str
    full_name: str
    description: str
    term: int | None  # months; None for month-to-month
    energy_rate: Decimal  # cents per kWh in LZ_NORTH (time-of-use: the day rate)
    available_from: datetime
    available_to: datetime | None = None
    night_rate: Decimal | None = None  # time-of-use products only
    # The product's own charge per month and per ESI ID, whatever the usage: a subscription (or
    # base) fee, cents per month. Every product on offer has one.
    monthly_fee: Decimal = Decimal("0")
    prepay: bool = False
    is_wholesale: bool = False
    generation_credit: Decimal | None = None
    notes: str = ""
    market_name: str = "ERCOT"

    @property
    def based_on_time_of_use(self) -> bool:
        return self.night_rate is not None

    @property
    def terms_contract_type(self) -> str:
        return "VARIABLE" if self.term is None or self.is_wholesale else "FIXED"

    @property
    def availability_status(self) -> str:
        return "PUBLIC"

    def available_at(self, when: datetime) -> bool:
        if when < self.available_from:
            return False
        return self.available_to is None or when < self.available_to


PRODUCTS: tuple[Product, ...] = (
    Product(
        id="21",
        code="OCTOPUS-12M-FIXED",
        display_name="Octopus 12M Fixed",
        full_name="Octopus 12 Month Fixed",
        description="A simple fixed rate for 12 months, 100% renewable.",
        term=12,
        energy_rate=Decimal("14.20150"),
        monthly_fee=Decimal("495"),
        available_from=datetime(2024, 1, 1, tzinfo=_CENTRAL),
    ),
    Product(
        id="22",
        code="OCTOPUS-24M-FIXED",
        display_name="Octopus 24M Fixed",
        full_name="Octopus 24 Month Fixed",
        description="Lock in a fixed rate for two years.",
        term=24,
        energy_rate=Decimal("13.85020"),
        monthly_fee=Decimal("995"),
        available_from=datetime(2024, 1, 1, tzinfo=_CENTRAL),
    ),
    Product(
        id="23",
        code="OCTOPUS-MONTH-TO-MONTH",
        display_name="Octopus Month-to-Month",
        full_name="Octopus Month-to-Month Variable",
        description="No contract, no cancellation fee; the rate may change monthly.",
        term=None,
        energy_rate=Decimal("15.10400"),
        monthly_fee=Decimal("250"),
        available_from=datetime(2023, 6, 1, tzinfo=_CENTRAL),
    ),
    Product(
        id="40",
        code="INTELLIGENT-OCTOPUS-12M",
        display_name="Octo 12 with Intelligent Octopus",
        full_name="Intelligent Octopus 12 Month Fixed",
        description="Cheaper nights for smart EV charging; a fixed rate for 12 months.",
        term=12,
        energy_rate=Decimal("15.65000"),
        night_rate=Decimal("7.50000"),
        monthly_fee=Decimal("995"),
        available_from=datetime(2024, 3, 1, tzinfo=_CENTRAL),
    ),
    Product(
        id="51",
        code="OCTOGO-12M",
        display_name="OctoGo 12",
        full_name="OctoGo 12 Month Prepaid",
        description="Pay as you go, with a fixed rate for 12 months.",
        term=12,
        energy_rate=Decimal("14.95000"),
        monthly_fee=Decimal("500"),
        prepay=True,
        available_from=datetime(2024, 1, 1, tzinfo=_CENTRAL),
    ),
    Product(
        id="60",
        code="OCTOPUS-WHOLESALE-MTM",
        display_name="Octopus Wholesale",
        full_name="Octopus Wholesale Month-to-Month",
        description="Pay the ERCOT real-time price plus a fixed adder, every 15 minutes.",
        term=None,
        energy_rate=Decimal("9.80000"),  # a typical month's average, for rate comparisons
        monthly_fee=Decimal("1000"),
        is_wholesale=True,
        available_from=datetime(2024, 6, 1, tzinfo=_CENTRAL),
    ),
    Product(
        id="9",
        code="OCTOPUS-EXTRA-90-DAY-FIXED",
        display_name="Octopus Extra 90 Day Fixed",
        full_name="Octopus Extra 90 Day Fixed (retired)",
        description="A retired three-month plan, kept for `availableAt` queries in the past.",
        term=3,
        energy_rate=Decimal("12.40000"),
        available_from=datetime(2022, 1, 1, tzinfo=_CENTRAL),
        available_to=datetime(2023, 12, 31, tzinfo=_CENTRAL),
    ),
)

# -- account users, organisation -------------------------------------------------------------------


@dataclass(frozen=True)
class AccountUser:
    typename: ClassVar[str] = "AccountUserType"

    id: str
    given_name: str
    family_name: str
    email: str
    mobile: str
    account_numbers: tuple[str, ...]
    password: str | None = field(default=None, repr=False)  # not a GraphQL field
    api_key: str | None = field(default=None, repr=False)  # not a GraphQL field
    landline: str = ""
    is_deceased: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def preferred_name(self) -> str:
        return self.given_name


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    secret_key: str = field(repr=False)
    # What `viewer` shows for an organisation token: an account-user-shaped record of the
    # organisation that lists every account (a sandbox convenience; see the package docstring).
    viewer: AccountUser


# -- properties, ledgers, accounts -----------------------------------------------------------------


@dataclass(frozen=True)
class RichAddress:
    street_address: str
    locality: str
    administrative_area: str
    postal_code: str
    country: str = "US"
    name: str | None = None


@dataclass(frozen=True)
class ElectricityMeterPoint:
    esi_id: str  # 17 digits; the platform schema calls it `mpan`
    status: str = "ACTIVE"
    energisation_status: str = "ENERGISED"

    @property
    def id(self) -> str:
        return self.esi_id

    @property
    def mpan(self) -> str:
        return self.esi_id


@dataclass(frozen=True)
class Property:
    id: str
    street: str
    city: str
    postal_code: str
    service_provider: str
    esi_ids: tuple[str, ...]
    state: str = "TX"

    @property
    def postcode(self) -> str:
        return self.postal_code

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.postal_code}"

    @property
    def split_address(self) -> tuple[str, ...]:
        return (self.street, f"{self.city}, {self.state} {self.postal_code}")

    @property
    def rich_address(self) -> RichAddress:
        return RichAddress(self.street, self.city, self.state, self.postal_code)

    @property
    def electricity_meter_points(self) -> tuple[ElectricityMeterPoint, ...]:
        return tuple(ElectricityMeterPoint(esi_id) for esi_id in self.esi_ids)

    @property
    def gas_meter_points(self) -> tuple[()]:
        return ()

    @property
    def load_zone(self) -> str:
        return TDSPS_BY_CODE[self.service_provider].load_zone


@dataclass(frozen=True)
class Amounts:
    net: int
    tax: int

    @property
    def gross(self) -> int:
        return self.net + self.tax


@dataclass(frozen=True)
class Transaction:
    typename: str  # "Charge", "Payment" or "Credit": the concrete TransactionType
    id: str
    account_number: str
    posted_date: date
    title: str
    amounts: Amounts
    note: str | None = None

    @property
    def created_at(self) -> datetime:
        day = self.posted_date
        return datetime(day.year, day.month, day.day, 14, 30, tzinfo=timezone.utc)

    @property
    def amount(self) -> int:
        return self.amounts.gross

    @property
    def signed_amount(self) -> int:
        """Effect on the balance (Kraken: positive balance = in credit)."""
        return -self.amounts.gross if self.typename == "Charge" else self.amounts.gross

    @property
    def is_credit(self) -> bool:
        return self.typename != "Charge"

    @property
    def is_account_charge(self) -> bool:
        return self.typename == "Charge"

    @property
    def is_account_payment(self) -> bool:
        return self.typename == "Payment"

    is_reversed: ClassVar[bool] = False
    is_held: ClassVar[bool] = False
    is_issued: ClassVar[bool] = True
    has_statement: ClassVar[bool] = True


# Monthly kWh for a typical North Texas home, January to December.
MONTHLY_KWH = (1020, 910, 880, 940, 1180, 1560, 1890, 1960, 1610, 1140, 920, 1050)
_CREDIT_TITLES = ("Referral credit", "Goodwill credit", "Autopay discount")


def _month(year: int, month: int, add: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + add
    return index // 12, index % 12 + 1


# What an account is charged for a month of consumption: (year, month) -> (net and tax in cents,
# kWh). `_charges.monthly_charge` prices the month's metered usage at the account's product.
MonthlyCharge = Callable[[int, int], tuple[Amounts, Decimal]]


@dataclass(frozen=True)
class BillingSchedule:
    """How a ledger's entries come about: each month from `first_month` on is charged on the 3rd
    of the next month and paid on the 17th (the first `paid_months`, default all), and the months
    whose index is in `credit_months` get a credit on the 25th."""

    account_number: str
    first_month: tuple[int, int]  # (year, month): the first month of consumption charged
    months: int
    id_base: int  # transaction ids count up from here
    charge: MonthlyCharge = field(compare=False, repr=False)
    credit_months: tuple[int, ...] = ()
    paid_months: int | None = None

    def entries(self) -> tuple[Transaction, ...]:
        """Every entry, newest first."""
        paid = self.months if self.paid_months is None else self.paid_months
        drafts: list[tuple[date, str, str, Amounts, str | None]] = []
        for i in range(self.months):
            consumed = _month(*self.first_month, i)
            year, month = _month(*self.first_month, i + 1)  # billed at the start of the next
            charge, kwh = self.charge(*consumed)
            note = f"{kwh} kWh"
            drafts.append((date(year, month, 3), "Charge", "Electricity", charge, note))
            if i < paid:
                payment = Amounts(charge.gross, 0)
                drafts.append((date(year, month, 17), "Payment", "Payment", payment, "Autopay"))
            if i in self.credit_months:
                title = _CREDIT_TITLES[i % len(_CREDIT_TITLES)]
                amount = 2500 if title == "Referral credit" else 500 + 100 * (i % 5)
                drafts.append((date(year, month, 25), "Credit", title, Amounts(amount, 0), None))
        drafts.sort(key=lambda d: d[0])
        entries = [
            Transaction(
                kind, str(self.id_base + n), self.account_number, posted, title, amounts, note
            )
            for n, (posted, kind, title, amounts, note) in enumerate(drafts)
        ]
        return tuple(reversed(entries))

    @property
    def starts(self) -> date:
        """The first day charged."""
        return date(*self.first_month, 1)


@dataclass(frozen=True)
class Ledger:
    id: str
    number: str
    name: str
    ledger_type: str
    schedule: BillingSchedule
    affects_account_balance: bool = True

    @functools.cached_property
    def entries(self) -> tuple[Transaction, ...]:
        """Newest first. Made on first use: the charges add up each month's metered usage,
        which takes a fraction of a second per account (once per process: see _charges)."""
        return self.schedule.entries()

    @property
    def balance(self) -> int:
        return sum(t.signed_amount for t in self.entries)

    @property
    def amount_owed_by_customer(self) -> int:
        return max(0, -self.balance)


@dataclass(frozen=True)
class Account:
    typename: ClassVar[str] = "AccountType"

    id: str
    number: str
    status: str
    owner_id: str
    billing_name: str
    billing_email: str
    properties: tuple[Property, ...]
    ledgers: tuple[Ledger, ...]
    brand: str = "OCTOPUS_ENERGY_USA"
    # Not GraphQL fields: the product the account's agreement is on (a `Product.id`), and how
    # its payments are made (an AccountPaymentTransactionTypeChoices value).
    product_id: str = "21"
    payment_method: str = "DD_REGULAR_COLLECTION"

    @property
    def balance(self) -> int:
        return sum(ledger.balance for ledger in self.ledgers if ledger.affects_account_balance)

    @property
    def overdue_balance(self) -> int:
        return 0

    @property
    def address(self) -> RichAddress:
        return self.properties[0].rich_address

    @property
    def billing_address(self) -> str:
        return self.properties[0].address

    @property
    def billing_address_postcode(self) -> str:
        return self.properties[0].postal_code

    @property
    def billing_country_code(self) -> str:
        return "US"

    @property
    def urn(self) -> str:
        return f"urn:kraken:account:{self.number}"


# How a month of an account is charged: (its product, its properties, year, month) -> (net and
# tax in cents, kWh). The sandbox's is `_charges.monthly_charge`, given to `SandboxData.seeded`.
AccountCharge = Callable[[Product, tuple[Property, ...], int, int], tuple[Amounts, Decimal]]


def _main_ledger(
    ledger_id: str,
    account_number: str,
    billed: tuple[Product, tuple[Property, ...], AccountCharge],
    *,
    first_month: tuple[int, int],
    months: int,
    id_base: int,
    credit_months: tuple[int, ...] = (),
    paid_months: int | None = None,
) -> Ledger:
    product, properties, charge = billed
    schedule = BillingSchedule(
        account_number,
        first_month,
        months,
        id_base,
        charge=functools.partial(charge, product, properties),
        credit_months=credit_months,
        paid_months=paid_months,
    )
    return Ledger(
        ledger_id, f"L-{account_number[2:]}", "Main account ledger", "MAIN_LEDGER", schedule
    )


def _build_accounts(charge: AccountCharge) -> tuple[Account, ...]:
    """The seeded accounts. Each ledger charges its months from the account's metered usage at
    its product's rates (`charge`); its last months are the usage year's (December 2025 to
    November 2026), billed on the 3rd of the next month."""
    main, second = DEMO_ACCOUNT_NUMBERS
    products = {product.id: product for product in PRODUCTS}
    dallas = (
        Property("5101", "2415 Elm Street", "Dallas", "75201", "ONCOR", ("10443720004512388",)),
    )
    houston = (
        Property(
            "5102",
            "1100 Louisiana Street Apt 804",
            "Houston",
            "77002",
            "CENTERPOINT",
            ("10089010023806217",),
        ),
    )
    south_texas = (
        Property(
            "5201", "418 Ocean Drive", "Corpus Christi", "78401", "AEP_TCC", ("10032789456123007",)
        ),
        # Two rentals: an account with several properties, whose measurements cost several
        # connections per request.
        Property(
            "5202",
            "3301 North 10th Street",
            "McAllen",
            "78501",
            "AEP_TCC",
            ("10032789517730442",),
        ),
        Property(
            "5203",
            "27 West Beauregard Avenue",
            "San Angelo",
            "76903",
            "AEP_TNC",
            ("10204049061285531",),
        ),
    )
    return (
        Account(
            id="3101",
            number=main,
            status="ACTIVE",
            owner_id="1001",
            billing_name="Jordan Rivera",
            billing_email=DEMO_EMAIL,
            properties=dallas,
            # 24 charges + 24 payments + 9 credits = 57 transactions, December 2024 to
            # November 2026.
            ledgers=(
                _main_ledger(
                    "8101",
                    main,
                    (products["21"], dallas, charge),
                    first_month=(2024, 12),
                    months=24,
                    credit_months=(0, 2, 5, 8, 11, 13, 16, 19, 22),
                    id_base=700000,
                ),
            ),
        ),
        Account(
            id="3102",
            number=second,
            status="ACTIVE",
            owner_id="1001",
            billing_name="Jordan Rivera",
            billing_email=DEMO_EMAIL,
            properties=houston,
            product_id="60",  # wholesale: its measurements carry costs
            payment_method="CREDIT_CARD",
            # 6 charges, June to November 2026, the last one not yet paid: the account owes money.
            ledgers=(
                _main_ledger(
                    "8102",
                    second,
                    (products["60"], houston, charge),
                    first_month=(2026, 6),
                    months=6,
                    paid_months=5,
                    id_base=710000,
                ),
            ),
        ),
        Account(
            id="3201",
            number=OTHER_ACCOUNT_NUMBER,
            status="ACTIVE",
            owner_id="1002",
            billing_name="Sam Patel",
            billing_email=OTHER_EMAIL,
            properties=south_texas,
            product_id="22",
            payment_method="DEBIT_CARD",
            ledgers=(
                _main_ledger(
                    "8201",
                    OTHER_ACCOUNT_NUMBER,
                    (products["22"], south_texas, charge),
                    first_month=(2026, 8),
                    months=4,
                    credit_months=(1,),
                    id_base=720000,
                ),
            ),
        ),
    )


@dataclass(frozen=True)
class SandboxData:
    """All seeded data, with the look-ups the resolvers and the token service need."""

    users: tuple[AccountUser, ...]
    organization: Organization
    accounts: tuple[Account, ...]
    products: tuple[Product, ...]

    def user(self, user_id: str) -> AccountUser | None:
        return next((u for u in self.users if u.id == user_id), None)

    def user_by_email(self, email: str) -> AccountUser | None:
        wanted = email.strip().lower()
        return next((u for u in self.users if u.email.lower() == wanted), None)

    def user_by_api_key(self, api_key: str) -> AccountUser | None:
        return next((u for u in self.users if u.api_key is not None and u.api_key == api_key), None)

    def account(self, number: str) -> Account | None:
        return next((a for a in self.accounts if a.number == number), None)

    def find_property(self, property_id: str) -> tuple[Account, Property] | None:
        """The property with this id, and the account it belongs to."""
        for account in self.accounts:
            for prop in account.properties:
                if prop.id == property_id:
                    return account, prop
        return None

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    def accounts_of(self, user: AccountUser) -> Iterator[Account]:
        for number in user.account_numbers:
            account = self.account(number)
            if account is not None:
                yield account

    @classmethod
    def seeded(cls, charge: AccountCharge) -> SandboxData:
        """The seeded data, its bills priced by `charge` (the sandbox's is
        `_charges.monthly_charge`, which prices the usage made up from this data)."""
        accounts = _build_accounts(charge)
        users = (
            AccountUser(
                id="1001",
                given_name="Jordan",
                family_name="Rivera",
                email=DEMO_EMAIL,
                mobile="+12145550143",
                account_numbers=DEMO_ACCOUNT_NUMBERS,
                password=DEMO_PASSWORD,
                api_key=DEMO_API_KEY,
            ),
            AccountUser(
                id="1002",
                given_name="Sam",
                family_name="Patel",
                email=OTHER_EMAIL,
                mobile="+13615550178",
                account_numbers=(OTHER_ACCOUNT_NUMBER,),
                password=OTHER_PASSWORD,
                api_key=OTHER_API_KEY,
            ),
        )
        organization = Organization(
            id="77",
            name="Sandbox Affiliate Organization",
            secret_key=DEMO_ORGANIZATION_SECRET_KEY,
            viewer=AccountUser(
                id="9077",
                given_name="Sandbox",
                family_name="Affiliate Organization",
                email="affiliates@example.com",
                mobile="",
                account_numbers=tuple(a.number for a in accounts),
            ),
        )
        return cls(users, organization, accounts, PRODUCTS)
