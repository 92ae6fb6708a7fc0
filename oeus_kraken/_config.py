"""Client options shared by both clients: validation, defaults and reading the environment."""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from ._credentials import APIKey, Credentials, EmailPassword, OrganizationSecretKey, RefreshToken
from ._errors import ConfigurationError

PRODUCTION_URL = "https://api.oeus-kraken.energy/v1/graphql/"
TEST_URL = "https://api.oeus-kraken.systems/v1/graphql/"

# Short connect (an unreachable host fails fast), generous read (large account queries).
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_REFRESH_MARGIN = 300.0
DEFAULT_MAX_RETRIES = 2
# The largest answer read, counted after decompression (a small gzip can expand to gigabytes).
DEFAULT_MAX_RESPONSE_BYTES = 50_000_000

_CREDENTIAL_TYPES = (OrganizationSecretKey, EmailPassword, APIKey, RefreshToken)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: object, *, allow_insecure_http: bool = False) -> str:
    if not isinstance(allow_insecure_http, bool):
        # A flag read from a file or the environment is a string, and "false" is true: taken as
        # given, it let credentials go in clear over http:// to another host.
        raise ConfigurationError(
            "allow_insecure_http must be True or False, got "
            f"{type(allow_insecure_http).__name__} {allow_insecure_http!r}"
        )
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"url must be a non-empty string, got {type(url).__name__}")
    try:
        # Read as httpx reads it, which makes the requests: Python's urlsplit skips spaces
        # before the scheme, where httpx sees a relative URL with no scheme or host.
        parts = httpx.URL(url)
        scheme, hostname = parts.scheme, parts.host
        urlsplit(url).port  # noqa: B018 (what Python refuses too: "Invalid IPv6 URL", a port)
    except (ValueError, httpx.InvalidURL):
        scheme = hostname = ""
    if scheme not in ("https", "http") or not hostname:
        # Not echoed whole: a URL can carry a password or a key (user:pw@, ?apikey=).
        shown = url.split("://", 1)[0] + "://..." if "://" in url else "a text with no scheme"
        raise ConfigurationError(
            f"url must be an http(s) URL with a host, such as {PRODUCTION_URL!r}; got {shown!r}"
        )
    if scheme == "http" and not is_loopback(hostname) and not allow_insecure_http:
        raise ConfigurationError(
            f"refusing plain http:// for {hostname!r}: credentials and tokens would travel "
            "unencrypted. Use https://, or http:// only on a loopback address (127.0.0.1, "
            "localhost) such as a local sandbox; allow_insecure_http=True overrides this."
        )
    return url


