"""The one table of Kraken's KT-CT error codes: what each means and what the client does about it.

Kraken answers most failures with HTTP 200 and a GraphQL error whose `extensions.errorCode` is a
KT-CT code. Three parts of this package read the codes: the response reader (`_responses`, which
error class to raise), the token lifecycle (`_tokens`, which codes renew a token, drop a refresh
token or block credentials) and the sandbox (which message and errorType to answer with). They
all read this table, so a code can never mean one thing to one reader and another to the next.

    category                what the client does
    ----------------------  -----------------------------------------------------------------
    TOKEN_REJECTED          forget that token, obtain a new one, resend the request once
    REFRESH_TOKEN_REJECTED  drop the refresh token, obtain a new token with the primary credential
    BAD_CREDENTIALS         raise AuthenticationError; never send those credentials again
    NOT_AUTHENTICATED       raise AuthenticationError: the operation needs credentials
    PERMISSION              raise PermissionDeniedError; no retry
    RATE_LIMIT              raise RateLimitError after the retries; wait `Retry-After` first
    TOO_LARGE               raise QueryTooLargeError: ask for fewer fields or nodes; no retry
    REQUEST_ERROR           raise GraphQLError; no retry

Sources: the published Kraken error-code catalogue, as summarised in the project's FACTS.md. The
`api_message` column is the message Kraken sends (ours, modelled on the catalogue), which the
sandbox answers with; `meaning` is what our errors say, in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

__all__ = ["CODES", "PUBLIC_ROOT_FIELDS", "Category", "KrakenCode", "category_of", "codes_in"]

ErrorType = Literal["AUTHORIZATION", "VALIDATION", "NOT_FOUND", "APPLICATION"]


class Category(str, Enum):
    """What kind of failure a code signals; `action` says what the client does about it."""

    TOKEN_REJECTED = "token rejected"  # noqa: S105 (a category name)
    REFRESH_TOKEN_REJECTED = "refresh token rejected"  # noqa: S105
    BAD_CREDENTIALS = "bad credentials"
    NOT_AUTHENTICATED = "not authenticated"
    PERMISSION = "permission"
    RATE_LIMIT = "rate limit"
    TOO_LARGE = "request too large"
    REQUEST_ERROR = "request error"

    @property
    def action(self) -> str:
        return _ACTIONS[self]


_ACTIONS = {
    Category.TOKEN_REJECTED: "forget that token, obtain a new one and resend the request once",
    Category.REFRESH_TOKEN_REJECTED: "drop the refresh token; obtain with the primary credential",
    Category.BAD_CREDENTIALS: "raise AuthenticationError; never send those credentials again",
    Category.NOT_AUTHENTICATED: "raise AuthenticationError: the operation needs credentials",
    Category.PERMISSION: "raise PermissionDeniedError; no retry",
    Category.RATE_LIMIT: "back off (Retry-After), retry, then raise RateLimitError",
    Category.TOO_LARGE: "raise QueryTooLargeError: ask for fewer fields or nodes; no retry",
    Category.REQUEST_ERROR: "raise GraphQLError; no retry",
}


@dataclass(frozen=True)
class KrakenCode:
    code: str
    category: Category
    meaning: str  # plain words, for our error messages
    api_message: str  # what Kraken's `message` says (the sandbox answers with it)
    error_type: ErrorType  # Kraken's `extensions.errorType` for it

    @property
    def action(self) -> str:
        return self.category.action


def _code(
    code: str, category: Category, meaning: str, api_message: str, error_type: ErrorType
) -> tuple[str, KrakenCode]:
    return code, KrakenCode(code, category, meaning, api_message, error_type)


_T, _R, _B = Category.TOKEN_REJECTED, Category.REFRESH_TOKEN_REJECTED, Category.BAD_CREDENTIALS
_AUTH: ErrorType = "AUTHORIZATION"
_VALID: ErrorType = "VALIDATION"

CODES: dict[str, KrakenCode] = dict(
    [
        _code("KT-CT-1111", Category.PERMISSION, "not authorised", "Unauthorized.", _AUTH),
        _code(
            "KT-CT-1112",
            Category.NOT_AUTHENTICATED,
            "no Authorization header was sent; the operation needs credentials",
            "Authorization header not provided.",
            _AUTH,
        ),
        _code(
            "KT-CT-1113",
            Category.REQUEST_ERROR,
            "a disabled GraphQL field was requested",
            "Disabled GraphQL field requested.",
            _VALID,
        ),
        _code("KT-CT-1120", _T, "the Kraken token has expired", "Token has expired.", _AUTH),
        _code(
            "KT-CT-1124",
            _T,
            "the Kraken token's signature has expired",
            "Signature of the JWT has expired.",
            _AUTH,
        ),
        _code("KT-CT-1125", _T, "the API's token keys have rotated", "Token keys rotated.", _AUTH),
        _code(
            "KT-CT-1126",
            _T,
            "the Kraken token's signature could not be verified",
            "Signature verification failed.",
            _AUTH,
        ),
        _code(
            "KT-CT-1127",
            _T,
            "the Kraken token's issuer could not be verified",
            "Issuer verification failed.",
            _AUTH,
        ),
        _code(
            "KT-CT-1134", _R, "the refresh token has expired", "Refresh token has expired.", _AUTH
        ),
        _code("KT-CT-1135", _R, "the refresh token is not valid", "Invalid refresh token.", _AUTH),
        _code(
            "KT-CT-1136",
            _B,
            "the token request needs both email and password",
            "Both email and password are required.",
            _VALID,
        ),
        _code(
            "KT-CT-1137",
            _B,
            "the token request had a wrong combination of credential fields",
            "Invalid combination of input fields.",
            _VALID,
        ),
        _code(
            "KT-CT-1138", _B, "the email and password were not accepted", "Invalid data.", _VALID
        ),
        _code(
            "KT-CT-1139",
            _B,
            "the credential was not accepted (for an API key: check the key)",
            "Authentication failed.",
            _AUTH,
        ),
        _code(
            "KT-CT-1140",
            _B,
            "the organization secret key was not accepted",
            "Invalid organization secret key.",
            _AUTH,
        ),
        _code("KT-CT-1141", _B, "the credential was not accepted", "Authentication failed.", _AUTH),
        _code("KT-CT-1142", _B, "the credential was not accepted", "Authentication failed.", _AUTH),
        _code(
            "KT-CT-1143",
            _T,
            "the Authorization header is not a valid credential",
            "Invalid token.",
            _AUTH,
        ),
        _code(
            "KT-CT-1144",
            _T,
            "the Authorization header is not a valid credential",
            "Invalid token.",
            _AUTH,
        ),
        _code(
            "KT-CT-1146",
            _B,
            "the account user's password has expired; reset it, then use the new one",
            "Password expired.",
            _AUTH,
        ),
        _code(
            "KT-CT-1148",
            _B,
            "multi-factor authentication is required for this account user",
            "Multi-factor authentication required.",
            _AUTH,
        ),
        _code(
            "KT-CT-11100",
            _B,
            "API-key authentication is not available",
            "API key authentication is unavailable.",
            _AUTH,
        ),
        _code(
            "KT-CT-1188",
            Category.TOO_LARGE,
            "the query is too complex",
            "Query is too complex.",
            _VALID,
        ),
        _code(
            "KT-CT-1189",
            Category.TOO_LARGE,
            "the query asks for too many nodes",
            "Query exceeds maximum node count.",
            _VALID,
        ),
        _code("KT-CT-1199", Category.RATE_LIMIT, "too many requests", "Too many requests.", _AUTH),
        _code(
            "KT-CT-1201",
            Category.REQUEST_ERROR,
            "the page size is missing or out of range: paginate with `first` (1 to 100)",
            "Invalid pagination parameters.",
            _VALID,
        ),
        _code(
            "KT-CT-8413",
            Category.REQUEST_ERROR,
            "the details given were not accepted",
            "Invalid data.",
            _VALID,
        ),
        _code(
            "KT-CT-4177",
            Category.PERMISSION,
            "the account was not found, or is not visible to these credentials",
            "Unauthorized.",
            _AUTH,
        ),
    ]
)

# An expired token (as opposed to a rotated key or a forged signature) can be renewed with the
# refresh token; after the others, the refresh token was issued under the same conditions that
# were just rejected, so the primary credential starts over.
REFRESHABLE_REJECTIONS = frozenset({"KT-CT-1120", "KT-CT-1124"})


def category_of(code: str | None) -> Category | None:
    entry = CODES.get(code) if code else None
    return entry.category if entry else None


def codes_in(category: Category) -> frozenset[str]:
    return frozenset(code for code, entry in CODES.items() if entry.category is category)


# Beside the codes, the API's other published fact about authentication: the root fields it
# serves without it (the US docs mark them "Authentication not required"). An operation that
# selects only these is sent with no token and works without credentials; codegen infers that
# per operation (oeus_kraken.codegen.plugins), and the sandbox serves them to anyone.
PUBLIC_ROOT_FIELDS = frozenset(
    {
        "obtainKrakenToken",
        "products",
        "productsWithConciseApplicableRates",
        "tdspByPostalcode",
        "getFanClubDiscount",
    }
)
