"""Names a generated package would bind twice: found in ariadne-codegen's first run, before
anything is written.

Each operation becomes a module defining classes named after it and its fields in PascalCase
(`query a` gives `A`, `AViewer`, ...). ariadne-codegen checks none of them against each other or
against what the module imports, so an operation named `Optional`, `Any`, `Field`, `Literal` or
`Union` defines a class over the typing or pydantic name its own fields are annotated with (the
package fails on import, or under mypy), and two operations `a` and `aViewer` both define
`AViewer`, of which the package exports one. Within a class, two fields whose names give one
Python name (`fullName` and an alias `full_name`) give one attribute, and the other's value is
silently lost. What the classes will be called depends on the
selections, fragments and aliases, so the generated modules themselves are read (with `ast`),
and each clash is one line naming the operation, as the other refusals are.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

from ._operations import operations_by_module

__all__ = ["name_clashes"]

# The modules whose classes are named after the schema's types and the fragments.
_SCHEMA_MODULES = frozenset({".enums", ".input_types", ".fragments"})
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
# Modules that define no operation's classes, or only re-export them.
_NOT_MODELS = frozenset(
    {"__init__", "async_client", "sync_client", "async_base_client", "base_client", "operations"}
)


def name_clashes(package: Path, queries_path: str | Path, own: dict[str, str]) -> list[str]:
    """One line per name the generated `package` would bind twice: a class an operation's
    module defines over a name it imports, one that two modules define, one of the package's
    own classes (`own`: class name -> its module), or a class's field."""
    where = operations_by_module(Path(queries_path))
    problems: list[str] = []
    # The package's own classes (`own`: KrakenClient, SyncKrakenClient, their bases), exported
    # under the same names as the operations' classes: `query KrakenClient` gave a model the
    # client's name, and the package failed mypy --strict.
    defined_in: dict[str, str] = dict(own)  # class name -> the first module defining it
    for module in sorted(package.glob("*.py")):
        if module.stem in _NOT_MODELS:
            continue
        imported, classes = _bindings(module)
        problems += [
            f"{_operation(where, module.stem)} would give the class {name} two fields named "
            f"{field} ({' and '.join(graphql)}): alias one of them"
            for name, body in classes.items()
            for field, graphql in _fields_twice(body)
        ]
        for name in classes:
            first = defined_in.setdefault(name, module.stem)
            if name in imported:
                problems.append(
                    f"{_operation(where, module.stem)} would define the class {name}, over the "
                    f"{name} its generated module imports: rename it"
                )
            elif first == own.get(name):
                problems.append(
                    f"{_operation(where, module.stem)} would define the class {name}, the "
                    f"package's own (in its {first}.py): rename it"
                )
            elif first != module.stem:
                problems.append(
                    f"{_operation(where, module.stem)} would define the class {name}, which "
                    f"{_operation(where, first)} defines too: rename one of them"
                )
    return problems + _imported_over(package)  # after: these name the operation


def _imported_over(package: Path) -> list[str]:
    """One line per enum, input type or fragment whose name the package's modules also import
    from elsewhere (typing's `Optional`, pydantic's `Field`), or that is one of Python's builtins.
    Each is imported by its name wherever it is used, and ariadne-codegen imports a name once:
    before, `enum Optional` left the clients without typing's Optional (a NameError on import),
    and `enum str` replaced the `str` of `id: Optional[str]` (every answer failed to validate)."""
    sources: dict[str, set[str]] = {}
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    source = "." * node.level + (node.module or "")
                    sources.setdefault(alias.asname or alias.name, set()).add(source)
    problems = []
    for name, found in sorted(sources.items()):
        ours = found & _SCHEMA_MODULES
        others = [f"{source}'s {name}" for source in sorted(found - ours if ours else ())]
        others += [f"Python's builtin {name}"] if ours and name in _BUILTINS else []
        if ours and (others or len(ours) > 1):
            what = "fragment" if ".fragments" in ours else "schema's type"
            advice = "rename it" if ours == {".fragments"} else "leave it out of the operations"
            over = " and ".join(others or [f"{source}'s {name}" for source in sorted(ours)])
            problems.append(f"the {what} {name} would be imported over {over}: {advice}")
    return problems


def _operation(where: dict[str, str], module: str) -> str:
    """How a line names the operation that gives `module` ("ops/a.graphql:1:1: operation a")."""
    return where.get(module, f"the generated module {module}.py")


def _bindings(module: Path) -> tuple[set[str], dict[str, list[ast.stmt]]]:
    """(names the module imports, the body of each class it defines), at its top level. A
    field selecting only a fragment spread gets no class but a name for the fragment's
    (`AViewer = AccountFields`, no body of its own): the package exports it as it does a class.
    Before, such names were not counted: another operation's class AViewer, or the fragment
    itself named AViewer, gave a package exporting one of two AViewers, failing mypy --strict."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported: set[str] = set()
    classes: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ClassDef):
            classes.setdefault(node.name, node.body)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    classes.setdefault(target.id, [])
    return imported, classes


def _fields_twice(body: list[ast.stmt]) -> list[tuple[str, list[str]]]:
    """Each field a class body annotates more than once, with the GraphQL names giving it (a
    field's alias, else its own name)."""
    graphql: dict[str, list[str]] = {}
    for statement in body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            graphql.setdefault(name, []).append(_alias(statement.value) or name)
    return [(name, names) for name, names in graphql.items() if len(names) > 1]


def _alias(value: ast.expr | None) -> str | None:
    """The alias of a `Field(alias="fullName")` default (an input model's
    `validation_alias`), if that is what `value` is."""
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            aliased = keyword.arg in ("alias", "validation_alias")
            if aliased and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return None
