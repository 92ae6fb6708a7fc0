"""What `serve` prints once the sandbox is up: its URL, the demo credentials, how to use them."""

from __future__ import annotations

from pathlib import Path

from ._data import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_EMAIL,
    DEMO_ORGANIZATION_SECRET_KEY,
    DEMO_PASSWORD,
    OTHER_ACCOUNT_NUMBER,
    OTHER_EMAIL,
    OTHER_PASSWORD,
)

__all__ = ["banner"]


def banner(url: str, schema: Path | None = None) -> str:
    """A few lines for a terminal: the endpoint, the demo credentials, a first command."""
    control = url.removesuffix("/v1/graphql/") + "/sandbox"
    accounts = ", ".join(DEMO_ACCOUNT_NUMBERS)
    serving = (
        [f"Serving the schema in {schema}: fields the seeded data does not fit are placeholders."]
        if schema is not None
        else []
    )
    return "\n".join(
        [
            f"oeus-kraken sandbox on {url} (Ctrl-C to stop; GraphiQL at the same URL)",
            *serving,
            "Demo credentials (sandbox only, not valid anywhere else):",
            f"  organization secret key  {DEMO_ORGANIZATION_SECRET_KEY}  (sees every account)",
            f"  email / password         {DEMO_EMAIL} / {DEMO_PASSWORD}  (accounts {accounts})",
            f"  API key                  {DEMO_API_KEY}  (same user)",
            f"  another user             {OTHER_EMAIL} / {OTHER_PASSWORD}  "
            f"(account {OTHER_ACCOUNT_NUMBER})",
            "Try:",
            f"  KRAKEN_URL={url} KRAKEN_ORGANIZATION_SECRET_KEY={DEMO_ORGANIZATION_SECRET_KEY} "
            "oeus-kraken viewer",
            f"Faults and counters: GET/POST {control}/faults, GET {control}/stats, "
            f"POST {control}/reset",
            f"Usage knobs (late, revised and missing intervals): GET/POST {control}/usage",
        ]
    )
