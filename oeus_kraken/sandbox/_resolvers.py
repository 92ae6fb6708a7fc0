"""Resolvers with behaviour: authentication, the seeded US data, pagination, scalars.

Every root field goes through `gate`: it checks the Authorization header (a bad or expired token
fails every field, public ones included, as on Kraken), applies the data rate-limit fault,
refuses protected fields without a token (KT-CT-1112), and refuses every field once the caller's
hourly points are spent (KT-CT-1199). Only `products`, `productsWithConciseApplicableRates`,
`tdspByPostalcode`, `getFanClubDiscount`, `obtainKrakenToken` and introspection are public.
Resolvers of object types fall back to the default resolver when their parent is not seeded data
(a fabricated object from `_fake.py`).

`RequestContext` also keeps the request's cost (see `_limits.py`): every connection resolver
charges it, a request over a cap is refused as a whole, and `finish` charges the caller's points.
The US surface's resolvers (usage, addresses, quotes, money, metadata, devices, Fan Club, budget)
are in `_us_resolvers.py`.
"""

# GraphQL argument names are camelCase, and resolvers take them as keyword arguments.
# ruff: noqa: N803

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ariadne import MutationType, ObjectType, QueryType, ScalarType, SchemaBindable
from graphql import GraphQLField, GraphQLResolveInfo, GraphQLSchema

from .._compat import date_fromisoformat, datetime_fromisoformat
from .._kt_codes import PUBLIC_ROOT_FIELDS
from ._auth import Principal
from ._data import Account, AccountUser, Ledger, Product, Transaction
from ._errors import KrakenAPIError
from ._fake import default_resolver
from ._limits import (
    COMPLEXITY_LIMIT,
    NODE_LIMIT,
    Allowance,
    PointsBudget,
    connection_cost,
    is_nested_connection,
)
from ._pagination import connection
from ._rates import concise_rates, filter_products, product_rates, tdsps_for_postal_code
from ._state import SandboxState
from ._usage import FeedSettings

__all__ = [
    "PUBLIC_FIELDS",
    "RequestContext",
    "bindables",
    "context_of",
    "gate_root_fields",
    "visible_account",
]

Resolver = Callable[..., Any]

# The root fields served without a token: the client's one list of them.
PUBLIC_FIELDS = {"Query": PUBLIC_ROOT_FIELDS, "Mutation": PUBLIC_ROOT_FIELDS}
TOKEN_FIELD = "obtainKrakenToken"  # noqa: S105 (a field name)


