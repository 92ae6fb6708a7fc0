"""Issue 20's usage and CLI reproductions, replayed from outside on two checkouts: before / after.

    .venv/bin/python bench/edges_usage.py [--before /work/baseline] [--after .]

For each checkout: its own sandbox (`<checkout>/.venv/bin/oeus-kraken sandbox --port 0`, faults
and counters through its HTTP control endpoints), and its own `oeus-kraken` as a subprocess,
with the demo API key, a fresh token cache and stores in a temporary folder. Each reproduction
of the issue's "Why" section is one row, with what was measured on each checkout: requests sent
after SIGINT, gap rows written, requests for future windows, file modes, exit statuses...

Reads the datasets back with this interpreter's pyarrow and duckdb (the dev group). Takes a few
minutes a checkout (a year of usage is synced twice on each).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ACCOUNT = "A-5F3C9D21"  # the demo user's main account: one ESI ID, supplied since 2023-12-01
MISSING_ACCOUNT = "A-00000000"
ESI_ID = "10443720004512388"
GAP_DAY = "2026-07-14"  # the sandbox's seeded gap: 8 intervals from 13:00 CDT, 2 whole hours


@dataclass
class Row:
    what: str
    measure: str
    before: str = "-"
    after: str = "-"


@dataclass
class Results:
    rows: dict[str, Row] = field(default_factory=dict)

    def add(self, side: str, what: str, measure: str, value: object) -> None:
        row = self.rows.setdefault(what + measure, Row(what, measure))
        setattr(row, side, str(value))


class Sandbox:
    """A checkout's sandbox in a subprocess, driven through its control endpoints."""

    def __init__(self, checkout: Path) -> None:
        self.process = subprocess.Popen(
            [str(checkout / ".venv/bin/oeus-kraken"), "sandbox", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        banner = "".join(self.process.stdout.readline() for _ in range(5))
        found = re.search(r"http://127\.0\.0\.1:\d+/v1/graphql/", banner)
        key = re.search(r"API key\s+(\S+)", banner)
        if found is None or key is None:
            self.process.kill()
            raise RuntimeError(f"the sandbox of {checkout} did not say its URL and API key")
        self.url, self.api_key = found.group(0), key.group(1)
        self.control = self.url.removesuffix("/v1/graphql/") + "/sandbox"
        # Both checkouts get an hour's budget that no reproduction runs out of: what they
        # spend is the measurement, not where the hour's points stop them.
        self.faults()

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - our own sandbox, on loopback
            self.control + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read() or b"null")

    def faults(self, **changes: object) -> None:
        self._call("/faults", {"points_allowance": 10_000_000, **changes})

    def requests(self, operation: str | None = None) -> int:
        stats = self._call("/stats")
        if operation is not None:
            return int(stats["operations"].get(operation, 0))
        return int(stats["requests"]) - int(stats["tokenRequests"])

    def close(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.err


class Checkout:
    """One checkout's CLI, run against its sandbox from a temporary home."""

    def __init__(self, path: Path, sandbox: Sandbox, home: Path) -> None:
        self.binary = str(path / ".venv/bin/oeus-kraken")
        self.sandbox = sandbox
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
        self.env |= {
            "KRAKEN_URL": sandbox.url,
            "KRAKEN_API_KEY": sandbox.api_key,
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
        }

    def run(self, *argv: str, cwd: Path | None = None, timeout: float = 900) -> Outcome:
        done = subprocess.run(
            [self.binary, *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or self.home,
            check=False,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def start(self, *argv: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.binary, *argv],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.home,
        )


def wait_for(condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the sync to get going")
        time.sleep(0.05)


def today() -> date:
    return (datetime.now(timezone.utc) - timedelta(hours=6)).date()


# -- the reproductions -----------------------------------------------------------------------------


def ctrl_c(cli: Checkout, side: str, results: Results) -> None:
    what = "Ctrl-C stops `usage sync` (SIGINT 2 s into the walk)"
    cli.sandbox.faults(delay=0.05)
    db = cli.home / "ctrl-c.sqlite3"
    child = cli.start("usage", "sync", ACCOUNT, "--since", "2026-01-01", "--db", str(db))
    wait_for(lambda: cli.sandbox.requests("getPropertyMeasurements") >= 1)
    time.sleep(2)
    sent = cli.sandbox.requests()
    signalled = time.monotonic()
    child.send_signal(signal.SIGINT)
    signals = 1
    while True:
        try:
            out, err = child.communicate(timeout=10)
            break
        except subprocess.TimeoutExpired:
            if signals == 3:
                child.kill()
                out, err = child.communicate()
                break
            child.send_signal(signal.SIGINT)
            signals += 1
    took = time.monotonic() - signalled
    time.sleep(0.3)
    results.add(side, what, "requests after SIGINT", cli.sandbox.requests() - sent)
    results.add(side, what, "seconds to exit", f"{took:.1f}")
    results.add(side, what, "Ctrl-Cs needed", signals if child.returncode != -9 else "killed")
    results.add(side, what, "exit status", child.returncode)
    said = (out + err).strip().splitlines()
    results.add(side, what, "says what was kept", bool(said) and "kept" in said[-1])
    cli.sandbox.faults(delay=0)


def bad_account(cli: Checkout, side: str, results: Results) -> None:
    what = f"`usage sync {ACCOUNT} {MISSING_ACCOUNT}`"
    db = cli.home / "two.sqlite3"
    since = (today() - timedelta(days=5)).isoformat()
    run = cli.run("usage", "sync", ACCOUNT, MISSING_ACCOUNT, "--since", since, "--db", str(db))
    results.add(side, what, "exit status", run.code)
    results.add(side, what, "intervals of the good account", stored_intervals(db))
    results.add(side, what, "names the bad account", MISSING_ACCOUNT in run.out + run.err)


def stored_intervals(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM intervals").fetchone()[0])


def dates(cli: Checkout, side: str, results: Results, store: Path) -> None:
    what = "9999-12-31 typed into the usage commands"
    far = ("--from", GAP_DAY, "--to", "9999-12-31", "--db", str(store))
    commands = [
        ("usage", "sync", ACCOUNT, "--since", "9999-12-31", "--db", str(store)),
        ("usage", ACCOUNT, "--from", today().isoformat(), "--to", "9999-12-31"),
        ("usage", "export", ACCOUNT, *far, "--interval", "day"),
        ("usage", "chart", ACCOUNT, *far, "--out", str(cli.home / "far.png")),
    ]
    runs = [cli.run(*command) for command in commands]
    results.add(side, what, "tracebacks (of 4 commands)", sum(r.traceback for r in runs))
    results.add(side, what, "exit statuses", " ".join(str(r.code) for r in runs))
    since = cli.run("usage", "sync", ACCOUNT, "--since", "2030-01-01", "--db", str(store))
    results.add(side, "`usage sync --since 2030-01-01`", "exit status", since.code)


def future_windows(cli: Checkout, side: str, results: Results) -> None:
    what = f"`usage {ACCOUNT} --from yesterday --to 2036-12-01`"
    yesterday = (today() - timedelta(days=1)).isoformat()
    before = cli.sandbox.requests("getPropertyMeasurements")
    cli.run("usage", ACCOUNT, "--from", yesterday, "--to", today().isoformat(), "--csv")
    needed = cli.sandbox.requests("getPropertyMeasurements") - before
    cli.run("usage", ACCOUNT, "--from", yesterday, "--to", "2036-12-01", "--csv")
    asked = cli.sandbox.requests("getPropertyMeasurements") - before - needed
    results.add(side, what, "requests for future windows", asked - needed)


def since_2000(cli: Checkout, side: str, results: Results) -> Path:
    """Two first syncs of a year: --since 2000-01-01 and --since 2024-01-01. Returns the
    latter's store, complete, for the export reproductions."""
    costs = {}
    for since in ("2000-01-01", "2024-01-01"):
        db = cli.home / f"since-{since}.sqlite3"
        before = cli.sandbox.requests()
        run = cli.run("usage", "sync", ACCOUNT, "--since", since, "--db", str(db))
        costs[since] = (cli.sandbox.requests() - before, gap_rows(db), run.code)
    what = "`usage sync --since 2000-01-01` (first sync, a meter supplied since 2023-12)"
    results.add(side, what, "gap_attempts rows", costs["2000-01-01"][1])
    results.add(side, what, "requests", costs["2000-01-01"][0])
    results.add(side, what, "requests with --since 2024-01-01", costs["2024-01-01"][0])
    exits = f"{costs['2000-01-01'][2]} / {costs['2024-01-01'][2]}"
    results.add(side, what, "exit statuses (2000 / 2024)", exits)
    return cli.home / "since-2024-01-01.sqlite3"


def gap_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM gap_attempts").fetchone()[0])


def parquet(cli: Checkout, side: str, results: Results, store: Path) -> None:
    import duckdb
    import pyarrow.parquet

    db = ("--db", str(store))
    out = cli.home / "mixed"
    export = ("usage", "export", ACCOUNT, "--from", GAP_DAY, "--parquet", "--out", str(out), *db)
    cli.run(*export, "--to", "2026-07-15")
    cli.run(*export, "--to", GAP_DAY, "--interval", "hour")
    files = list(out.rglob("*.parquet"))
    kinds = {
        "hour"
        if "complete" in pyarrow.parquet.read_schema(f).names
        or "expected_intervals" in pyarrow.parquet.read_schema(f).names
        else "15m"
        for f in files
    }
    what = "Parquet: an hourly export into a folder holding a 15-minute one"
    results.add(side, what, "kinds of rows left in the folder", "+".join(sorted(kinds)))

    empty = cli.home / "empty"
    run = cli.run(
        "usage",
        "export",
        ACCOUNT,
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-02",
        "--parquet",
        "--out",
        str(empty),
        *db,
    )
    readable = "no"
    with contextlib.suppress(Exception):
        readable = f"yes, {pyarrow.parquet.read_table(empty).num_rows} rows"
    what = "Parquet: an empty range"
    results.add(side, what, "exit status", run.code)
    results.add(side, what, "a dataset readers open", readable)

    query = f"SELECT typeof(esi_id) FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true) LIMIT 1"  # noqa: E501, S608
    try:
        relation = duckdb.sql(query)
        assert relation is not None
        typed = relation.fetchall()[0][0]
    except Exception as exc:
        typed = type(exc).__name__
    results.add(side, "Parquet: DuckDB reads the esi_id as", "type", typed)

    precise = precise_store(cli, store)
    failed = cli.home / "precise"
    run = cli.run(
        "usage",
        "export",
        ESI_ID,
        "--from",
        GAP_DAY,
        "--to",
        "2026-07-20",
        "--parquet",
        "--out",
        str(failed),
        "--db",
        str(precise),
    )
    what = "Parquet: a value with 13 decimals on the 4th day of 7"
    results.add(side, what, "exit status", run.code)
    results.add(side, what, "files left", len(list(failed.rglob("*.parquet"))) if run.code else 0)
    results.add(side, what, "value read back", read_back(failed) if run.code == 0 else "-")
    modes = {oct(stat.S_IMODE(f.stat().st_mode)) for f in files}
    results.add(side, "file modes", "Parquet files", " ".join(sorted(modes)))


def precise_store(cli: Checkout, store: Path) -> Path:
    """A copy of `store` whose 2026-07-17 first interval has 13 decimals."""
    copy = cli.home / "precise.sqlite3"
    copy.write_bytes(store.read_bytes())
    day = int(datetime(2026, 7, 17, 5, tzinfo=timezone.utc).timestamp())
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        conn.execute("UPDATE intervals SET value = '0.1234567890123' WHERE start_at = ?", (day,))
        conn.commit()
    return copy


def read_back(folder: Path) -> str:
    import pyarrow.parquet

    if not folder.exists():
        return "nothing written"
    values = pyarrow.parquet.read_table(folder).column("kwh").to_pylist()
    return str(next((v for v in values if str(v).startswith("0.1234567")), "lost"))


def privacy(cli: Checkout, side: str, results: Results, store: Path) -> None:
    db = ("--db", str(store))
    png = cli.home / "c.png"
    cli.run(
        "usage", "chart", ACCOUNT, "--from", GAP_DAY, "--to", "2026-07-20", "--out", str(png), *db
    )
    csv = cli.home / "u.csv"
    cli.run("usage", "export", ACCOUNT, "--from", GAP_DAY, "--to", GAP_DAY, "--out", str(csv), *db)
    for name, path in (("chart PNG", png), ("CSV", csv)):
        results.add(side, "file modes", name, oct(stat.S_IMODE(path.stat().st_mode)))


def formats(cli: Checkout, side: str, results: Results, store: Path) -> None:
    db = ("--db", str(store))
    day = ("--from", GAP_DAY, "--to", GAP_DAY)
    out = cli.home / "x.parquet"
    run = cli.run("usage", "export", ACCOUNT, *day, "--out", str(out), *db)
    kind = "a folder (Parquet)" if out.is_dir() else "a file" if out.exists() else "nothing"
    head = f"starting {out.read_text()[:7]!r}" if out.is_file() else ""
    wrote = f"{' '.join(filter(None, (kind, head)))}, exit {run.code}"
    results.add(side, "`--out x.parquet` without --parquet", "writes", wrote)
    svg = cli.home / "c.svg"
    cli.run("usage", "chart", ACCOUNT, *day, "--out", str(svg), *db)
    magic = svg.read_bytes()[:5] if svg.exists() else b""
    results.add(side, "`chart --out c.svg`", "writes", "SVG" if b"<?xml" in magic else "PNG")
    hours = cli.home / "hours.csv"
    cli.run("usage", "export", ACCOUNT, *day, "--interval", "hour", "--out", str(hours), *db)
    rows = len(hours.read_text().splitlines()) - 1
    results.add(side, f"hourly export of {GAP_DAY} (2 hours with no interval)", "rows", rows)


def counts(cli: Checkout, side: str, results: Results) -> None:
    db = cli.home / "count.sqlite3"
    before = cli.sandbox.requests()
    since = (today() - timedelta(days=20)).isoformat()
    cli.run("usage", "sync", "--since", since, "--db", str(db))
    made = cli.sandbox.requests() - before
    results.add(
        side,
        "`usage status` after a complete sync",
        "requests shown / made",
        f"{shown_requests(cli, db)} / {made}",
    )

    killed = cli.home / "killed.sqlite3"
    cli.sandbox.faults(delay=0.05)
    before = cli.sandbox.requests()
    child = cli.start("usage", "sync", ACCOUNT, "--since", "2026-03-01", "--db", str(killed))
    wait_for(lambda: cli.sandbox.requests() - before >= 15)
    child.kill()
    child.communicate()
    time.sleep(0.3)
    made = cli.sandbox.requests() - before
    cli.sandbox.faults(delay=0)
    results.add(
        side,
        "`usage status` after a killed sync",
        "requests shown / made",
        f"{shown_requests(cli, killed)} / {made}",
    )


def shown_requests(cli: Checkout, db: Path) -> int:
    table = cli.run("usage", "status", "--db", str(db)).out
    total = re.search(r"API requests by all syncs: ([\d,]+)", table)
    if total:
        return int(total.group(1).replace(",", ""))
    listed = json.loads(cli.run("usage", "status", "--db", str(db), "--json").out or "[]")
    return sum(int(s["requests_used"]) for s in listed)


def first_day(cli: Checkout, side: str, results: Results) -> None:
    db = cli.home / "default-since.sqlite3"
    run = cli.run("usage", "sync", ACCOUNT, "--max-requests", "4", "--db", str(db))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        first = conn.execute("SELECT MIN(start_at) FROM intervals").fetchone()[0]
    texas = timezone(timedelta(hours=-6))
    day = datetime.fromtimestamp(first, texas).date()
    start = int(datetime(day.year, day.month, day.day, tzinfo=texas).timestamp())
    with contextlib.closing(sqlite3.connect(db)) as conn:
        held = conn.execute(
            "SELECT count(*) FROM intervals WHERE start_at >= ? AND start_at < ?",
            (start, start + 86400),
        ).fetchone()[0]
    results.add(side, "default --since: the first local day", "intervals of 96", held)
    results.add(side, "`usage sync --max-requests 4`", "exit status", run.code)


def urls_and_paths(cli: Checkout, side: str, results: Results) -> None:
    url = "http://alice:pw-SECRET@127.0.0.1:9/v1/graphql/?apikey=KEY-SECRET"
    run = cli.run("viewer", "--url", url)
    leaked = [word for word in ("pw-SECRET", "KEY-SECRET") if word in run.err + run.out]
    results.add(
        side,
        "an error line about a URL with user:password and ?apikey",
        "secrets shown",
        " ".join(leaked) or "none",
    )
    cwd = cli.home / "cwd"
    cwd.mkdir(exist_ok=True)
    cli.run("usage", "sync", ACCOUNT, "--max-requests", "1", "--db", "~/tilde.sqlite3", cwd=cwd)
    made = "a folder named ~" if (cwd / "~").exists() else "~ is home"
    results.add(side, "`--db '~/tilde.sqlite3'`", "gives", made)


def read_only(cli: Checkout, side: str, results: Results, store: Path) -> None:
    what = "a store on a read-only file system"
    folder = cli.home / "ro-source"
    folder.mkdir()
    (folder / "u.sqlite3").write_bytes(store.read_bytes())
    view = cli.home / "ro"
    view.mkdir()
    try:
        subprocess.run(["mount", "--bind", str(folder), str(view)], check=True, capture_output=True)
        subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(view)], check=True, capture_output=True
        )
    except (OSError, subprocess.CalledProcessError):
        results.add(side, what, "status / export / sync", "n/a (needs root and mount)")
        return
    try:
        db = ("--db", str(view / "u.sqlite3"))
        status = cli.run("usage", "status", *db)
        export = cli.run("usage", "export", ACCOUNT, "--from", GAP_DAY, "--to", GAP_DAY, *db)
        sync = cli.run("usage", "sync", ACCOUNT, "--max-requests", "2", *db)
        lines = len(sync.err.strip().splitlines())
        results.add(
            side,
            what,
            "status / export / sync exit",
            f"{status.code} / {export.code} / {sync.code}",
        )
        results.add(
            side, what, "sync's stderr lines", f"{lines}{' (traceback)' if sync.traceback else ''}"
        )
    finally:
        subprocess.run(["umount", str(view)], check=False, capture_output=True)


def measure(checkout: Path, side: str, results: Results) -> None:
    sandbox = Sandbox(checkout)
    try:
        with tempfile.TemporaryDirectory(prefix=f"edges-{side}-") as folder:
            cli = Checkout(checkout, sandbox, Path(folder))
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("Ctrl-C", lambda: ctrl_c(cli, side, results)),
                ("one bad account", lambda: bad_account(cli, side, results)),
                ("future windows", lambda: future_windows(cli, side, results)),
                ("counts", lambda: counts(cli, side, results)),
                ("default since", lambda: first_day(cli, side, results)),
                ("URLs and paths", lambda: urls_and_paths(cli, side, results)),
            ]
            for name, step in steps:
                print(f"  {side}: {name}", file=sys.stderr, flush=True)
                step()
            print(f"  {side}: --since 2000 (two year-long syncs)", file=sys.stderr, flush=True)
            store = since_2000(cli, side, results)
            for name, step in (
                ("dates", lambda: dates(cli, side, results, store)),
                ("parquet", lambda: parquet(cli, side, results, store)),
                ("privacy", lambda: privacy(cli, side, results, store)),
                ("formats", lambda: formats(cli, side, results, store)),
                ("read-only", lambda: read_only(cli, side, results, store)),
            ):
                print(f"  {side}: {name}", file=sys.stderr, flush=True)
                step()
    finally:
        sandbox.close()


def table(results: Results, before: Path, after: Path) -> Iterator[str]:
    rows = list(results.rows.values())
    heads = ("reproduction", "measure", f"before ({before})", f"after ({after})")
    widths = [
        max(len(h), *(len(getattr(r, f)) for r in rows))
        for h, f in zip(heads, ("what", "measure", "before", "after"), strict=True)
    ]
    yield "| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)) + " |"
    yield "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    for r in rows:
        cells = (r.what, r.measure, r.before, r.after)
        yield "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=Path("/work/baseline"))
    parser.add_argument("--after", type=Path, default=Path("."))
    args = parser.parse_args()
    results = Results()
    for side, checkout in (("before", args.before), ("after", args.after)):
        print(f"{side}: {checkout.resolve()}", file=sys.stderr, flush=True)
        measure(checkout.resolve(), side, results)
    for line in table(results, args.before, args.after):
        print(line)


if __name__ == "__main__":
    main()
