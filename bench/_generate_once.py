"""Run `make generate`'s generator once into a scratch folder, leaving the repository untouched.

Run by bench/run.py in a fresh interpreter so that the wall time it measures includes what
`make generate` pays too: starting Python and importing ariadne-codegen. Prints the seconds
spent inside `generate()` alone.

    python bench/_generate_once.py SCRATCH_DIR
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    output_root = Path(sys.argv[1]).resolve()
    # What tools/generate.py's main() does before generating: codegen.toml paths are relative to
    # the repository root, and the codegen plugins live in tools/.
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT / "tools"))
    spec = importlib.util.spec_from_file_location("generate", ROOT / "tools" / "generate.py")
    if spec is None or spec.loader is None:
        raise SystemExit("cannot load tools/generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.tomllib.loads(module.CONFIG_FILE.read_text(encoding="utf-8"))
    started = time.perf_counter()
    package = module.generate(config, output_root)
    elapsed = time.perf_counter() - started
    if not (package / "sync_client.py").is_file():
        raise SystemExit(f"generate() wrote no sync client under {package}")
    print(elapsed)


if __name__ == "__main__":
    main()
