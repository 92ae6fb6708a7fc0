"""Issue 20's codegen reproductions, replayed from outside on two checkouts: before and after.

Each reproduction runs a checkout's own `.venv/bin/oeus-kraken codegen` in a subprocess, in a
fresh temporary folder, and reports what a user would see: the exit status, a traceback or the
one line printed, which of the user's files were deleted, and whether the package it wrote works
(imports, passes `mypy --strict`, or `--check` passes in a clone at another path).

    .venv/bin/python bench/edges_codegen.py [--before /work/baseline] [--after .]

Prints one row per reproduction: what happened before, what happens now. Takes a few minutes:
most reproductions make the before checkout generate a package (about 10 s each).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWER = "query getViewer { viewer { email } }\n"
MESSAGE_WIDTH = 90


@dataclass(frozen=True)
class Checkout:
    """A checkout with its own .venv (`make install`)."""

    root: Path

    def run(self, *args: str | Path, cwd: Path, tool: str = "oeus-kraken") -> Ran:
        command = [str(self.root / ".venv" / "bin" / tool), *map(str, args)]
        # The command is this script's own, in a checkout the user named.
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
        return Ran(done.returncode, done.stdout, done.stderr)

    def codegen(self, *args: str | Path, cwd: Path) -> Ran:
        return self.run("codegen", *args, cwd=cwd)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def said(self) -> str:
        """Exit status and, if it failed, its traceback's last line or the one line it printed."""
        lines = self.err.strip().splitlines()
        if self.code == 0 or not lines:
            return f"exit {self.code}"
        if "Traceback" in self.err:
            return f"exit {self.code}, traceback: {_short(lines[-1])}"
        if len(lines) > 1:
            return f"exit {self.code}, {len(lines)} lines: {_short(lines[0])}"
        return (
            f"exit {self.code}, one line: {_short(lines[0].removeprefix('oeus-kraken codegen: '))}"
        )


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_WIDTH else text[: MESSAGE_WIDTH - 3] + "..."


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry under `folder`: a file's bytes, None for a folder."""
    return {
        p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


def ops(folder: Path, **files: str) -> Path:
    """`folder`/ops/ holding `files` (name without .graphql: text); returns `folder`."""
    (folder / "ops").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / "ops" / f"{name}.graphql").write_text(text)
    return folder


def generate(checkout: Checkout, folder: Path, package: str, *more: str) -> Ran:
    return checkout.codegen(
        "--queries", "ops", "--package", package, "--target", "tgt", *more, cwd=folder
    )


def imports(checkout: Checkout, folder: Path, package: str) -> str:
    """Whether `from PACKAGE import SyncKrakenClient` works where the package was written."""
    ran = checkout.run("-c", f"from {package} import SyncKrakenClient", cwd=folder, tool="python")
    if ran.code == 0:
        return "imports"
    return "import fails: " + _short(ran.err.strip().splitlines()[-1])


# The reproductions: each takes a checkout and an empty folder, and says what happened.


def foreign_folder(checkout: Checkout, folder: Path) -> str:
    package = ops(folder, viewer=VIEWER) / "tgt" / "my_kraken"
    (package / "sub").mkdir(parents=True)
    (package / "handwritten.py").write_text("MINE\n")
    before = tree(folder / "tgt")
    ran = generate(checkout, folder, "my_kraken")
    lost = [name for name in before if name not in tree(folder / "tgt")]
    changed = f"deleted {', '.join(lost)}" if lost else "nothing changed"
    return f"{ran.said()}; {changed}"


def refused_name(package: str) -> Callable[[Checkout, Path], str]:
    def reproduce(checkout: Checkout, folder: Path) -> str:
        ran = generate(checkout, ops(folder, viewer=VIEWER), package)
        if ran.code != 0:
            wrote = "wrote something" if (folder / "tgt").exists() else "wrote nothing"
            return f"{ran.said()}; {wrote}"
        return f"{ran.said()}; {imports(checkout, folder / 'tgt', package)}"

    return reproduce


