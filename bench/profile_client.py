"""Where our client's time goes: cProfile over repeated calls, token already held.

    .venv/bin/python bench/profile_client.py                  # sync, ~35 KB getAccount (--case)
    .venv/bin/python bench/profile_client.py --async --case small --sort tottime

Not part of `make bench`; for whoever optimises a hot path.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats

from _clients import async_calls, cases, sync_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[c.key for c in cases()], default="account")
    parser.add_argument("--async", dest="use_async", action="store_true", help="KrakenClient")
    parser.add_argument("--client", default="oeus_kraken", help="which client to profile")
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--sort", default="cumulative", help="a pstats sort key")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    case = next(c for c in cases() if c.key == args.case)
    profiler = cProfile.Profile()

    if args.use_async:

        async def run() -> None:
            async with async_calls(case) as clients:
                call = clients[args.client]
                profiler.enable()
                for _ in range(args.calls):
                    await call()
                profiler.disable()

        asyncio.run(run())
    else:
        with sync_calls(case) as clients:
            call = clients[args.client]
            profiler.enable()
            for _ in range(args.calls):
                call()
            profiler.disable()

    flavour = "async" if args.use_async else "sync"
    size = f"{len(case.body):,} bytes"
    print(f"{args.client} ({flavour}), {case.description}, {size}, {args.calls:,} calls")
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
