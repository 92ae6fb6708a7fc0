"""What README.md promises that a test can read without running the promise itself.

The README is checked from outside as a contract: its first screen gives a newcomer exactly two
commands (issues 2 and 14), and its operations table lists every method the clients have, one
row each, with the auth each one needs (issue 11). A new operation without a row, or a row whose
"public" disagrees with what the client sends without a token, fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import readme_python_snippets

import oeus_kraken
from oeus_kraken import KrakenClient, SyncKrakenClient, _errors
from oeus_kraken.base import AsyncKrakenBaseClient, KrakenBaseClient

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
OPERATIONS_HEADING = "### The US API, operation by operation"


def first_code_block() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.DOTALL)
    assert block is not None, "README has no shell block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines()]


def operations_table() -> dict[str, str]:
    """Each method the operations table names (a row may name several), with its auth cell."""
    section = README.split(OPERATIONS_HEADING, 1)[1].split("\n\n**Units", 1)[0]
    auth_by_method: dict[str, str] = {}
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        for method in re.findall(r"`(\w+)\(", cells[0]):
            auth_by_method[method] = cells[2]
    return auth_by_method


def generated_methods(client: type, base: type) -> set[str]:
    return {
        name
        for name in vars(client)
        if not name.startswith("_") and callable(getattr(client, name)) and name not in dir(base)
    }


def test_the_first_screen_gives_a_newcomer_make_demo_and_make_test_only() -> None:
    assert first_code_block() == ["make demo", "make test"]


def test_the_operations_table_has_a_row_for_every_method_of_both_clients() -> None:
    documented = set(operations_table())
    assert generated_methods(KrakenClient, AsyncKrakenBaseClient) == documented
    assert generated_methods(SyncKrakenClient, KrakenBaseClient) == documented


def test_the_operations_table_calls_public_exactly_the_operations_sent_without_a_token() -> None:
    public_operations = SyncKrakenClient.kraken_public_operations
    for method, auth in operations_table().items():
        operation = re.sub(r"_(\w)", lambda letter: letter.group(1).upper(), method)
        assert (auth == "public") == (operation in public_operations), (method, auth)


def test_adding_an_operation_names_every_list_a_new_operation_must_join() -> None:
    """A newcomer following "Adding an operation" reaches a green `make test`: every list that
    fails until the new operation is in it (the exports, the operations test's table, this
    README's table) is named in its steps."""
    steps = README.split("### Adding an operation", 1)[1].split("\n### ", 1)[0]
    places = ("oeus_kraken/__init__.py", "tests/test_operations.py", OPERATIONS_HEADING[4:])
    assert [place for place in places if place not in steps] == []


def test_every_python_snippet_in_the_readme_has_its_imports_sorted_as_ruff_sorts_them(
    tmp_path: Path,
) -> None:
    """Pasted as written into a project that runs ruff (whose default rules sort imports from
    0.17 on, I001), README's code passes; a generated package in src/ is the project's own."""
    (tmp_path / "src" / "my_kraken").mkdir(parents=True)
    (tmp_path / "src" / "my_kraken" / "__init__.py").touch()
    snippets = readme_python_snippets(client=False)
    for name, text in snippets.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "I"]
    checked = subprocess.run(
        [*ruff, "--output-format", "concise", *snippets],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_layout_names_every_tool() -> None:
    """A newcomer reads "Layout" to find what a make target runs: every script in tools/ is
    named in its row."""
    layout = README.split("### Layout", 1)[1].split("\n### ", 1)[0]
    [row] = [line for line in layout.splitlines() if line.startswith("| `tools/`")]
    tools = sorted(p.name for p in (Path(__file__).parent.parent / "tools").glob("*.py"))
    assert [name for name in tools if f"`{name}`" not in row] == []


def tree_in(text: str) -> list[str]:
    """The error tree drawn in `text`: the lines from `KrakenError` to `RateLimitError`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("KrakenError "))
    end = next(i for i, line in enumerate(lines) if "RateLimitError " in line and i > start)
    indent = len(lines[start]) - len(lines[start].lstrip())
    return [line[indent:].rstrip() for line in lines[start : end + 1]]


def test_the_readme_draws_the_error_tree_the_errors_module_draws() -> None:
    assert tree_in(README) == tree_in(_errors.__doc__ or "")


def test_the_error_tree_is_the_exported_error_classes_with_their_bases() -> None:
    # Each name's parent is the nearest line above it drawn one level less deep.
    drawn: dict[str, str | None] = {}
    parents: list[str] = []
    for line in tree_in(README):
        name = re.search(r"(\w+Error)", line)
        assert name is not None, line
        depth = name.start() // 4
        parents[depth:] = [name.group(1)]
        drawn[name.group(1)] = parents[depth - 1] if depth else None
    exported = {
        name: cls
        for name, cls in vars(oeus_kraken).items()
        if name in oeus_kraken.__all__ and isinstance(cls, type) and issubclass(cls, Exception)
    }
    assert set(drawn) == set(exported) == set(_errors.__all__)
    bases = {name: cls.__bases__[0].__name__ for name, cls in exported.items()}
    assert {name: parent or "Exception" for name, parent in drawn.items()} == bases


def test_every_hand_written_name_oeus_kraken_exports_is_named_in_the_readme() -> None:
    # The generated models are named by the operations table (a method's result); the rest, the
    # names written by hand, are each what a user imports to do something the README explains.
    hand_written = oeus_kraken.__all__[: oeus_kraken.__all__.index("AccountPaymentStatusOptions")]
    code = [*re.findall(r"`([^`\n]+)`", README), *tree_in(README)]
    named = {word for text in code for word in re.findall(r"\w+", text)}
    assert [name for name in hand_written if name not in named] == []
