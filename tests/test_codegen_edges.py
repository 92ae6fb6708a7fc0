"""`oeus-kraken codegen` at its edges: it never deletes what it did not write, and it refuses, in
one line with exit 2 and nothing written, what cannot give a working package.

Run as a user runs it: the `oeus-kraken codegen` command, in temporary folders, against the small
schema (codegen_helpers: what is refused does not depend on the schema's size). Every refusal is
checked the same way: exit status 2, nothing on stdout, one line on stderr and no traceback, and
the folder tree (bytes, modes, links) exactly as it was. The command runs through the console
script's `main` in this process; `test_the_python_api_raises_the_refusal_the_command_prints`
runs it as a process of its own for each kind of refusal, and the Python API behind it raises
the same refusal as a ConfigurationError (a KrakenError) with the same words.
"""

from __future__ import annotations

import ast
import errno
import importlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import Run
from codegen_helpers import (
    MAKE,
    OEUS_KRAKEN,
    VIEWER,
    codegen_here,
    codegen_process,
    imported,
    write_small_schema,
)

from oeus_kraken import ConfigurationError, KrakenError
from oeus_kraken.cli import main
from oeus_kraken.codegen import (
    MANIFEST,
    CodegenError,
    ForeignFileError,
    generate,
    package_config,
)
from oeus_kraken.codegen._manifest import refuse_foreign
from oeus_kraken.codegen._refusals import package_name_problem, runtime_modules
from oeus_kraken.sandbox import SandboxServer

SMALL = ("--schema", "small.graphql")  # in each project folder here

Tree = dict[str, tuple[int, bytes | None]]


def codegen(*args: str | Path, cwd: Path) -> Run:
    """`oeus-kraken codegen ARGS... --schema small.graphql` in `cwd`."""
    return codegen_here(*args, *SMALL, cwd=cwd)


def tree(folder: Path) -> Tree:
    """Every entry under `folder`: its mode, and its bytes (a link's target; None for a folder)."""
    entries: Tree = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            content: bytes | None = os.readlink(path).encode()
        else:
            content = None if stat.S_ISDIR(mode) else path.read_bytes()
        entries[path.relative_to(folder).as_posix()] = (mode, content)
    return entries


def refused(run: Run, *words: str) -> str:
    """The one line a refusal printed, after checking it is a refusal that says `words`."""
    assert run.code == 2, run.out + run.err
    assert run.out == ""
    assert "Traceback" not in run.err
    [line] = run.err_lines
    assert line.startswith("oeus-kraken codegen: "), line
    for word in words:
        assert word in line, line
    return line


def refused_unchanged(folder: Path, *args: str, words: tuple[str, ...] = ()) -> str:
    """Run codegen in `folder`, check it refused (saying `words`) and left it as it was."""
    before = tree(folder)
    line = refused(codegen(*args, cwd=folder), *words)
    assert tree(folder) == before
    return line


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    """A user's project folder with one good operation in ops/, and the small schema."""
    write(tmp_path / "ops" / "viewer.graphql", VIEWER)
    write_small_schema(tmp_path)
    return tmp_path


@pytest.fixture
def generated(small_codegen_project: Path) -> Path:
    """A project whose src/my_kraken an earlier codegen run wrote (copy it before changing it)."""
    return small_codegen_project


def copy_of(project: Path, where: Path) -> Path:
    shutil.copytree(project, where, symlinks=True)
    return where


# 1. codegen never deletes what it did not write.


@pytest.mark.parametrize(
    ("mine", "named"),
    [
        ({"handwritten.py": "MINE\n"}, "handwritten.py"),
        ({"sub/notes.txt": "MINE\n"}, "sub/notes.txt"),
        ({"sub/": None, "handwritten.py": "MINE\n"}, "handwritten.py"),  # the case
        ({"sub/": None}, "sub"),
        ({"__init__.py": "from .app import main\n", "app.py": "main = 1\n"}, "__init__.py"),
    ],
    ids=["at the top", "in a subfolder", "issue 20", "an empty subfolder", "an application"],
)
def test_codegen_refuses_to_replace_a_folder_holding_a_file_it_did_not_write(
    ops: Path, mine: dict[str, str | None], named: str
) -> None:
    package = ops / "src" / "my_kraken"
    for name, text in mine.items():
        if text is None:
            (package / name).mkdir(parents=True)
        else:
            write(package / name, text)
    line = refused_unchanged(ops, *MAKE, words=(f"src/my_kraken/{named} was not written",))
    assert "refusing to replace src/my_kraken" in line


def test_codegen_refuses_a_folder_it_wrote_once_a_file_is_added_to_it(
    generated: Path, tmp_path: Path
) -> None:
    # Even a module that carries the generated header: the manifest, not the header, says
    # which files a run wrote.
    project = copy_of(generated, tmp_path / "project")
    header = (project / "src" / "my_kraken" / "get_viewer.py").read_text()
    write(project / "src" / "my_kraken" / "extra.py", header)
    refused_unchanged(project, *MAKE, words=("src/my_kraken/extra.py was not written",))


def test_codegen_refuses_to_replace_a_generated_file_edited_since_it_was_written(
    generated: Path, tmp_path: Path
) -> None:
    """An edited generated file is no longer codegen's: it is refused, not overwritten, since
    the edit may be someone's only copy of their work (`--check` shows it)."""
    project = copy_of(generated, tmp_path / "project")
    edited = project / "src" / "my_kraken" / "sync_client.py"
    edited.write_text(edited.read_text() + "# my fix\n")
    refused_unchanged(
        project, *MAKE, words=("src/my_kraken/sync_client.py was changed since", "--check")
    )