def shown_url(url: str) -> str:
    """`url` as it may be printed or logged: without userinfo (user:password@), query or
    fragment, any of which can hold a secret (an API key in ?apikey=...)."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(the URL given)"


def check_credentials(credentials: object) -> Credentials | None:
    if credentials is None or isinstance(credentials, _CREDENTIAL_TYPES):
        return credentials
    raise ConfigurationError(
        "credentials must be OrganizationSecretKey, APIKey, EmailPassword or RefreshToken, got "
        f"{type(credentials).__name__}"
    )


def check_refresh_margin(refresh_margin: object) -> float:
    if isinstance(refresh_margin, bool) or not isinstance(refresh_margin, (int, float)):
        raise ConfigurationError("refresh_margin must be a number of seconds")
    if not 0 <= refresh_margin < 3600:
        raise ConfigurationError(
            "refresh_margin must be at least 0 and less than 3600 seconds (a Kraken token "
            f"lasts an hour), got {refresh_margin}"
        )
    return float(refresh_margin)


def check_clock(clock: object) -> Callable[[], float]:
    """None is time.time. Checked here, as every option is: a number given for a clock failed at
    the first call, a bare TypeError from deep in the token lifecycle. A clock of the caller's
    is wrapped, so that each reading is checked as it is taken."""
    if clock is None:
        return time.time
    if not callable(clock):
        raise ConfigurationError(
            "clock must be a function giving the time in seconds, such as time.time, or None "
            f"for time.time; got {type(clock).__name__}"
        )
    if clock is time.time:
        return clock

    def checked() -> float:
        # Each reading checked where it is taken (never at construction: a clock may be a
        # script of times): `clock=datetime.now` raised a bare TypeError deep in the token
        # lifecycle at the first call, and a NaN clock had every call obtain a token of its own.
        now = clock()
        if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
            shown = repr(now) if isinstance(now, float) else f"a {type(now).__name__}"
            raise ConfigurationError(
                f"clock() gave {shown}, not a time in seconds: give a function such as "
                "time.time (a Unix time, as a number), or None for time.time"
            )
        return now

    return checked


def check_max_retries(max_retries: object) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(
            f"max_retries must be a whole number of retries, 0 or more, got {max_retries!r}"
        )
    return max_retries


def check_max_response_bytes(max_response_bytes: object) -> int:
    if (
        isinstance(max_response_bytes, bool)
        or not isinstance(max_response_bytes, int)
        or max_response_bytes <= 0
    ):
        raise ConfigurationError(
            f"max_response_bytes must be a positive whole number, got {max_response_bytes!r}"
        )
    return max_response_bytes


# The longest timeout taken: a larger number (or inf, or NaN) cannot become a socket timeout or a
# deadline (OverflowError, ValueError deep in httpx); None is how to say "no timeout".
MAX_TIMEOUT = 86_400.0


def timeout_seconds_ok(value: object) -> bool:
    return value is None or (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 < value <= MAX_TIMEOUT  # (False for NaN)
    )


def check_timeout(timeout: object) -> httpx.Timeout:
    """The client's timeout, or one call's (the constructor's and a call's `timeout=`)."""
    if timeout is None:
        return httpx.Timeout(None)
    if isinstance(timeout, httpx.Timeout):
        if all(map(timeout_seconds_ok, timeout.as_dict().values())):
            return timeout
    elif timeout_seconds_ok(timeout):
        seconds = float(timeout)  # type: ignore[arg-type]
        return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_TIMEOUT.connect or 5))
    raise timeout_error(timeout)


def timeout_error(timeout: object) -> ConfigurationError:
    return ConfigurationError(
        f"timeout must be a positive number of seconds up to {MAX_TIMEOUT:.0f} (a day), an "
        f"httpx.Timeout of such numbers, or None for none; got {timeout!r}"
    )


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def credentials_from_env(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The credential named by KRAKEN_* variables, in the documented order of precedence:
    organization secret key, API key, email and password, refresh token. None if none is set."""
    env = os.environ if environ is None else environ
    if key := _env(env, "KRAKEN_ORGANIZATION_SECRET_KEY"):
        return OrganizationSecretKey(key)
    if key := _env(env, "KRAKEN_API_KEY"):
        return APIKey(key)
    email, password = _env(env, "KRAKEN_EMAIL"), _env(env, "KRAKEN_PASSWORD")
    if email and password:
        return EmailPassword(email, password)
    if email or password:
        missing = "KRAKEN_PASSWORD" if email else "KRAKEN_EMAIL"
        # Set to nothing but spaces (`KRAKEN_PASSWORD="$PW"` with PW empty) is not "not set":
        # `env` shows it there, and the line must not send the user looking for a typo.
        state = "set but blank" if missing in env else "not set"
        raise ConfigurationError(
            f"KRAKEN_EMAIL and KRAKEN_PASSWORD go together, but {missing} is {state}"
        )
    if token := _env(env, "KRAKEN_REFRESH_TOKEN"):
        return RefreshToken(token)
    return None


def url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """KRAKEN_URL, or production when it is not set. Set but empty is an error: a typo'd
    `KRAKEN_URL=$TEST` must not send test credentials to production."""
    env = os.environ if environ is None else environ
    if "KRAKEN_URL" in env and not env["KRAKEN_URL"].strip():
        raise ConfigurationError(
            "KRAKEN_URL is set but empty; set it to the GraphQL endpoint (e.g. "
            f"{TEST_URL}), or unset it for production"
        )
    url = _env(env, "KRAKEN_URL")
    if url is None:
        return PRODUCTION_URL
    try:
        check_url(url, allow_insecure_http=True)  # its form; the client checks http:// itself
    except ConfigurationError as error:
        raise error.copy(f"KRAKEN_URL: {error.message}") from None
    return url