class RequestContext:
    """The GraphQL context of one request: the server state and the request's credentials."""

    def __init__(self, state: SandboxState, authorization: str | None) -> None:
        self.state = state
        self.authorization = authorization
        self._checked = False
        self._principal: Principal | None = None
        self._auth_error: KrakenAPIError | None = None
        self._rate_limited: bool | None = None
        self._now: float | None = None
        self._feed: FeedSettings | None = None
        self._allowance: Allowance | None = None
        # The request's cost so far (see _limits.py), and the cap it broke, if any.
        self.complexity = 1
        self.nodes = 0
        self.refusal: KrakenAPIError | None = None
        self.executed = False  # some root field other than obtainKrakenToken ran

    def principal(self) -> Principal | None:
        """Who the Authorization header speaks for (checked once per request)."""
        if not self._checked:
            self._checked = True
            try:
                self._principal = self.state.tokens.authenticate(self.authorization)
            except KrakenAPIError as error:
                self._auth_error = error
        if self._auth_error is not None:
            raise KrakenAPIError(
                self._auth_error.code,
                self._auth_error.message,
                description=self._auth_error.description,
                error_type=self._auth_error.error_type,
            )
        return self._principal

    def require_principal(self) -> Principal:
        principal = self.principal()
        if principal is None:
            raise KrakenAPIError("KT-CT-1112")
        return principal

    def now(self) -> float:
        """The sandbox time of this request (read once, so every field agrees)."""
        if self._now is None:
            self._now = self.state.clock()
        return self._now

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    def feed(self) -> FeedSettings:
        """The usage knobs as this request sees them."""
        if self._feed is None:
            self._feed = self.state.usage.settings
        return self._feed

    def _caller(self) -> tuple[str, str] | None:
        """(budget key, principal kind) of whoever the request speaks for; None if its token
        was refused."""
        if self._auth_error is not None:
            return None
        principal = self._principal
        if principal is None:
            return ("anonymous", "anonymous")
        return (principal.subject, principal.kind)

    def allowance(self) -> Allowance:
        """The caller's points allowance as it stood when the request arrived."""
        if self._allowance is None:
            key, kind = self._caller() or ("anonymous", "anonymous")
            limit = PointsBudget.limit_for(kind, self.state.faults.points_allowance)
            self._allowance = self.state.budget.allowance(key, limit, self.now())
        return self._allowance

    def charge_connection(self, info: GraphQLResolveInfo) -> None:
        """Add the connection `info` resolves to the request's cost; refuse the request
        (KT-CT-1189, then KT-CT-1188) once it is over a cap."""
        if is_nested_connection(info):
            return  # counted with the connection it sits in
        cost = connection_cost(info)
        self.nodes += cost.nodes
        self.complexity += cost.complexity
        if self.refusal is None and self.nodes > NODE_LIMIT:
            self.refusal = KrakenAPIError(
                "KT-CT-1189",
                description=(
                    f"The query could return {self.nodes:,} nodes; the limit is "
                    f"{NODE_LIMIT:,}. Ask for smaller pages."
                ),
            )
        elif self.refusal is None and self.complexity > (
            limit := self.state.faults.complexity_limit or COMPLEXITY_LIMIT
        ):
            self.refusal = KrakenAPIError(
                "KT-CT-1188",
                description=(
                    f"The query's complexity is {self.complexity}; the limit is "
                    f"{limit}. Ask for fewer fields or smaller pages."
                ),
            )
        if self.refusal is not None:
            raise self.refusal

    def finish(self, result: dict[str, Any]) -> dict[str, Any]:
        """The response for `result`, and the caller's points charged for it: a request over a
        cap answers only that error (and costs 1 point); an executed one costs its complexity."""
        points = self.complexity if self.executed else 0
        if self.refusal is not None:
            result = {
                "data": None,
                "errors": [
                    {"message": self.refusal.message, "extensions": self.refusal.extensions()}
                ],
            }
            points = 1
        caller = self._caller() if self._checked else None
        if points and caller is not None:
            self.state.budget.charge(caller[0], points, self.now())
        return result

    def data_rate_limited(self) -> bool:
        """Whether the data rate-limit fault applies to this request (decided once)."""
        if self._rate_limited is None:
            self._rate_limited = self.state.switches.take("data_rate_limit")
        return self._rate_limited


def context_of(info: GraphQLResolveInfo) -> RequestContext:
    context = info.context
    if not isinstance(context, RequestContext):
        raise TypeError("the sandbox schema runs with a RequestContext")
    return context


# -- the gate on root fields -----------------------------------------------------------------------


