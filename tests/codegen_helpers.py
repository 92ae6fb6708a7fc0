"""Running `oeus-kraken codegen` in tests, and a small schema to run it against.

- `codegen_process(...)`: the `oeus-kraken` console script in a real process, as a user types it.
- `codegen_here(...)`: the same command through `oeus_kraken.cli.main` (what the console script
  calls) in this process: the same exit status, stdout and stderr, without the second or so an
  interpreter takes to start and import the codegen extra.
- `SMALL_SCHEMA`: a few types of schema.graphql, as they are there. Building the full schema takes
  seconds, and one codegen run builds it four times (the refusals, the deprecations, and
  ariadne-codegen's two runs); what the codegen tests prove (refusals, manifests, reproducible
  bytes, inference) does not depend on its size. The README's path, with the schema oeus-kraken
  ships, is the `codegen_project` fixture (conftest.py), built once per test run.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cli_helpers import Run

from oeus_kraken.cli import main

OEUS_KRAKEN = Path(sys.executable).parent / "oeus-kraken"
# The command's arguments for the package src/my_kraken from the operations in ops/.
MAKE = ("--queries", "ops", "--package", "my_kraken", "--target", "src")

# Each definition as schema.graphql has it, cut to the fields and arguments the tests select;
# a subset of the real schema, so an operation valid here is valid against the sandbox too.
SMALL_SCHEMA = """\
type Query {
  viewer: AccountUserType
  products(
    id: ID
    displayName: String
    prepay: Boolean
    basedOnTimeOfUse: Boolean
  ): [ProductType]
}

type Mutation {
  updateMetadata(input: String): AccountUserType
}

type AccountUserType {
  id: ID!
  accounts: [AccountInterface]
  givenName: String!
  familyName: String!
  email: String!
  fullName: String
}

interface AccountInterface {
  balance(includeAllLedgers: Boolean = false): Int!
  number: String
}

type AccountType implements AccountInterface {
  id: ID!
  number: String
  balance(includeAllLedgers: Boolean = false): Int!
}

type ProductType {
  id: ID!
  code: String
  displayName: String
  fullName: String
  prepay: Boolean
}
"""


VIEWER = "# Who am I?\nquery getViewer {\n  viewer {\n    email\n  }\n}\n"

# The README's "Your own operations": one operation needing a token, one the API serves without.
PROTECTED = """\
# My accounts and their balances (cents): needs a token.
query myAccounts {
  viewer {
    email
    accounts {
      number
      balance
    }
  }
}
"""
PUBLIC = """\
# What is on offer: the API serves this without authentication.
query myProducts($prepay: Boolean) {
  products(prepay: $prepay) {
    code
    displayName
  }
}
"""

# A user's script using the package generated from PROTECTED and PUBLIC (`{balance}`: the field
# it reads, spelt right or not).
SCRIPT = """\
from my_kraken import KrakenClient, MyAccountsViewerAccounts, SyncKrakenClient

from oeus_kraken import APIKey


def balances(url: str, key: str) -> list[tuple[str | None, int]]:
    with SyncKrakenClient(url, credentials=APIKey(key)) as kraken:
        viewer = kraken.my_accounts().viewer
        accounts: list[MyAccountsViewerAccounts | None] = []
        if viewer is not None and viewer.accounts is not None:
            accounts = viewer.accounts
        return [(a.number, a.{balance}) for a in accounts if a is not None]


async def product_codes(url: str) -> list[str]:
    async with KrakenClient(url) as kraken:
        products = (await kraken.my_products(prepay=False)).products
        return [p.code for p in products or [] if p is not None and p.code is not None]
"""


def write_small_schema(folder: Path) -> Path:
    path = folder / "small.graphql"
    path.write_text(SMALL_SCHEMA, encoding="utf-8")
    return path


def codegen_process(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`oeus-kraken codegen ARGS...` in `cwd`, in a process of its own."""
    return subprocess.run(
        [str(OEUS_KRAKEN), "codegen", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def codegen_here(*args: str | Path, cwd: Path) -> Run:
    """`oeus-kraken codegen ARGS...` in `cwd`, run by the console script's `main` in this
    process: its exit status, and what it printed on stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code: int | str | None = main(["codegen", *map(str, args)], out=out)
            except SystemExit as exit_:  # argparse: usage errors
                code = exit_.code
    finally:
        os.chdir(previous)
    return Run(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def imported(folder: Path, name: str) -> Iterator[Any]:
    """The package `name` in `folder`, imported, and forgotten again afterwards."""
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def generate_from(folder: Path, schema: str, operations: str) -> Path:
    """`src/my_kraken` generated in `folder` from `operations` (ops/a.graphql) against `schema`
    (schema.graphql, text); returns `src`."""
    (folder / "ops").mkdir()
    (folder / "schema.graphql").write_text(schema, encoding="utf-8")
    (folder / "ops" / "a.graphql").write_text(operations, encoding="utf-8")
    run = codegen_here(*MAKE, "--schema", "schema.graphql", cwd=folder)
    assert run.code == 0, run.err
    return folder / "src"


def mypy_strict(src: Path, scratch: Path) -> subprocess.CompletedProcess[str]:
    """A plain `mypy --strict -p my_kraken` in `src` (no plugins, as the README's step 3 runs it),
    its cache in `scratch`."""
    (scratch / "plain.ini").write_text("[mypy]\n", encoding="utf-8")
    mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", str(scratch / "plain.ini")]
    mypy += ["--cache-dir", str(scratch / "cache"), "-p", "my_kraken"]
    return subprocess.run(mypy, cwd=src, capture_output=True, text=True, timeout=300, check=False)
