"""`make demo`: the whole client against a local Kraken sandbox, no network, no credentials.

Starts the sandbox on a free loopback port (or `--port N`), runs the command line and the
examples against it as a user would, and stops it. Every step prints the full command it runs,
ready to copy: the console script or interpreter, and the environment it needs
(KRAKEN_URL=... KRAKEN_ORGANIZATION_SECRET_KEY=... .venv/bin/oeus-kraken ...); it runs exactly
that. Then it shows a token refresh in-process. Exits non-zero if any step fails.

The steps: a token; the accounts; one account; a day of its usage summed per hour (96
intervals); the premise of its ESI ID (an affiliate's address lookup); every product's rate for
that ESI ID; a quote; the rates for a postal code; the examples that compare rates and download
a month of usage to CSV; the usage store (a month synced, its status, a second sync that asks
only for the recent days, a day exported as CSV), when this version has the sync; a token
refresh; and last, a comparison of the account's last three months on every product, with the
path of its HTML page.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from oeus_kraken import OrganizationSecretKey, SyncKrakenClient
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, DEMO_ORGANIZATION_SECRET_KEY, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]
ESI_ID = "10443720004512388"  # ACCOUNT's meter, in Dallas (ONCOR)
USAGE_DAY = "2026-10-15"  # an ordinary day (96 intervals) in the sandbox's seeded year
USAGE_MONTH = "2026-10"

# The token-refresh step moves time forward, for the sandbox and the client alike.
_offset = 0.0


def clock() -> float:
    return time.time() + _offset


def _shown_path(path: Path) -> str:
    """A path as the user would type it from the repository root."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _programs() -> tuple[list[str], list[str]]:
    """How to run the command line (the console script beside this interpreter, as `make
    install` puts it, else `python -m oeus_kraken`) and the examples (this interpreter)."""
    python = Path(sys.executable)
    script = python.parent / "oeus-kraken"
    cli = [_shown_path(script)] if script.exists() else [_shown_path(python), "-m", "oeus_kraken"]
    return cli, [_shown_path(python)]


class Demo:
    def __init__(self, server: SandboxServer, work: Path) -> None:
        self.server = server
        self.work = work
        # What a user sets, shown in every command; and what only keeps the demo's tokens and
        # files out of the user's own cache (not shown: a copied command works without it).
        self.shown_env = {
            "KRAKEN_URL": server.url,
            "KRAKEN_ORGANIZATION_SECRET_KEY": DEMO_ORGANIZATION_SECRET_KEY,
        }
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
        self.env |= self.shown_env | {"XDG_CACHE_HOME": str(work / "cache")}
        self.cli, self.python = _programs()

    def step(self, title: str) -> None:
        print(f"\n=== {title}", flush=True)

    def run(self, argv: Sequence[str]) -> None:
        assignments = [f"{k}={shlex.quote(v)}" for k, v in self.shown_env.items()]
        print("$ " + " ".join([*assignments, *map(shlex.quote, argv)]), flush=True)
        subprocess.run(list(argv), cwd=ROOT, env=self.env, check=True)

    def oeus_kraken(self, *args: str) -> None:
        self.run([*self.cli, *args])

    def example(self, name: str, *args: str) -> None:
        self.run([*self.python, f"examples/{name}", *args])


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


def usage_store_steps(demo: Demo) -> None:
    """Issue 12's local store: a month synced, its status, a second sync that costs only the
    recent days, a day exported as CSV."""
    from oeus_kraken.usage import TEXAS

    store = str(demo.work / "usage.sqlite3")
    today = datetime.now(TEXAS).date()
    since = (today - timedelta(days=30)).isoformat()
    demo.step(f"Keep a month of {ACCOUNT}'s usage locally (oeus-kraken usage sync)")
    demo.oeus_kraken("usage", "sync", ACCOUNT, "--since", since, "--db", store)
    demo.step("What the store holds (oeus-kraken usage status; no API request)")
    demo.oeus_kraken("usage", "status", "--db", store)
    demo.step("Sync again: only the last days, which Kraken may still revise, cost requests")
    demo.oeus_kraken("usage", "sync", ACCOUNT, "--since", since, "--db", store)
    # A day old enough to be complete: intervals arrive hours after they end, a few two days late.
    day = (today - timedelta(days=3)).isoformat()
    day_csv = str(demo.work / f"usage-{day}.csv")
    demo.step("A day from the store as CSV (oeus-kraken usage export; no API request)")
    demo.oeus_kraken(
        "usage", "export", ACCOUNT, "--from", day, "--to", day, "--db", store,
        "--out", day_csv,
    )  # fmt: skip
    lines = Path(day_csv).read_text(encoding="utf-8").splitlines()
    print("\n".join(lines[:4]) + f"\n... ({len(lines) - 1} intervals)")


