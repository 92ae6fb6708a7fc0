"""The `oeus-kraken` command's entry point, a module of its own outside the `oeus_kraken` package.

Importing `oeus_kraken` loads httpx and pydantic (about 0.15 s), and an entry point inside the
package is imported by the script pip writes before any code of ours runs: a Ctrl-C in that time
printed Python's traceback. Here the import is inside our `main`, so an interrupted start ends
like any interrupted command: one line and exit status 130. (`python -m oeus_kraken` imports the
package first, as Python does; the window stays there.)
"""

from __future__ import annotations

import contextlib
import sys

_INTERRUPTED = 130  # oeus_kraken.cli's EXIT_CODES["interrupted"]: 128 + SIGINT


def main() -> int:
    try:
        from oeus_kraken.cli import main as run_command
    except KeyboardInterrupt:
        # (No stderr at all, 2>&-: sys.stderr is None, and print would write to stdout.)
        with contextlib.suppress(OSError, ValueError):
            if sys.stderr is not None:
                print("oeus-kraken: interrupted (Ctrl-C) while starting", file=sys.stderr)
                sys.stderr.flush()
        return _INTERRUPTED
    return run_command()
