"""`make bench`: what oeus_kraken costs, in one table, from one run.

1. Per call, token already held, against the same httpx.MockTransport answer: our sync and async
   clients next to raw httpx, the ariadne-codegen client without our layer, and gql 4, for a
   small answer and a ~35 KB one. Minimum over repetitions of N calls; the ratio is to raw httpx
   of the same flavour (sync to sync, async to async). The garbage collector stays on, as in an
   application, so a client that allocates more also pays for more collections.
2. Import time of `oeus_kraken` and both clients against `import httpx, pydantic`: median of
   fresh interpreters.
3. `make generate` wall time: a fresh interpreter running tools/generate.py's generate() into a
   scratch folder (the repository is not touched): median of runs.
4. Memory: tracemalloc's traced size after 10,000 sequential sync calls against after 100.

Prints the table and writes the numbers to bench/results.json. Options shorten it for a quick
look (`--calls 200 --repeats 1`); `make bench` runs the defaults. To see where a call's time
goes, run bench/profile_client.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _clients import FLAVOURS, AsyncCall, Case, SyncCall, async_calls, cases, sync_calls

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"

CALLS = 2_000
REPEATS = 3
IMPORT_RUNS = 7
GENERATE_RUNS = 3
MEMORY_CALLS = (100, 10_000)

IMPORT_TARGET_MS = 60.0
GENERATE_TARGET_S = 5.0
MEMORY_TARGET_KB = 100.0
# The per-call targets, as ratios to raw httpx of the same flavour; our client must also
# be ahead of gql on the same case.
PER_CALL_TARGET_RATIO = {"small": 1.10, "big": 1.70}

OURS_IMPORT = "import oeus_kraken\nfrom oeus_kraken import KrakenClient, SyncKrakenClient"
BASE_IMPORT = "import httpx, pydantic"
# For context only: `import pydantic` is lazy, so the baseline above loads none of the BaseModel
# machinery that any client returning pydantic models pays for.
MODELS_IMPORT = "import httpx, pydantic\nfrom pydantic import BaseModel"
_TIMED_IMPORT = "import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)\n"


@dataclass
class Row:
    measure: str
    value: str
    target: str = "-"
    holds: bool | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)


# -- 1. per-call cost ---------------------------------------------------------------------------


def _time_sync(call: SyncCall, calls: int) -> float:
    gc.collect()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - started


async def _time_async(call: AsyncCall, calls: int) -> float:
    gc.collect()
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return time.perf_counter() - started


def _best_of(timings: dict[str, list[float]], calls: int) -> dict[str, float]:
    """Microseconds per call, the fastest repetition of each client."""
    return {name: min(runs) / calls * 1e6 for name, runs in timings.items()}


def measure_sync(case: Case, calls: int, repeats: int) -> dict[str, float]:
    timings: dict[str, list[float]] = {name: [] for name in FLAVOURS}
    with sync_calls(case) as clients:
        # Repetitions interleave the clients, so a slow moment of the machine is not all one's.
        for _ in range(repeats):
            for name, call in clients.items():
                timings[name].append(_time_sync(call, calls))
    return _best_of(timings, calls)


def measure_async(case: Case, calls: int, repeats: int) -> dict[str, float]:
    async def run() -> dict[str, float]:
        timings: dict[str, list[float]] = {name: [] for name in FLAVOURS}
        async with async_calls(case) as clients:
            for _ in range(repeats):
                for name, call in clients.items():
                    timings[name].append(await _time_async(call, calls))
        return _best_of(timings, calls)

    return asyncio.run(run())


def per_call(report: Report, calls: int, repeats: int) -> None:
    results: dict[str, Any] = {
        "calls": calls,
        "repeats": repeats,
        "statistic": "min",
        "gc": "enabled",
    }
    for flavour, measure in (("sync", measure_sync), ("async", measure_async)):
        for case in cases():
            micros = measure(case, calls, repeats)
            baseline = micros["raw httpx"]
            label = f"{flavour} {case.description} ({len(case.body) / 1000:.1f} KB)"
            entry = results.setdefault(case.key, {"operation": case.operation})
            entry["description"] = case.description
            entry["response_bytes"] = len(case.body)
            entry[flavour] = {
                name: {"us_per_call": round(us, 2), "ratio_to_raw_httpx": round(us / baseline, 3)}
                for name, us in micros.items()
            }
            for name, us in micros.items():
                ratio = us / baseline
                row = Row(f"{label}: {name}", f"{us:.1f} µs/call, {ratio:.2f}x raw")
                if name == "raw httpx":
                    row.target = "(baseline)"
                elif name == "oeus_kraken":
                    bound = PER_CALL_TARGET_RATIO[case.key]
                    row.target = f"<= {bound:.2f}x, < gql"
                    row.holds = ratio <= bound and us < micros["gql"]
                report.rows.append(row)
    report.results["per_call"] = results


# -- 2. import time -----------------------------------------------------------------------------


def _import_seconds(code: str) -> float:
    completed = subprocess.run(  # noqa: S603 (our own interpreter, our own code)
        [sys.executable, "-c", _TIMED_IMPORT.format(code=code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def import_time(report: Report, runs: int) -> None:
    codes = {"ours": OURS_IMPORT, "base": BASE_IMPORT, "models": MODELS_IMPORT}
    for code in codes.values():  # once each unmeasured: the first import may write bytecode
        _import_seconds(code)
    seconds: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(runs):  # interleaved, so drift affects all alike
        for name, code in codes.items():
            seconds[name].append(_import_seconds(code))
    ms = {name: statistics.median(runs) * 1e3 for name, runs in seconds.items()}
    extra = ms["ours"] - ms["base"]
    report.rows += [
        Row("import oeus_kraken + KrakenClient, SyncKrakenClient", f"{ms['ours']:.1f} ms"),
        Row("import httpx, pydantic", f"{ms['base']:.1f} ms", "(baseline)"),
        Row(
            "import time added by oeus_kraken",
            f"{extra:+.1f} ms",
            f"<= +{IMPORT_TARGET_MS:.0f} ms",
            extra <= IMPORT_TARGET_MS,
        ),
        Row(
            "  for context: added over httpx + pydantic.BaseModel",
            f"{ms['ours'] - ms['models']:+.1f} ms",
        ),
    ]
    report.results["import_time"] = {
        "runs": runs,
        "statistic": "median",
        "oeus_kraken_ms": round(ms["ours"], 2),
        "httpx_pydantic_ms": round(ms["base"], 2),
        "httpx_pydantic_basemodel_ms": round(ms["models"], 2),
        "added_ms": round(extra, 2),
        "target_added_ms": IMPORT_TARGET_MS,
    }


# -- 3. make generate ---------------------------------------------------------------------------


def generate_time(report: Report, runs: int) -> None:
    walls: list[float] = []
    insides: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-generate-") as scratch:
            started = time.perf_counter()
            completed = subprocess.run(  # noqa: S603 (our own interpreter, our own script)
                [sys.executable, str(HERE / "_generate_once.py"), scratch],
                capture_output=True,
                text=True,
                check=True,
            )
            walls.append(time.perf_counter() - started)
        insides.append(float(completed.stdout.strip().splitlines()[-1]))
    wall = statistics.median(walls)
    inside = statistics.median(insides)
    report.rows += [
        Row(
            "make generate wall time (fresh interpreter)",
            f"{wall:.2f} s",
            f"<= {GENERATE_TARGET_S:.0f} s",
            wall <= GENERATE_TARGET_S,
        ),
        Row("  of which generate() itself", f"{inside:.2f} s"),
    ]
    report.results["generate"] = {
        "runs": runs,
        "statistic": "median",
        "wall_s": round(wall, 3),
        "generate_function_s": round(inside, 3),
        "target_s": GENERATE_TARGET_S,
    }


# -- 4. memory ----------------------------------------------------------------------------------


def memory_growth(report: Report) -> None:
    """Traced memory after MEMORY_CALLS[1] sequential sync calls against after MEMORY_CALLS[0]."""
    early, late = MEMORY_CALLS
    case = cases()[0]
    tracemalloc.start()
    try:
        with sync_calls(case) as clients:
            call: Callable[[], object] = clients["oeus_kraken"]
            for _ in range(early):
                call()
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            snapshot = tracemalloc.take_snapshot()
            for _ in range(late - early):
                call()
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            if (after - before) / 1024 > MEMORY_TARGET_KB:
                _print_growth(tracemalloc.take_snapshot(), snapshot)
    finally:
        tracemalloc.stop()
    growth_kb = (after - before) / 1024
    report.rows.append(
        Row(
            f"memory growth, {early:,} -> {late:,} sync calls (tracemalloc)",
            f"{growth_kb:+.1f} KB",
            f"< {MEMORY_TARGET_KB:.0f} KB",
            growth_kb < MEMORY_TARGET_KB,
        )
    )
    report.results["memory"] = {
        "client": "SyncKrakenClient",
        "operation": case.operation,
        "calls": [early, late],
        "traced_after_early_bytes": before,
        "traced_after_late_bytes": after,
        "growth_kb": round(growth_kb, 1),
        "target_kb": MEMORY_TARGET_KB,
    }


def _print_growth(after: tracemalloc.Snapshot, before: tracemalloc.Snapshot) -> None:
    print("memory: where the growth was allocated:", file=sys.stderr)
    for stat in after.compare_to(before, "lineno")[:8]:
        print(f"  {stat}", file=sys.stderr)


# -- report -------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    try:
        usable_cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable_cpus = os.cpu_count() or 0
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": usable_cpus,
        **{
            name: version(name)
            for name in ("httpx", "pydantic", "pydantic-core", "gql", "graphql-core")
        },
    }


def print_table(env: dict[str, Any], rows: list[Row]) -> None:
    print(
        f"Python {env['python']} ({env['implementation']}, {env['platform']}), "
        f"httpx {env['httpx']}, pydantic {env['pydantic']} (core {env['pydantic-core']}), "
        f"gql {env['gql']} (graphql-core {env['graphql-core']}), {env['cpus']} CPUs"
    )
    header = ("measure", "value", "target", "holds?")
    cells = [
        (
            row.measure,
            row.value.strip(),
            row.target,
            "-" if row.holds is None else ("yes" if row.holds else "NO"),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(4)]

    def line(values: tuple[str, ...]) -> str:
        left, value, *rest = values
        return (
            f"| {left.ljust(widths[0])} | {value.rjust(widths[1])} | "
            + " | ".join(v.ljust(w) for v, w in zip(rest, widths[2:], strict=True))
            + " |"
        )

    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for values in cells:
        print(line(values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS, help="calls per repetition")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="repetitions per client")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args()

    started = time.perf_counter()
    report = Report()
    per_call(report, args.calls, args.repeats)
    memory_growth(report)
    import_time(report, IMPORT_RUNS)
    generate_time(report, GENERATE_RUNS)

    env = environment()
    print_table(env, report.rows)
    checked = [row for row in report.rows if row.holds is not None]
    failed = [row.measure for row in checked if not row.holds]
    report.results = {
        "environment": env,
        **report.results,
        "all_targets_hold": not failed,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    args.output.write_text(json.dumps(report.results, indent=2, ensure_ascii=False) + "\n")
    print(
        f"{len(checked) - len(failed)}/{len(checked)} targets hold; "
        f"numbers in {_display(args.output)}; {time.perf_counter() - started:.0f} s"
    )
    return 0


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