def one_method_name(checkout: Checkout, folder: Path) -> str:
    ops(folder, a=VIEWER, b="query get_viewer { viewer { email } }\n")
    ran = generate(checkout, folder, "dup")
    if ran.code != 0:
        return ran.said()
    methods = (folder / "tgt" / "dup" / "sync_client.py").read_text().count("def get_viewer(")
    mypy = checkout.run(
        "-m", "mypy", "--strict", "--no-incremental", "-p", "dup", cwd=folder / "tgt", tool="python"
    )
    errors = [line for line in mypy.out.splitlines() if ": error: " in line]
    codes = sorted({line.rpartition("[")[2].rstrip("]") for line in errors})
    found = f"{len(errors)} errors [{', '.join(codes)}]" if errors else f"exit {mypy.code}"
    return f"{ran.said()}; {methods} methods get_viewer(); mypy --strict: {found}"


def failing_operation(text: str) -> Callable[[Checkout, Path], str]:
    def reproduce(checkout: Checkout, folder: Path) -> str:
        return generate(checkout, ops(folder, op=text), "my_kraken").said()

    return reproduce


def target_is_a_file(checkout: Checkout, folder: Path) -> str:
    ops(folder, viewer=VIEWER)
    (folder / "tgt").write_text("a file\n")
    return generate(checkout, folder, "my_kraken").said()


def package_path_is_a_file(checkout: Checkout, folder: Path) -> str:
    ops(folder, viewer=VIEWER)
    (folder / "tgt").mkdir()
    (folder / "tgt" / "my_kraken").write_text("a file\n")
    return generate(checkout, folder, "my_kraken").said()


def check_in_a_clone(checkout: Checkout, folder: Path) -> str:
    """Generated with absolute paths in one checkout, committed; `--check` in a clone."""
    first = ops(folder / "first" / "project", viewer=VIEWER)
    ran = checkout.codegen(
        "--queries", first / "ops", "--package", "my_kraken", "--target", first / "tgt", cwd=folder
    )
    if ran.code != 0:
        return ran.said()
    clone = Path(shutil.copytree(first, folder / "elsewhere" / "clone"))
    check = checkout.codegen(
        "--queries", clone / "ops", "--package", "my_kraken", "--target", clone / "tgt", "--check",
        cwd=folder,
    )  # fmt: skip
    differing = sum(line.startswith("--- ") for line in check.out.splitlines())
    return f"--check {check.said()}; " + (
        f"{differing} files differ" if differing else "up to date"
    )


REPRODUCTIONS: list[tuple[str, Callable[[Checkout, Path], str]]] = [
    ("folder with files codegen did not write", foreign_folder),
    ("--package class", refused_name("class")),
    ("--package None", refused_name("None")),
    ("--package typing", refused_name("typing")),
    ("--package httpx", refused_name("httpx")),
    ("--package oeus_kraken", refused_name("oeus_kraken")),
    ("operations getViewer and get_viewer", one_method_name),
    ("a subscription", failing_operation("subscription onThing { viewer { email } }\n")),
    ("an anonymous operation", failing_operation("{ viewer { email } }\n")),
    ("--target is a file", target_is_a_file),
    ("the package path is a file", package_path_is_a_file),
    ("same inputs, a clone at another path: --check", check_in_a_clone),
]


def replay(checkout: Checkout, reproduce: Callable[[Checkout, Path], str]) -> str:
    with tempfile.TemporaryDirectory(prefix="edges-codegen-") as folder:
        return reproduce(checkout, Path(folder))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=Path("/work/baseline"))
    parser.add_argument("--after", type=Path, default=ROOT)
    args = parser.parse_args()
    before, after = Checkout(args.before.resolve()), Checkout(args.after.resolve())
    print(f"before: {before.root}\nafter:  {after.root}\n")
    print("| reproduction | before | after |\n|---|---|---|")
    for name, reproduce in REPRODUCTIONS:
        print(f"| {name} | {replay(before, reproduce)} | {replay(after, reproduce)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
