"""Run `make generate`'s generator once into a scratch folder, leaving the repository untouched.

Run by bench/run.py in a fresh interpreter so that the wall time it measures includes what
`make generate` pays too: starting Python and importing ariadne-codegen. Prints the seconds
spent inside `generate()` alone.

    python bench/_generate_once.py SCRATCH_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from oeus_kraken.codegen import generate, load_config

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    config = load_config(ROOT / "codegen.toml")
    settings = config["tool"]["ariadne-codegen"]
    settings["target_package_path"] = str(Path(sys.argv[1]).resolve())
    # Under another name: codegen refuses to write a second `oeus_kraken_generated`, which would
    # shadow ours; the name is in no generated file's code, so the work is the same.
    settings["target_package_name"] = "bench_generated"
    started = time.perf_counter()
    package = generate(config)
    elapsed = time.perf_counter() - started
    if not (package / "sync_client.py").is_file():
        raise SystemExit(f"generate() wrote no sync client under {package}")
    print(elapsed)


if __name__ == "__main__":
    main()