def compare_step(demo: Demo) -> None:
    """Issue 22's comparison: the last three whole months of the account's usage on every product
    on offer, the store brought up to date first (--sync), and its HTML page. The page is written
    in a folder of its own in the temporary directory, so that it outlives the demo: a new one
    (0700), never a fixed name that another user of the machine could have made a symlink."""
    from oeus_kraken.usage import TEXAS

    store = str(demo.work / "usage.sqlite3")
    last = datetime.now(TEXAS).date().replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    for _ in range(2):  # the two months before
        first = (first - timedelta(days=1)).replace(day=1)
    page = Path(tempfile.mkdtemp(prefix="oeus-kraken-demo-page-")) / f"compare-{ACCOUNT}.html"
    demo.step(
        f"What {ACCOUNT}'s last three months would have cost on every product, cheapest first "
        "(oeus-kraken compare)"
    )
    demo.oeus_kraken(
        "compare", ACCOUNT, "--from", first.isoformat(), "--to", last.isoformat(), "--db", store,
        "--sync", "--html", str(page),
    )  # fmt: skip


def steps(demo: Demo) -> None:
    demo.step("A token, with the organisation secret key (oeus-kraken token)")
    demo.oeus_kraken("token")
    demo.step("The accounts and their balances (examples/list_accounts.py)")
    demo.example("list_accounts.py")
    demo.step(f"One account, its properties and ESI IDs (oeus-kraken account {ACCOUNT})")
    demo.oeus_kraken("account", ACCOUNT)
    demo.step(f"A day of {ACCOUNT}'s usage: its 96 intervals summed per hour (oeus-kraken usage)")
    demo.oeus_kraken("usage", ACCOUNT, "--from", USAGE_DAY, "--to", USAGE_DAY, "--interval", "hour")
    demo.step(f"The premise of ESI ID {ESI_ID} (oeus-kraken esi; an affiliate's address lookup)")
    demo.oeus_kraken("esi", ESI_ID)
    demo.step(f"Every product's rate for ESI ID {ESI_ID}, cheapest first (oeus-kraken rates)")
    demo.oeus_kraken("rates", "--esi-id", ESI_ID)
    demo.step("A quote for that premise at 14,000 kWh a year (oeus-kraken quote)")
    demo.oeus_kraken("quote", "--esi-id", ESI_ID, "--annual-kwh", "14000")
    demo.step("Products with rates for postal code 75001 (examples/products_for_postal_code.py)")
    demo.example("products_for_postal_code.py", "75001")
    demo.step("Compare every product's rate for one ESI ID (examples/compare_rates_for_esi_id.py)")
    demo.example("compare_rates_for_esi_id.py", ESI_ID, "1200")
    month_csv = str(demo.work / f"usage-{ACCOUNT}-{USAGE_MONTH}.csv")
    demo.step("A month of usage to CSV (examples/usage_month_to_csv.py)")
    demo.example("usage_month_to_csv.py", ACCOUNT, USAGE_MONTH, month_csv)
    demo.step(f"All transactions of {ACCOUNT}, page by page (examples/list_transactions.py)")
    demo.example("list_transactions.py", ACCOUNT)
    usage_store_steps(demo)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The client against a local Kraken sandbox.")
    parser.add_argument("--port", type=int, default=0, help="the sandbox's port (0: any free)")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="oeus-kraken-demo-") as work,
        SandboxServer(port=args.port, clock=clock) as server,
    ):
        cli, _ = _programs()
        print(f"Kraken sandbox running at {server.url} until the demo ends.")
        print("Each step shows the command it runs; to run them yourself, start a sandbox of")
        print(f"your own first: {' '.join(cli)} sandbox --port {urlsplit(server.url).port}")
        demo = Demo(server, Path(work))
        try:
            steps(demo)
            demo.step("A token refresh (in-process; the sandbox's clock moved forward)")
            server.reset()
            show_refresh(server)
            compare_step(demo)
        except subprocess.CalledProcessError as error:
            print(f"demo: step failed with exit code {error.returncode}", file=sys.stderr)
            return 1
    print("\nDemo finished; sandbox stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
