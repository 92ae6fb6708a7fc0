"""How the hand-written modules import each other: no cycle, and the core needs nothing generated.

The imports are read from the source (every `import` and `from ... import`, at module level or
inside a function, but not those under `if TYPE_CHECKING:`, which never run), so a cycle hidden in
a function-level import counts too. A module's own parent packages are left out: Python imports
them first whatever the module says.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import oeus_kraken

PACKAGE = Path(oeus_kraken.__file__).resolve().parent
# Copied by codegen into generated packages; never imported from where they stand.
NOT_MODULES = {PACKAGE / "codegen" / "base_clients"}
# The core: the client's own machinery, which generated code builds on (and so must not need).
CORE = [
    "_auth",
    "_call",
    "_config",
    "_credentials",
    "_deadline",
    "_documents",
    "_errors",
    "_kt_codes",
    "_pagination",
    "_responses",
    "_retry",
    "_steps",
    "_token_store",
    "_tokens",
    "_transport",
    "base",
    "scalars",
    "unset",
]


def module_name(path: Path) -> str:
    parts = ["oeus_kraken", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if not any(skipped in path.parents for skipped in NOT_MODULES)
    }


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the import nodes under `if TYPE_CHECKING:`."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for inner in ast.walk(node))
    return hidden


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that module `name` imports (the deepest existing one of each)."""
    tree = ast.parse(path.read_text())
    hidden = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets.update(f"{base}.{alias.name}" for alias in node.names)
            targets.add(base)
    found = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name and not name.startswith(f"{target}."):
            found.add(target)
    return found


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of `graph` (its modules in order, the first repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.slow
def test_no_hand_written_module_imports_another_that_imports_it_back() -> None:
    known = modules()
    graph = {name: imported(name, path, set(known)) for name, path in known.items()}
    assert "oeus_kraken.usage._export" in graph["oeus_kraken.usage._store"] or (
        "oeus_kraken.usage._store" in graph["oeus_kraken.usage._export"]
    ), "the walk no longer sees the store and the export, which import one another's names"
    cycle = cycle_in(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_walk_finds_a_cycle_made_of_function_level_imports() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert cycle_in(graph) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) is None


def test_no_core_module_imports_generated_code() -> None:
    for name in CORE:
        source = (PACKAGE / f"{name}.py").read_text()
        assert "oeus_kraken_generated" not in source, f"oeus_kraken/{name}.py names it"
