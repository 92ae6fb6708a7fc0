"""Names a generated package would bind twice: found in ariadne-codegen's first run, before
anything is written.

Each operation becomes a module defining classes named after it and its fields in PascalCase
(`query a` gives `A`, `AViewer`, ...). ariadne-codegen checks none of them against each other or
against what the module imports, so an operation named `Optional`, `Any`, `Field`, `Literal` or
`Union` defines a class over the typing or pydantic name its own fields are annotated with (the
package fails on import, or under mypy), and two operations `a` and `aViewer` both define
`AViewer`, of which the package exports one. What the classes will be called depends on the
selections, fragments and aliases, so the generated modules themselves are read (with `ast`),
and each clash is one line naming the operation, as the other refusals are.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ._operations import operations_by_module

__all__ = ["name_clashes"]

# Modules that define no operation's classes, or only re-export them.
_NOT_MODELS = frozenset(
    {"__init__", "async_client", "sync_client", "async_base_client", "base_client", "operations"}
)


def name_clashes(package: Path, queries_path: str | Path) -> list[str]:
    """One line per class name the generated `package` would bind twice: a class an operation's
    module defines over a name it imports, or one that two modules define."""
    where = operations_by_module(Path(queries_path))
    problems: list[str] = []
    defined_in: dict[str, str] = {}  # class name -> the first module defining it
    for module in sorted(package.glob("*.py")):
        if module.stem in _NOT_MODELS:
            continue
        imported, classes = _bindings(module)
        for name in classes:
            first = defined_in.setdefault(name, module.stem)
            if name in imported:
                problems.append(
                    f"{_operation(where, module.stem)} would define the class {name}, over the "
                    f"{name} its generated module imports: rename it"
                )
            elif first != module.stem:
                problems.append(
                    f"{_operation(where, module.stem)} would define the class {name}, which "
                    f"{_operation(where, first)} defines too: rename one of them"
                )
    return problems


def _operation(where: dict[str, str], module: str) -> str:
    """How a line names the operation that gives `module` ("ops/a.graphql:1:1: operation a")."""
    return where.get(module, f"the generated module {module}.py")


def _bindings(module: Path) -> tuple[set[str], list[str]]:
    """(names the module imports, classes it defines), at its top level."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported: set[str] = set()
    classes: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ClassDef):
            classes.append(node.name)
    return imported, classes
