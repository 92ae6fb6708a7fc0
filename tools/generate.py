"""Regenerate generated/oeus_kraken_generated from schema.graphql, queries/ and codegen.toml.

The package's own client is generated exactly as users generate theirs (`oeus-kraken codegen`):
this script only points oeus_kraken.codegen at our codegen.toml.

Usage:
    python tools/generate.py          rewrite generated/ (what `make generate` runs)
    python tools/generate.py --check  regenerate into a scratch folder and fail, showing a diff,
                                      if generated/ differs (what `make check-generated` runs)
    python tools/generate.py --fail-on-deprecated
                                      exit 1, writing nothing, if an operation in queries/ uses
                                      a deprecated element (`make generate FAIL_ON_DEPRECATED=1`)

Each deprecated element an operation uses is one line on stderr, `queries/x.graphql:3: field
Type.field is deprecated: <reason>`, whichever way it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oeus_kraken.codegen import CodegenError, check, generate, load_config, say_deprecations

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated/ is stale")
    parser.add_argument(
        "--fail-on-deprecated",
        action="store_true",
        help="exit 1, writing nothing, if an operation uses a deprecated element",
    )
    args = parser.parse_args()
    try:
        config = load_config(ROOT / "codegen.toml")
        if say_deprecations(config, fail=args.fail_on_deprecated, prefix="generate"):
            return 1
        if not args.check:
            package = generate(config)
            print(f"generate: wrote {len(list(package.glob('*.py')))} modules to {package}")
            return 0
        diff = check(config)
    except CodegenError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    if diff:
        sys.stdout.writelines(diff)
        print("check-generated: generated/ is stale; run `make generate` and commit the result.")
        return 1
    print("check-generated: generated/ matches schema.graphql, queries/ and codegen.toml.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
