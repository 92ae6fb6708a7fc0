"""`python -m oeus_kraken`: the same as the `oeus-kraken` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
