"""`make demo`: the whole client against a local Kraken sandbox, no network, no credentials.

Starts the sandbox on a free loopback port, runs the command line and the examples against it as
a user would (KRAKEN_URL and KRAKEN_ORGANIZATION_SECRET_KEY in the environment), shows a token
refresh, and stops the sandbox. Exits non-zero if any step fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oeus_kraken import OrganizationSecretKey, SyncKrakenClient
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, DEMO_ORGANIZATION_SECRET_KEY, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]

# The token-refresh step moves time forward, for the sandbox and the client alike.
_offset = 0.0


def clock() -> float:
    return time.time() + _offset


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(env: dict[str, str], *command: str) -> None:
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run([sys.executable, *command], cwd=ROOT, env=env, check=True)


def show_refresh(server: SandboxServer) -> None:
    """Move time forward: inside the refresh margin the client refreshes the token with the
    refresh token (refreshKrakenToken) instead of logging in again (getKrakenToken)."""
    global _offset
    credentials = OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
    with SyncKrakenClient(server.url, credentials=credentials, clock=clock) as kraken:
        first = kraken.authenticate()
        print(f"token obtained, expires at {first.expires_at:%H:%M:%S} UTC")
        _offset = 3600 - 120  # two minutes before expiry: inside the 300 s refresh margin
        print("... 58 minutes later (sandbox and client clocks moved forward) ...")
        second = kraken.authenticate()
        print(f"token refreshed, expires at {second.expires_at:%H:%M:%S} UTC")
        viewer = kraken.get_viewer().viewer
        print(f"viewer still answers with the refreshed token: {viewer is not None}")
    operations = server.stats.operations
    print(
        f"sandbox saw getKrakenToken x{operations.get('getKrakenToken', 0)}, "
        f"refreshKrakenToken x{operations.get('refreshKrakenToken', 0)}"
    )
    if operations.get("refreshKrakenToken", 0) != 1:
        raise SystemExit("demo: expected exactly one refresh")


def main() -> int:
    with tempfile.TemporaryDirectory() as cache_dir, SandboxServer(clock=clock) as server:
        print(f"Kraken sandbox running at {server.url}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
        env["KRAKEN_URL"] = server.url
        env["KRAKEN_ORGANIZATION_SECRET_KEY"] = DEMO_ORGANIZATION_SECRET_KEY
        # The command line caches tokens; keep the demo's sandbox tokens out of the user's cache.
        env["XDG_CACHE_HOME"] = cache_dir
        try:
            step("Token via the organisation secret key (oeus-kraken token)")
            run(env, "-m", "oeus_kraken", "token")
            step("Viewer and accounts (examples/list_accounts.py)")
            run(env, "examples/list_accounts.py")
            step(f"One account (oeus-kraken account {ACCOUNT})")
            run(env, "-m", "oeus_kraken", "account", ACCOUNT)
            step("Products with rates for postal code 75001 (examples/products_for_postal_code.py)")
            run(env, "examples/products_for_postal_code.py", "75001")
            step(f"All transactions of {ACCOUNT}, page by page (examples/list_transactions.py)")
            run(env, "examples/list_transactions.py", ACCOUNT)
            step("Token refresh")
            server.reset()
            show_refresh(server)
        except subprocess.CalledProcessError as error:
            print(f"demo: step failed with exit code {error.returncode}", file=sys.stderr)
            return 1
    print("\nDemo finished; sandbox stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
