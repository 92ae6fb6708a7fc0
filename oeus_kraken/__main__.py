"""The `oeus-kraken` command line (subcommands arrive with the sandbox issue)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("oeus-kraken: no subcommands yet; see README.md", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