def test_codegen_replaces_a_folder_it_wrote_earlier_byte_code_caches_included(
    generated: Path, tmp_path: Path
) -> None:
    project = copy_of(generated, tmp_path / "project")
    package = project / "src" / "my_kraken"
    write(package / "__pycache__" / "sync_client.cpython-311.pyc", "byte code")
    write(project / "ops" / "viewer.graphql", VIEWER.replace("email", "email\n    fullName"))
    run = codegen(*MAKE, cwd=project)
    assert run.code == 0, run.err
    assert "full_name" in (package / "get_viewer.py").read_text()
    assert not (package / "__pycache__").exists()
    assert MANIFEST in os.listdir(package)


@pytest.mark.slow
def test_the_same_inputs_at_two_absolute_paths_give_identical_bytes_and_check_shows_any_change(
    generated: Path, tmp_path: Path
) -> None:
    # A clone at another path, generated with absolute paths from yet another folder.
    clone = copy_of(generated, tmp_path / "somewhere" / "else" / "clone")
    shutil.rmtree(clone / "src" / "my_kraken")
    absolute = ("--queries", clone / "ops", "--package", "my_kraken", "--target", clone / "src")
    absolute += ("--schema", clone / "small.graphql")
    run = codegen_here(*absolute, cwd=tmp_path)
    assert run.code == 0, run.err
    assert tree(clone / "src") == tree(generated / "src")
    for module in (clone / "src" / "my_kraken").glob("*.py"):
        assert str(tmp_path) not in module.read_text(), module.name
    header = (clone / "src" / "my_kraken" / "async_client.py").read_text().splitlines()[1]
    regenerate = "oeus-kraken codegen --queries ../ops --package my_kraken --target ."
    assert f"`{regenerate} --schema ../small.graphql`" in header

    # --check regenerates from the same inputs into a scratch folder and compares every byte.
    before = tree(clone)
    check = codegen_here(*absolute, "--check", cwd=tmp_path)
    assert (check.code, check.out) == (0, "codegen: up to date\n"), check.err
    assert tree(clone) == before  # it writes nothing

    edited = clone / "src" / "my_kraken" / "sync_client.py"
    edited.write_text(edited.read_text().replace("def get_viewer", "def get_vewer"))
    stale = codegen_here(*absolute, "--check", cwd=tmp_path)
    assert stale.code == 1, stale.out + stale.err
    assert "sync_client.py" in stale.out
    assert "get_vewer" in stale.out


def test_a_folder_written_before_manifests_is_proved_by_its_headers(
    generated: Path, tmp_path: Path
) -> None:
    package = copy_of(generated / "src" / "my_kraken", tmp_path / "my_kraken")
    (package / MANIFEST).unlink()
    refuse_foreign(package)  # headers on every module, and the empty py.typed: codegen's

    (package / "py.typed").write_text("partial\n")
    with pytest.raises(ForeignFileError, match=r"py\.typed was not written by codegen"):
        refuse_foreign(package)
    (package / "py.typed").write_text("")
    (package / "helpers.py").write_text("def mine() -> None: ...\n")
    with pytest.raises(ForeignFileError, match=r"helpers\.py was not written") as refusal:
        refuse_foreign(package)
    assert refusal.value.path == package / "helpers.py"


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda p: (p / MANIFEST).write_text("{not json"), "is not a manifest codegen can read"),
        (lambda p: (p / "link.py").symlink_to(p / "enums.py"), "link.py was not written"),
        (lambda p: write(p / "__pycache__" / "x" / "y.pyc", ""), "__pycache__/x/y.pyc was not"),
        (lambda p: write(p / "__pycache__" / "notes.txt", ""), "__pycache__/notes.txt was not"),
    ],
    ids=["a broken manifest", "a link", "a folder in the cache", "a file in the cache"],
)
def test_nothing_but_generated_files_and_their_byte_code_counts_as_codegens(
    generated: Path, tmp_path: Path, spoil: Any, says: str
) -> None:
    package = copy_of(generated / "src" / "my_kraken", tmp_path / "my_kraken")
    spoil(package)
    with pytest.raises(ForeignFileError, match=says.replace(".", r"\.")):
        refuse_foreign(package)