def _gated(resolver: Resolver, *, public: bool, token_field: bool) -> Resolver:
    def gated(parent: object, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        context = context_of(info)
        if token_field:
            context.state.switches.record_token_request()
            if context.state.switches.take("token_rate_limit"):
                raise KrakenAPIError("KT-CT-1199")
        elif context.data_rate_limited():
            raise KrakenAPIError("KT-CT-1199")
        principal = context.principal()
        if principal is None and not public:
            raise KrakenAPIError("KT-CT-1112")
        if not token_field:
            if context.allowance().blocked:
                raise KrakenAPIError(
                    "KT-CT-1199",
                    description=(
                        "This hour's points are spent; a new allowance starts at Unix time "
                        f"{context.allowance().resets_at}."
                    ),
                )
            context.executed = True
        return resolver(parent, info, **arguments)

    return gated


def gate_root_fields(schema: GraphQLSchema) -> None:
    for root in (schema.query_type, schema.mutation_type):
        if root is None:
            continue
        public = PUBLIC_FIELDS.get(root.name, frozenset())
        for name, field in root.fields.items():
            field.resolve = _gated(
                _resolver_of(field),
                public=name in public,
                token_field=root.name == "Mutation" and name == TOKEN_FIELD,
            )


def _resolver_of(field: GraphQLField) -> Resolver:
    return field.resolve or default_resolver


# -- Query / Mutation ------------------------------------------------------------------------------

query = QueryType()
mutation = MutationType()


@query.field("viewer")
def resolve_viewer(_: object, info: GraphQLResolveInfo) -> AccountUser | None:
    context = context_of(info)
    principal = context.require_principal()
    data = context.state.data
    if principal.kind == "organization":
        return data.organization.viewer
    return data.user(principal.id)


def visible_account(info: GraphQLResolveInfo, account_number: str) -> Account:
    context = context_of(info)
    principal = context.require_principal()
    account = context.state.data.account(account_number)
    if account is None or not principal.may_see(account):
        raise KrakenAPIError("KT-CT-4177")
    return account


@query.field("account")
def resolve_account(_: object, info: GraphQLResolveInfo, accountNumber: str) -> Account:
    return visible_account(info, accountNumber)


@query.field("properties")
def resolve_properties(
    _: object,
    info: GraphQLResolveInfo,
    accountNumber: str,
    active: bool | None = None,
) -> list[Any]:
    return list(visible_account(info, accountNumber).properties)


@query.field("products")
def resolve_products(
    _: object,
    info: GraphQLResolveInfo,
    id: str | None = None,
    displayName: str | None = None,
    prepay: bool | None = None,
    basedOnTimeOfUse: bool | None = None,
    availableAt: datetime | None = None,
) -> list[Product]:
    state = context_of(info).state
    return filter_products(
        state.data.products,
        now=_now(state),
        product_id=id,
        display_name=displayName,
        prepay=prepay,
        based_on_time_of_use=basedOnTimeOfUse,
        available_at=availableAt,
    )


@query.field("productsWithConciseApplicableRates")
def resolve_products_with_rates(
    _: object,
    info: GraphQLResolveInfo,
    filterProductsBy: dict[str, Any] | None = None,
) -> list[Product]:
    state = context_of(info).state
    filters = filterProductsBy or {}
    return filter_products(
        state.data.products,
        now=_now(state),
        product_id=filters.get("id"),
        display_name=filters.get("displayName"),
        based_on_time_of_use=filters.get("basedOnTimeOfUse"),
        available_at=filters.get("availableAt"),
    )


@query.field("tdspByPostalcode")
def resolve_tdsp_by_postal_code(
    _: object,
    info: GraphQLResolveInfo,
    postalCode: str,
) -> list[dict[str, str]]:
    return tdsps_for_postal_code(postalCode)


@mutation.field(TOKEN_FIELD)
def resolve_obtain_kraken_token(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    return context_of(info).state.tokens.obtain(input)


def _now(state: SandboxState) -> datetime:
    return datetime.fromtimestamp(state.clock(), tz=timezone.utc)


# -- accounts, ledgers, transactions ---------------------------------------------------------------

account_user_type = ObjectType("AccountUserType")
account_type = ObjectType("AccountType")
ledger_type = ObjectType("LedgerType")


@account_user_type.field("accounts")
def resolve_user_accounts(
    parent: object,
    info: GraphQLResolveInfo,
    restrictToAccountNumbers: list[str] | None = None,
    **arguments: Any,
) -> Any:
    if not isinstance(parent, AccountUser):
        return default_resolver(parent, info)
    accounts = list(context_of(info).state.data.accounts_of(parent))
    if restrictToAccountNumbers:
        accounts = [a for a in accounts if a.number in restrictToAccountNumbers]
    return accounts


@account_type.field("users")
def resolve_account_users(parent: object, info: GraphQLResolveInfo) -> Any:
    if not isinstance(parent, Account):
        return default_resolver(parent, info)
    owner = context_of(info).state.data.user(parent.owner_id)
    return [owner] if owner else []


@account_type.field("ledgers")
def resolve_ledgers(
    parent: object,
    info: GraphQLResolveInfo,
    ledgerId: str | None = None,
    ledgerNumber: str | None = None,
) -> Any:
    if not isinstance(parent, Account):
        return default_resolver(parent, info)
    return [
        ledger
        for ledger in parent.ledgers
        if (ledgerId is None or ledger.id == str(ledgerId))
        and (ledgerNumber is None or ledger.number == ledgerNumber)
    ]


# TransactionTypeFilter value -> the concrete transaction types it selects.
_TRANSACTION_FILTERS = {
    "ISSUED_TRANSACTIONS": frozenset({"Charge", "Payment", "Credit"}),
    "ENERGY_CHARGES": frozenset({"Charge"}),
    "IMPORTED_CHARGES": frozenset({"Charge"}),
    "IMPORTED_CREDITS": frozenset({"Credit"}),
    "IMPORTED_PAYMENTS": frozenset({"Payment"}),
    "IMPORTED_REPAYMENTS": frozenset(),
}


def _filter_types(
    entries: list[Transaction], transaction_types: list[str] | None
) -> list[Transaction]:
    if not transaction_types:
        return entries
    wanted: set[str] = set()
    for name in transaction_types:
        wanted |= _TRANSACTION_FILTERS.get(name, frozenset())
    return [t for t in entries if t.typename in wanted]


@ledger_type.field("transactions")
def resolve_ledger_transactions(
    parent: object,
    info: GraphQLResolveInfo,
    transactionTypes: list[str] | None = None,
    first: int | None = None,
    after: str | None = None,
    before: str | None = None,
    last: int | None = None,
) -> Any:
    if not isinstance(parent, Ledger):
        return default_resolver(parent, info)
    context_of(info).charge_connection(info)
    entries = _filter_types(list(parent.entries), transactionTypes)
    return connection(entries, first=first, after=after, before=before, last=last)


@account_type.field("transactions")
def resolve_account_transactions(
    parent: object,
    info: GraphQLResolveInfo,
    transactionTypes: list[str] | None = None,
    ledgerId: int | None = None,
    fromDate: date | None = None,
    toDate: date | None = None,
    orderBy: str = "POSTED_DATE_DESC",
    first: int | None = None,
    after: str | None = None,
    before: str | None = None,
    last: int | None = None,
    **arguments: Any,
) -> Any:
    if not isinstance(parent, Account):
        return default_resolver(parent, info)
    context_of(info).charge_connection(info)
    entries = [
        entry
        for ledger in parent.ledgers
        if ledgerId is None or ledger.id == str(ledgerId)
        for entry in ledger.entries
        if (fromDate is None or entry.posted_date >= fromDate)
        and (toDate is None or entry.posted_date <= toDate)
    ]
    entries.sort(key=lambda t: (t.posted_date, t.id), reverse=orderBy != "POSTED_DATE_ASC")
    entries = _filter_types(entries, transactionTypes)
    return connection(entries, first=first, after=after, before=before, last=last)


# -- products --------------------------------------------------------------------------------------

product_type = ObjectType("ProductType")
product_with_rates_type = ObjectType("ProductWithConciseApplicableRatesType")


@product_type.field("rates")
def resolve_product_rates(
    parent: object,
    info: GraphQLResolveInfo,
    serviceProvider: str | None = None,
    postcode: str | None = None,
    esiId: str | None = None,
) -> Any:
    if not isinstance(parent, Product):
        return default_resolver(parent, info)
    return product_rates(parent, service_provider=serviceProvider, postcode=postcode, esi_id=esiId)


@product_with_rates_type.field("rates")
def resolve_concise_rates(
    parent: object,
    info: GraphQLResolveInfo,
    filterRatesBy: dict[str, Any] | None = None,
) -> Any:
    if not isinstance(parent, Product):
        return default_resolver(parent, info)
    return concise_rates(parent, filterRatesBy)


# -- scalars ---------------------------------------------------------------------------------------


def _serialize_decimal(value: object) -> str:
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def _parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"Decimal expects a number or a numeric string, got {value!r}")
    try:
        parsed = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return parsed


def _serialize_datetime(value: object) -> str:
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value)


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"DateTime expects an ISO 8601 string, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime_fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _parse_date(value: object) -> date:
    if not isinstance(value, str):
        raise ValueError(f"Date expects an ISO 8601 date string, got {value!r}")
    try:
        return date_fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date") from None


def _serialize_json_string(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


scalars = [
    ScalarType("Decimal", serializer=_serialize_decimal, value_parser=_parse_decimal),
    ScalarType("DateTime", serializer=_serialize_datetime, value_parser=_parse_datetime),
    ScalarType("Date", serializer=_serialize_datetime, value_parser=_parse_date),
    ScalarType("JSONString", serializer=_serialize_json_string),
]


def bindables() -> list[SchemaBindable]:
    return [
        query,
        mutation,
        account_user_type,
        account_type,
        ledger_type,
        product_type,
        product_with_rates_type,
        *scalars,
    ]