def test_a_file_written_into_the_folder_while_codegen_runs_stops_it(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oeus_kraken.codegen as codegen_module

    project = copy_of(generated, tmp_path / "project")
    package = project / "src" / "my_kraken"
    before = tree(package)

    def run_while_someone_writes(config: dict[str, Any], output_root: Path) -> Path:
        """Stands in for the seconds-long run, during which someone saves a file there."""
        (package / "mine.py").write_text("MINE\n")
        return Path(shutil.copytree(package, output_root / "my_kraken"))

    monkeypatch.setattr(codegen_module, "_run_twice", run_while_someone_writes)
    config = package_config(
        queries=project / "ops",
        package="my_kraken",
        target=project / "src",
        schema=project / "small.graphql",
    )
    with pytest.raises(ForeignFileError, match=r"mine\.py was not written by codegen"):
        generate(config)
    after = tree(package)
    assert after.pop("mine.py")[1] == b"MINE\n"
    assert after == before
    assert os.listdir(project / "src") == ["my_kraken"]  # and no scratch folder left


def test_a_run_that_fails_midway_leaves_no_folder_behind(
    ops: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oeus_kraken.codegen as codegen_module

    def fail(config: dict[str, Any], output_root: Path) -> Path:
        (output_root / "my_kraken").mkdir()
        raise CodegenError("ariadne-codegen: something no check foresaw")

    monkeypatch.setattr(codegen_module, "_run_twice", fail)
    config = package_config(
        queries=ops / "ops",
        package="my_kraken",
        target=ops / "src" / "new",
        schema=ops / "small.graphql",
    )
    with pytest.raises(CodegenError, match="no check foresaw"):
        generate(config)
    assert sorted(p.name for p in ops.iterdir()) == ["ops", "small.graphql"]  # no src/, src/new/


# 2. codegen refuses bad names, operations and paths.


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("my-kraken", "it is not a Python identifier"),
        ("2fast", "it is not a Python identifier"),
        ("class", "is a Python keyword"),
        ("None", "is a Python keyword"),
        ("__main__", "are Python's own"),
        ("typing", "shadow the standard library's typing"),
        ("sys", "shadow the standard library's sys"),
        ("json", "shadow the standard library's json"),
        ("httpx", "shadow httpx, which the generated code needs"),
        ("pydantic", "shadow pydantic, which the generated code needs"),
        ("oeus_kraken", "shadow oeus_kraken, which the generated code needs"),
        ("anyio", "shadow anyio, which the generated code needs"),  # httpx's own dependency
        # Python reads identifiers in NFKC form: an import of my_kraken in fullwidth letters
        # looks for my_kraken/ (before: written, then ModuleNotFoundError on import).
        ("\uff4d\uff59_kraken", "Python reads it as 'my_kraken'"),
        ("\ufb01les", "Python reads it as 'files'"),
    ],
)
def test_codegen_refuses_a_package_name_that_is_no_identifier_a_keyword_or_a_shadow(
    ops: Path, name: str, says: str
) -> None:
    args = ("--queries", "ops", "--package", name, "--target", "src")
    refused_unchanged(ops, *args, words=(repr(name), "cannot be the Python package name", says))
    assert not (ops / "src").exists()


def test_the_refused_names_cover_every_module_the_generated_code_imports(generated: Path) -> None:
    imported: set[str] = set()
    for module in (generated / "src" / "my_kraken").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    assert imported
    assert imported - set(sys.stdlib_module_names) - runtime_modules() == set()
    assert {"httpx", "pydantic", "oeus_kraken"} <= runtime_modules()


@pytest.mark.slow
def test_a_soft_keyword_is_a_package_name_that_imports(ops: Path) -> None:
    run = codegen("--queries", "ops", "--package", "match", "--target", "src", cwd=ops)
    assert run.code == 0, run.err
    imported = subprocess.run(
        [sys.executable, "-c", "import match; from match import SyncKrakenClient"],
        cwd=ops / "src",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr


@pytest.mark.parametrize(
    ("files", "says"),
    [
        (
            {"a.graphql": VIEWER, "b.graphql": "\n\nquery get_viewer { viewer { email } }\n"},
            "ops/b.graphql:3:1: operation get_viewer and operation getViewer "
            "(ops/a.graphql:2:1) would both be the method get_viewer()",
        ),
        (
            {"a.graphql": VIEWER, "b.graphql": VIEWER},
            "ops/b.graphql:2:1: operation getViewer and operation getViewer (ops/a.graphql:2:1)",
        ),
        (
            {"s.graphql": "subscription onReading { viewer { email } }\n"},
            "ops/s.graphql:1:1: subscription onReading: the generated clients",
        ),
        (
            {"anon.graphql": "{ viewer { email } }\n"},
            "ops/anon.graphql:1:1: this query has no name",
        ),
        (
            {"anon.graphql": "# mine\nmutation { viewer { email } }\n"},
            "ops/anon.graphql:2:1: this mutation has no name",
        ),
        (
            {"x.graphql": "query execute { viewer { email } }\n"},
            "ops/x.graphql:1:1: operation execute would be execute(), replacing the client's",
        ),
        (
            {"x.graphql": "query enums { viewer { email } }\n"},
            "ops/x.graphql:1:1: operation enums would be enums.py, a module every package has",
        ),
    ],
    ids=[
        "one method",
        "one name",
        "subscription",
        "anonymous",
        "anonymous mutation",
        "a client method",
        "a module",
    ],
)
def test_codegen_refuses_operations_that_cannot_each_be_a_method(
    tmp_path: Path, files: dict[str, str], says: str
) -> None:
    write_small_schema(tmp_path)
    for name, text in files.items():
        write(tmp_path / "ops" / name, text)
    refused_unchanged(tmp_path, *MAKE, words=(says,))


def link_the_package_to_ops(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "my_kraken").symlink_to(project / "ops")


@pytest.mark.parametrize(
    ("make", "target", "says"),
    [
        (lambda d: write(d / "src", "a file\n"), "src", "the target src is not a folder"),
        (lambda d: write(d / "src", "a file\n"), "src/sub", "(src is a file)"),
        (lambda d: (d / "src").symlink_to(d / "nowhere"), "src", "the target src is not a"),
        (
            lambda d: write(d / "src" / "my_kraken", "a file\n"),
            "src",
            "src/my_kraken is a file, not a package folder",
        ),
        (link_the_package_to_ops, "src", "src/my_kraken is a symbolic link"),
    ],
    ids=[
        "target is a file",
        "target under a file",
        "target links nowhere",
        "package is a file",
        "package is a link",
    ],
)
def test_codegen_refuses_a_target_or_package_path_that_is_a_file(
    ops: Path, make: Any, target: str, says: str
) -> None:
    make(ops)
    args = ("--queries", "ops", "--package", "my_kraken", "--target", target)
    refused_unchanged(ops, *args, words=(says,))


@pytest.mark.parametrize(
    ("package", "files", "prepare", "as_a_process"),
    [
        pytest.param("class", {}, None, True, marks=pytest.mark.slow),  # a process: a second
        ("my_kraken", {"x.graphql": "{ viewer { email } }\n"}, None, False),
        ("my_kraken", {}, lambda d: write(d / "src" / "my_kraken" / "mine.py", "MINE\n"), False),
        ("my_kraken", {}, lambda d: write(d / "src", "a file\n"), False),
    ],
    ids=["a keyword", "an anonymous operation", "a foreign file", "a file as target"],
)
def test_the_python_api_raises_the_refusal_the_command_prints(
    ops: Path,
    package: str,
    files: dict[str, str],
    prepare: Any,
    as_a_process: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, text in files.items():
        write(ops / "ops" / name, text)
    if prepare:
        prepare(ops)
    args = ("--queries", "ops", "--package", package, "--target", "src")
    if as_a_process:  # the console script, in a process of its own: once is enough
        process = codegen_process(*args, *SMALL, cwd=ops)
        run = Run(process.returncode, process.stdout, process.stderr)
    else:
        run = codegen(*args, cwd=ops)
    line = refused(run)
    monkeypatch.chdir(ops)
    with pytest.raises(CodegenError) as refusal:
        generate(package_config(queries="ops", package=package, target="src", schema=SMALL[1]))
    assert isinstance(refusal.value, ConfigurationError)
    assert isinstance(refusal.value, KrakenError)
    assert line == f"oeus-kraken codegen: {refusal.value}"


def test_our_own_package_deleted_before_regenerating_is_written_again_where_python_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make generate` after `rm -rf generated/oeus_kraken_generated` (a merge, a clean start):
    the name is one the code needs, but nothing provides it now, and its folder's parent is on
    the import path, so writing it there shadows nothing. Anywhere else it would."""
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "oeus_kraken_generated" else real_find_spec(name, *a),
    )
    home, elsewhere = tmp_path / "generated", tmp_path / "other"
    monkeypatch.setattr(sys, "path", [str(home), *sys.path])
    assert package_name_problem("oeus_kraken_generated", home / "oeus_kraken_generated") is None
    refused = package_name_problem("oeus_kraken_generated", elsewhere / "oeus_kraken_generated")
    assert refused is not None
    assert "shadow" in refused


# Names that give no working package, found by trying them as a user would.


@pytest.mark.parametrize(
    ("operation", "says"),
    [
        ("None", "operation None would be the method none() and the class 'None'"),
        ("true", "operation true would be the method true() and the class 'True'"),
        ("_", "operation _ would be the method underscore_named_field_() and the class ''"),
        ("_1", "operation _1 would be the method 1() and the class '1'"),
    ],
)
def test_codegen_refuses_an_operation_whose_class_or_method_python_cannot_name(
    tmp_path: Path, operation: str, says: str
) -> None:
    write_small_schema(tmp_path)
    write(tmp_path / "ops" / "a.graphql", f"query {operation} {{ viewer {{ email }} }}\n")
    refused_unchanged(tmp_path, *MAKE, words=(f"ops/a.graphql:1:1: {says}",))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "query Optional { viewer { email } }\n",
            "ops/a.graphql:1:1: operation Optional would define the class Optional, over the "
            "Optional its generated module imports",
        ),
        (
            "query Field { viewer { accounts { number } } }\n",
            "ops/a.graphql:1:1: operation Field would define the class Field, over the Field",
        ),
        (
            "query a { viewer { email } }\n\nquery aViewer { viewer { email } }\n",
            "ops/a.graphql:3:1: operation aViewer would define the class AViewer, which "
            "ops/a.graphql:1:1: operation a defines too",
        ),
        (
            "query p($prePay: Boolean, $pre_pay: Boolean) {\n"
            "  products(prepay: $prePay, basedOnTimeOfUse: $pre_pay) { code }\n}\n",
            "ops/a.graphql:1:1: operation p would take the parameter pre_pay twice "
            "($prePay and $pre_pay): rename one of them",
        ),
        (
            "query p($self: Boolean, $self_: Boolean) {\n"
            "  products(prepay: $self, basedOnTimeOfUse: $self_) { code }\n}\n",
            "ops/a.graphql:1:1: operation p would take the parameter self_ twice "
            "($self and $self_)",
        ),
        # Before: written, and `KrakenClient` was both the client and the operation's model;
        # the package failed mypy --strict, and the method's return type named the client.
        (
            "query KrakenClient { viewer { email } }\n",
            "ops/a.graphql:1:1: operation KrakenClient would define the class KrakenClient, "
            "the package's own (in its async_client.py): rename it",
        ),
        (
            "query syncKrakenClient { viewer { email } }\n",
            "operation syncKrakenClient would define the class SyncKrakenClient, the package's "
            "own (in its sync_client.py)",
        ),
        (
            "query v { viewer { fullName full_name: fullName } }\n",
            "ops/a.graphql:1:1: operation v would give the class VViewer two fields named "
            "full_name (fullName and full_name): alias one of them",
        ),
    ],
    ids=[
        "a typing name",
        "a pydantic name",
        "two operations' classes",
        "two variables",
        "a variable and a renamed one",
        "the async client's name",
        "the sync client's name",
        "two fields",
    ],
)
def test_codegen_refuses_operations_whose_names_would_give_one_python_name_twice(
    tmp_path: Path, text: str, says: str
) -> None:
    # Python would refuse the package or the method (a parameter twice), or keep one of two
    # fields of a class (an attribute twice), silently dropping the other's value.
    write_small_schema(tmp_path)
    write(tmp_path / "ops" / "a.graphql", text)
    refused_unchanged(tmp_path, *MAKE, words=(says,))


def test_paths_starting_with_a_tilde_are_in_the_home_folder(
    ops: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a shell expands them, and as --db and --out do: never a folder named `~` here.
    monkeypatch.setenv("HOME", str(ops))
    elsewhere = ops / "elsewhere"
    elsewhere.mkdir()

    run = codegen_here("--queries", "~/ops", "--package", "my_kraken", "--target", "~/src",
                       "--schema", "~/small.graphql", cwd=elsewhere)  # fmt: skip

    assert (run.code, run.err) == (0, "")
    assert (ops / "src" / "my_kraken" / MANIFEST).is_file()
    assert list(elsewhere.iterdir()) == []


# Variables named like what every generated method binds itself: `self` and `**kwargs` (its
# parameters), `variables`, `response` and `data` (its locals).
OWN_NAMES = """\
query pick($self: Boolean, $kwargs: Boolean, $data: Boolean, $response: Boolean) {
  products(prepay: $self, basedOnTimeOfUse: $kwargs) { code }
  again: products(prepay: $data, basedOnTimeOfUse: $response) { code }
}
"""


def test_variables_named_like_a_methods_own_names_are_parameters_that_work(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    write_small_schema(tmp_path)
    write(tmp_path / "ops" / "pick.graphql", OWN_NAMES)
    run = codegen(*MAKE, cwd=tmp_path)
    assert run.code == 0, run.err
    mismatch = httpx.MockTransport(lambda _: httpx.Response(200, json={"data": {"products": 5}}))
    with imported(tmp_path / "src", "my_kraken") as my_kraken:
        # `self` and `kwargs` get a trailing _, as keywords do (`$class` is `class_=`).
        with my_kraken.SyncKrakenClient(sandbox.url) as kraken:
            answer = kraken.pick(self_=False, kwargs_=False, data=False, response=False)
        assert answer.products
        assert answer.again
        # Whatever its variables are called, a method's answer is parsed by parse_result: a
        # model mismatch is a KrakenError, not pydantic's ValidationError.
        with (
            httpx.Client(transport=mismatch) as broken,
            my_kraken.SyncKrakenClient(sandbox.url, http_client=broken) as kraken,
            pytest.raises(KrakenError, match="products"),
        ):
            kraken.pick(data=False)


# Enum values Python's Enum refuses as member names: `mro` raises when the class is made, and a
# _sunder_ name is reserved (`_missing_` would even replace OpenEnum's hook for unknown values).
RESERVED_ENUM_SCHEMA = """\
type Query {
  thing(kind: Kind, filter: Filter): Thing
}
enum Kind { mro _missing_ _order_ A }
input Filter { kind: Kind = _missing_ }
type Thing { kind: Kind }
"""


def test_enum_values_python_reserves_are_members_of_names_python_and_mypy_take(
    tmp_path: Path,
) -> None:
    # `mro` gets a trailing _, as a keyword does (`class` is `Kind.class_`); a name between
    # underscores loses the leading one. Before, the package failed on import.
    write(tmp_path / "kinds.graphql", RESERVED_ENUM_SCHEMA)
    write(tmp_path / "ops" / "a.graphql", "query a($f: Filter) { thing(filter: $f) { kind } }")
    run = codegen_here(*MAKE, "--schema", "kinds.graphql", cwd=tmp_path)
    assert run.code == 0, run.err
    with imported(tmp_path / "src", "my_kraken") as my_kraken:
        kind = importlib.import_module("my_kraken.enums").Kind
        assert [m.value for m in kind] == ["mro", "_missing_", "_order_", "A"]
        assert (kind("mro"), kind("_missing_")) == (kind.mro_, kind.missing_)
        assert kind("ADDED_LATER").value == "ADDED_LATER"  # still open to new values
        assert my_kraken.Filter().kind is kind.missing_
        answer = {"thing": {"kind": "_order_"}}
        assert my_kraken.A.model_validate(answer).thing.kind is kind.order_


def test_fields_named_like_a_model_classs_own_methods_are_attributes_with_a_trailing_underscore(
    tmp_path: Path,
) -> None:
    # `register` and `mro` are methods of pydantic's model class (its metaclass's), which
    # ariadne-codegen's reserved names miss. Before, they were the attribute names, and
    # importing the package warned "Field name "register" ... shadows an attribute in parent
    # "BaseModel"" (an error under -W error, as in a test suite that turns warnings on).
    schema = (
        "type Query { thing(filter: Filter): Thing }\n"
        "input Filter { register: String mro: Int }\n"
        "type Thing { register: String mro: Int }\n"
    )
    write(tmp_path / "things.graphql", schema)
    write(
        tmp_path / "ops" / "a.graphql", "query a($f: Filter) { thing(filter: $f) { register mro } }"
    )
    run = codegen_here(*MAKE, "--schema", "things.graphql", cwd=tmp_path)
    assert run.code == 0, run.err
    with warnings.catch_warnings(), imported(tmp_path / "src", "my_kraken") as my_kraken:
        warnings.simplefilter("error")
        thing = my_kraken.A.model_validate({"thing": {"register": "R1", "mro": 2}}).thing
        assert (thing.register_, thing.mro_) == ("R1", 2)
        sent = my_kraken.Filter(register_="R1", mro_=2).model_dump(by_alias=True)
        assert sent == {"register": "R1", "mro": 2}


@pytest.mark.slow  # mypy
def test_input_models_take_their_python_names_under_mypy_strict_without_pydantics_plugin(
    tmp_path: Path,
) -> None:
    # ariadne-codegen writes a renamed input field as `Field(alias="fromDate")`, and type
    # checkers (dataclass_transform) then take the alias for the constructor's parameter: under
    # a plain `mypy --strict`, as the README's step 3 runs it, `Filter(from_date=...)` was
    # "Unexpected keyword argument", and the alias, `from` here, cannot be a keyword at all.
    # Only pydantic's mypy plugin, which the README does not ask for, accepted it.
    schema = (
        "type Query { thing(filter: Filter): Thing }\n"
        "input Filter { fromDate: String class: Int }\n"
        "type Thing { id: ID }\n"
    )
    write(tmp_path / "things.graphql", schema)
    write(tmp_path / "ops" / "a.graphql", "query a($f: Filter) { thing(filter: $f) { id } }")
    assert codegen_here(*MAKE, "--schema", "things.graphql", cwd=tmp_path).code == 0
    write(
        tmp_path / "src" / "use.py",
        "from my_kraken import Filter\n\nF = Filter(from_date='x', class_=1)\n",
    )
    write(tmp_path / "plain.ini", "[mypy]\n")  # no plugins: what `mypy --strict use.py` reads
    mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", str(tmp_path / "plain.ini")]
    mypy += ["--cache-dir", str(tmp_path / "cache"), "use.py"]
    checked = subprocess.run(
        mypy, cwd=tmp_path / "src", capture_output=True, text=True, timeout=300, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with imported(tmp_path / "src", "my_kraken") as my_kraken:
        sent = my_kraken.Filter(from_date="x", class_=1).model_dump(by_alias=True)
        assert sent == {"fromDate": "x", "class": 1}
        assert my_kraken.Filter.model_validate({"fromDate": "y"}).from_date == "y"
        assert my_kraken.Filter(fromDate="z").from_date == "z"  # as it was built before


def test_a_path_holding_a_newline_is_shown_escaped_in_the_one_line_header(ops: Path) -> None:
    # The header names the regenerating command in a comment line. Before, a folder name
    # holding a newline broke the comment in two: ariadne-codegen's own parse of the module
    # failed, a SyntaxError traceback, exit 1. (A right-to-left override would have turned the
    # comment's text around in an editor.)
    (ops / "ops").rename(ops / "o\nps\u202e")
    run = codegen_here("--queries", "o\nps\u202e", "--package", "my_kraken", "--target", "src",
                       "--schema", "small.graphql", cwd=ops)  # fmt: skip
    assert (run.code, run.err) == (0, ""), run.err
    init = (ops / "src" / "my_kraken" / "__init__.py").read_text()
    assert "--queries '../o\\nps\\u202e' --package my_kraken" in init.splitlines()[1]
    with imported(ops / "src", "my_kraken") as my_kraken:
        assert my_kraken.SyncKrakenClient


def test_a_schema_saved_as_introspection_json_generates_what_its_sdl_does(ops: Path) -> None:
    # `schema diff` reads the file an endpoint's introspection answer was saved in; codegen
    # takes the same file. Before, it was "not a valid GraphQL schema: Syntax Error".
    from graphql import build_schema, introspection_from_schema

    sdl = (ops / "small.graphql").read_text()
    answer = {"data": introspection_from_schema(build_schema(sdl))}
    (ops / "small.json").write_text(json.dumps(answer))
    from_sdl = codegen_here(*MAKE, "--schema", "small.graphql", cwd=ops)
    from_json = codegen_here("--queries", "ops", "--package", "from_json", "--target", "src",
                             "--schema", "small.json", cwd=ops)  # fmt: skip
    assert (from_sdl.code, from_json.code, from_json.err) == (0, 0, ""), from_json.err
    assert (ops / "src" / "from_json" / "get_viewer.py").read_text() == (
        ops / "src" / "my_kraken" / "get_viewer.py"
    ).read_text().replace("small.graphql", "small.json").replace("my_kraken", "from_json")
    assert sorted(p.name for p in (ops / "src").iterdir()) == ["from_json", "my_kraken"]


def test_a_json_schema_saved_with_a_byte_order_mark_generates(ops: Path) -> None:
    # Before: "not a valid GraphQL schema: Syntax Error: Expected Name, found String 'data'."
    from graphql import build_schema, introspection_from_schema

    sdl = (ops / "small.graphql").read_text()
    answer = json.dumps({"data": introspection_from_schema(build_schema(sdl))})
    (ops / "small.json").write_text(answer, encoding="utf-8-sig")
    run = codegen_here(*MAKE, "--schema", "small.json", cwd=ops)
    assert (run.code, run.err) == (0, ""), run.err


def test_a_json_schema_generates_into_a_target_inside_the_operations_folder(ops: Path) -> None:
    # The SDL printed from the JSON went into the scratch folder inside the target, so with the
    # target inside ops/ ariadne-codegen read it as operations: "ariadne-codegen: The 'Query'
    # definition is not executable. ...", exit 2; the same command with the SDL file worked.
    from graphql import build_schema, introspection_from_schema

    sdl = (ops / "small.graphql").read_text()
    (ops / "small.json").write_text(
        json.dumps({"data": introspection_from_schema(build_schema(sdl))})
    )
    arguments = ("--queries", "ops", "--package", "my_kraken", "--target", "ops")
    run = codegen_here(*arguments, "--schema", "small.json", cwd=ops)
    assert (run.code, run.err) == (0, ""), run.err
    assert sorted(p.name for p in (ops / "ops").iterdir()) == ["my_kraken", "viewer.graphql"]
    again = codegen_here(*arguments, "--schema", "small.json", "--check", cwd=ops)
    assert again.code == 0, again.out + again.err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"data": {"__schema": null}}', "JSON, but no introspection result"),
        # Before: a RecursionError traceback, exit 1.
        ('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply to read"),
    ],
    ids=["no schema", "nested 100,000 deep"],
)
def test_a_json_schema_file_that_is_no_introspection_result_is_refused_in_one_line(
    ops: Path, text: str, says: str
) -> None:
    (ops / "nothing.json").write_text(text)
    before = tree(ops)
    run = codegen_here(*MAKE, "--schema", "nothing.json", cwd=ops)
    refused(run, f"nothing.json is not a valid GraphQL schema: {says}")
    assert tree(ops) == before


@pytest.mark.parametrize("suffix", [".gql", ".graphqls"])
def test_operation_files_ending_gql_or_graphqls_are_checked_as_graphql_ones_are(
    ops: Path, suffix: str
) -> None:
    # ariadne-codegen generates from .gql and .graphqls files too; only *.graphql were checked.
    # Before: `query getViewer` beside ops/viewer.graphql's was silently one method lost (two
    # `get_viewer` methods), and a bad field "ariadne-codegen: Cannot query field ..." with no
    # file or line.
    write(ops / "ops" / f"again{suffix}", "query get_viewer {\n  viewer {\n    email\n  }\n}\n")
    line = refused_unchanged(ops, *MAKE)
    assert f"operation getViewer and operation get_viewer (ops/again{suffix}:1:1)" in line, line
    write(ops / "ops" / f"again{suffix}", "query other {\n  viewer {\n    nope\n  }\n}\n")
    line = refused_unchanged(ops, *MAKE)
    assert f"ops/again{suffix}:3:5: Cannot query field 'nope'" in line, line


def test_a_fragment_defined_twice_in_two_files_names_both_places(ops: Path) -> None:
    # Before: "ops/a.graphql:1:10: There can be only one fragment named 'Me'.", naming the
    # first definition only; the one to rename was in another file, not named.
    me = "fragment Me on AccountUserType {\n  email\n}\n"
    write(ops / "ops" / "a.graphql", me + "query a {\n  viewer {\n    ...Me\n  }\n}\n")
    write(ops / "ops" / "b.graphql", "query b {\n  viewer {\n    ...Me\n  }\n}\n\n" + me)
    line = refused_unchanged(ops, *MAKE)
    assert line.endswith(
        "ops/a.graphql:1:10: There can be only one fragment named 'Me'. (also ops/b.graphql:7:10)"
    ), line


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (("--public", "getViewr"), "--public getViewr: there is no operation of that name"),
        (("--authenticated", "get_viewer"), "--authenticated get_viewer: there is no operation"),
        (
            ("--public", "getViewer", "--authenticated", "getViewer"),
            "getViewer is given both --public and --authenticated: give it one of them",
        ),
    ],
    ids=["a misspelt name", "the method's name", "both"],
)
def test_public_or_authenticated_naming_no_operation_or_both_is_refused(
    ops: Path, options: tuple[str, ...], words: str
) -> None:
    # Before: written without a word; the misspelt operation still needed a token, which the
    # user learnt at run time, and with both, --public won.
    line = refused_unchanged(ops, *MAKE, *options)
    assert words in line, line
    assert "(the operations: getViewer)" in line, line


UNUSABLE = "setting in the codegen.toml is one ariadne-codegen cannot use"
GOOD_CONFIG = (
    '[tool.ariadne-codegen]\nschema_path = "small.graphql"\nqueries_path = "ops"\n'
    'target_package_path = "src"\ntarget_package_name = "my_kraken"\n'
)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("tool = 5\n", "[tool.ariadne-codegen] is not a table"),
        ("[tool]\nariadne-codegen = 5\n", "[tool.ariadne-codegen] is not a table"),
        (
            GOOD_CONFIG.replace('"src"', '["src"]'),
            "target_package_path must be a string",
        ),
        (GOOD_CONFIG.replace('"small.graphql"', "3"), "schema_path must be a string"),
        (
            GOOD_CONFIG + "plugins = 'x'\n",
            UNUSABLE,
        ),
        (
            GOOD_CONFIG + "scalars = 5\n",
            UNUSABLE,
        ),
        (
            GOOD_CONFIG + "plugins = ['no_such.Plugin']\n",
            UNUSABLE,
        ),
        (
            GOOD_CONFIG + "[tool.oeus-kraken]\npublic_operations = 'getViewer'\n",
            "public_operations must be a list of operation names",
        ),
        ("[tool.ariadne-codegen\n", "cannot read it as TOML"),
    ],
    ids=[
        "tool not a table",
        "ariadne-codegen not a table",
        "a path not a string",
        "the schema not a string",
        "plugins not a list",
        "scalars not a table",
        "a plugin not there",
        "public_operations not a list",
        "not TOML",
    ],
)
def test_a_codegen_toml_codegen_cannot_use_is_one_line_and_exit_2(
    ops: Path, config: str, words: str
) -> None:
    # Before: a TypeError or AttributeError traceback, exit 1 (or, for public_operations as a
    # string, each of its letters taken for an operation name, without a word).
    write(ops / "codegen.toml", config)
    line = refused_unchanged(ops, "--config", "codegen.toml")
    assert "codegen.toml" in line, line
    assert words in line, line


def test_a_folder_named_like_an_operation_file_is_named_in_the_refusal(ops: Path) -> None:
    # Before: "ops: no .graphql operation files there", beside ops/viewer.graphql.
    (ops / "ops" / "old.graphql").mkdir()
    line = refused_unchanged(ops, *MAKE)
    assert line.endswith("ops/old.graphql: cannot read it (not a file)"), line


def test_codegen_refuses_a_schema_file_that_is_not_utf8_text(ops: Path) -> None:
    (ops / "latin1.graphql").write_bytes("type Query { caf\xe9: String }\n".encode("latin-1"))
    before = tree(ops)
    run = codegen_here(*MAKE, "--schema", "latin1.graphql", cwd=ops)
    refused(run, "latin1.graphql: cannot read the schema (not UTF-8 text")
    assert tree(ops) == before


def test_ctrl_c_between_the_two_renames_puts_the_old_package_back(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old package is renamed aside, then the new one into its place. Before, a Ctrl-C
    # between the two was not caught (only OSError was): the scratch folder went, the old
    # package with it, and no package was left.
    project = copy_of(generated, tmp_path / "project")
    before = tree(project)
    renames: list[Path] = []
    rename = Path.rename

    def interrupted_second_time(self: Path, target: Any) -> Path:
        renames.append(self)
        if len(renames) == 2:
            raise KeyboardInterrupt
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", interrupted_second_time)
    run = codegen(*MAKE, cwd=project)
    assert run.code == 130, run.out + run.err
    assert len(renames) == 3  # aside, (interrupted), back
    assert tree(project) == before


@pytest.mark.parametrize(
    ("sdl", "why"),
    [
        ("type Query {\n  viewer: Nope\n}\n", "Unknown type 'Nope'."),
        ("type Query\n", "Type Query must define one or more fields."),
        (
            "interface Named {\n  name: String\n}\ntype Query implements Named {\n  a: Int\n}\n",
            "Interface field Named.name expected but Query does not provide it.",
        ),
    ],
    ids=["an unknown type", "a type with no fields", "an interface field not provided"],
)
def test_codegen_refuses_a_schema_that_parses_but_breaks_the_schema_rules_in_one_line(
    ops: Path, sdl: str, why: str
) -> None:
    # Before: a TypeError traceback from graphql-core, and exit 1.
    (ops / "broken.graphql").write_text(sdl)
    before = tree(ops)
    run = codegen_here(*MAKE, "--schema", "broken.graphql", cwd=ops)
    refused(run, f"broken.graphql: not a valid GraphQL schema: {why}")
    assert tree(ops) == before


def test_an_output_that_cannot_be_written_is_exit_2_never_the_verdict_1(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: exit 1, which for codegen means "--check found a diff": an up-to-date package
    # whose "up to date" could not be printed read as stale.
    project = copy_of(generated, tmp_path / "project")

    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    previous = Path.cwd()
    os.chdir(project)
    try:
        for options in (("--check",), ("--print-config",), ()):
            code = main(["codegen", *MAKE, *SMALL, *options], out=FullDisk())
            line = "oeus-kraken codegen: cannot write the output: No space left on device"
            assert (code, capsys.readouterr().err.splitlines()) == (2, [line]), options
    finally:
        os.chdir(previous)


@pytest.mark.parametrize(
    "extra_args",
    [(), ("--check",), ("--print-config",)],
    ids=["generate", "--check", "--print-config"],
)
def test_without_ariadne_codegen_it_names_the_extra_to_install(
    ops: Path, extra_args: tuple[str, ...]
) -> None:
    # graphql-core stays importable: the sandbox extra brings it without ariadne-codegen.
    code = (
        "import sys\n"
        "sys.modules['ariadne_codegen'] = None  # as if ariadne-codegen were not installed\n"
        "from oeus_kraken.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    args = ["codegen", "--queries", "ops", "--package", "my_kraken", "--target", "src", *SMALL]
    before = tree(ops)
    process = subprocess.run(
        [sys.executable, "-c", code, *args, *extra_args],
        cwd=ops,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    line = refused(Run(process.returncode, process.stdout, process.stderr), "oeus-kraken[codegen]")
    assert "ariadne-codegen" in line
    assert tree(ops) == before


def test_ctrl_c_during_codegen_says_so_in_one_line_and_leaves_the_package_as_it_was(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_of(generated, tmp_path / "project")
    before = tree(project)
    import oeus_kraken.codegen as codegen_module

    def interrupted(config: dict[str, Any], output_root: Path) -> Path:
        (output_root / "my_kraken").mkdir()  # half-way through writing the new package
        raise KeyboardInterrupt

    monkeypatch.setattr(codegen_module, "_run_twice", interrupted)
    run = codegen(*MAKE, cwd=project)
    assert run.code == 130, run.out + run.err
    assert run.err_lines == ["oeus-kraken codegen: interrupted (Ctrl-C)"]
    assert tree(project) == before  # the old package, and no scratch folder beside it


def test_a_schema_given_through_a_pipe_is_read_once_and_generates(tmp_path: Path) -> None:
    """`--schema /dev/stdin` fed by a pipe, as `--schema <(curl ...)` is: a pipe can be read
    once, and the schema was read several times (the deprecation check, the SDL check, each of
    ariadne-codegen's two runs): the second read found nothing, and the run said the schema was
    no GraphQL schema ("Unexpected <EOF>")."""
    write(tmp_path / "ops" / "viewer.graphql", VIEWER)
    schema = write_small_schema(tmp_path).read_text(encoding="utf-8")
    done = subprocess.run(
        [str(OEUS_KRAKEN), "codegen", *MAKE, "--schema", "/dev/stdin"],
        cwd=tmp_path,
        input=schema,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "src" / "my_kraken" / "async_client.py").is_file()
