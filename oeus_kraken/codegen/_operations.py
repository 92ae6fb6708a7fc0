"""The user's `.graphql` operations: read, parsed, and checked before anything is generated.

ariadne-codegen, given an operation it cannot turn into a method, raises from deep inside with
no file or line (`NotSupported`, `ParsingError`), or worse, writes a package that does not work:
two operations whose names give one method name (`getViewer`, `get_viewer`) leave one method
silently lost, and an operation named like a module or method the package already has replaces
it. So every operation is checked here first, and each problem is one line that starts with the
file, line and column ("ops/usage.graphql:4:5: ..."), as graphql-core's own validation says it.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import CallKeywords
from .._errors import ConfigurationError

if TYPE_CHECKING:  # graphql-core comes with the codegen extra: imported where it is used
    from graphql import DocumentNode, OperationDefinitionNode

__all__ = [
    "GENERATED_MODULES",
    "METHOD_PARAMETERS",
    "method_name",
    "operation_names",
    "operations_by_module",
    "parameter_name",
    "schema_sdl",
    "validate_operations",
]

# Modules every generated package has besides one per operation (ariadne-codegen's defaults
# for the enums, inputs, fragments and models; ExtractOperationsPlugin's operations module;
# both runs' clients and bases): an operation that would be one of them would replace it.
GENERATED_MODULES = frozenset(
    {
        "__init__",
        "async_base_client",
        "async_client",
        "base_client",
        "base_model",
        "enums",
        "fragments",
        "input_types",
        "operations",
        "sync_client",
    }
)
# The parameters every generated method has besides one per variable (`def pick(self, ...,
# **kwargs: Unpack[CallKeywords])`): a variable of one of these names gets a trailing _
# (ParameterNamesPlugin), as a keyword does, since Python refuses a parameter twice. So does one
# named like a keyword of CallKeywords (`$timeout`, `$headers`): as a parameter it would take
# the call's own `timeout=` from the method, and mypy --strict refuses the overlap.
METHOD_PARAMETERS = frozenset({"self", "kwargs", *CallKeywords.__annotations__})


def validate_operations(schema_path: str | Path, queries_path: str | Path) -> list[str]:
    """Problems with the operations, one line each, naming the file, line and field
    ("ops/usage.graphql:4:5: Cannot query field 'kwh' on type 'MeasurementType'."); empty if
    they all validate against the schema and each can be a method of its own."""
    from graphql import DocumentNode, GraphQLError, build_schema, validate, validate_schema

    documents, problems = _parsed(Path(queries_path))
    problems = problems or _shape_problems(documents)
    if problems:  # found without the schema, which takes a second to build
        return problems
    schema_file = Path(schema_path)
    try:
        schema = build_schema(schema_sdl(schema_file))
        # SDL that parses can still break the schema's rules (an unknown type, an interface
        # field not provided, a type with no fields): graphql-core raises TypeError for those,
        # here or in validate(), which was a traceback. validate_schema lists them instead.
        invalid = [error.message for error in validate_schema(schema)]
    except ConfigurationError as exc:  # JSON that is no introspection result: it says so
        return [str(exc)]
    except OSError as exc:
        return [f"{schema_file}: cannot read the schema ({exc.strerror})"]
    except UnicodeDecodeError as exc:
        return [f"{schema_file}: cannot read the schema (not UTF-8 text: {exc})"]
    except GraphQLError as exc:
        invalid = [exc.message]
    except TypeError as exc:  # build_schema's SDL rules, their messages joined by blank lines
        invalid = [str(exc)]
    if invalid:
        return [f"{schema_file}: not a valid GraphQL schema: {' '.join(invalid[0].split())}"]
    # Fragments may be defined in one file and spread in another: validate them together.
    merged = DocumentNode(definitions=[d for doc in documents for d in doc.definitions])
    return [_every_place(error, queries_path) for error in validate(schema, merged)]


def schema_sdl(schema_file: Path) -> str:
    """The schema file's SDL: its text, or, for an introspection result saved as JSON (which
    `schema diff` reads too), the SDL printed from it, since ariadne-codegen reads only SDL.
    Raises what reading raises, and a ConfigurationError for JSON that is no schema."""
    text = schema_file.read_text(encoding="utf-8-sig")  # a byte order mark is no text
    if not text.lstrip().startswith("{"):  # SDL never starts with a brace
        return text
    from graphql import print_schema

    from ..schema import read_schema_file

    return str(print_schema(read_schema_file(schema_file).schema))


def _source_of(error: Any, queries_path: str | Path) -> str:
    node = error.nodes[0] if error.nodes else None
    return str(node.loc.source.name) if node and node.loc else str(queries_path)


def _every_place(error: Any, queries_path: str | Path) -> str:
    """The error's line at its first place, and its other places after it: a fragment defined
    twice is named in both files, not only where it was defined first."""
    from graphql import get_location

    line = _located(_source_of(error, queries_path), error)
    others = []
    for node in (error.nodes or ())[1:]:
        if node.loc:
            at = get_location(node.loc.source, node.loc.start)
            others.append(f"{node.loc.source.name}:{at.line}:{at.column}")
    return line + (f" (also {', '.join(others)})" if others else "")


def _parsed(queries: Path) -> tuple[list[DocumentNode], list[str]]:
    """Every operation file under `queries` parsed (each node knows its file), or the problems."""
    from graphql import GraphQLSyntaxError, Source, parse

    from ..schema._operations import operation_files  # .gql and .graphqls too, as ariadne reads

    files = operation_files(queries) if queries.is_dir() else [queries]
    if not files or not queries.exists():
        return [], [f"{queries}: no .graphql operation files there"]
    documents, problems = [], []
    for file in files:
        if not file.is_file():  # a folder named like one (ariadne-codegen would fail on it)
            problems.append(f"{file}: cannot read it (not a file)")
            continue
        try:
            documents.append(parse(Source(file.read_text(encoding="utf-8"), str(file))))
        except GraphQLSyntaxError as exc:
            problems.append(_located(str(file), exc))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: cannot read it ({exc})")
    return documents, problems


def _located(file: str, error: Any) -> str:
    where = f":{error.locations[0].line}:{error.locations[0].column}" if error.locations else ""
    return f"{file}{where}: {error.message}"


def _operations(documents: list[DocumentNode]) -> Iterator[OperationDefinitionNode]:
    from graphql import OperationDefinitionNode

    for document in documents:
        yield from (d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def _where(node: OperationDefinitionNode) -> str:
    from graphql import get_location

    if node.loc is None:  # parsed from a Source: never, but graphql-core types it optional
        return "?"
    at = get_location(node.loc.source, node.loc.start)
    return f"{node.loc.source.name}:{at.line}:{at.column}"


def method_name(operation_name: str) -> str:
    """The method (and module) name ariadne-codegen gives an operation: `getViewer` and
    `get_viewer` both give `get_viewer`; a keyword or builtin gets a trailing `_`."""
    from ariadne_codegen.utils import process_name

    return str(process_name(operation_name, convert_to_snake_case=True))


def parameter_name(variable_name: str) -> str:
    """The parameter ariadne-codegen (with ParameterNamesPlugin) gives a variable: `$prePay` is
    `pre_pay`, `$class` is `class_` and `$self` is `self_`."""
    name = method_name(variable_name)
    return name + "_" if name in METHOD_PARAMETERS else name


def class_name(operation_name: str) -> str:
    """The class ariadne-codegen gives an operation's result: `getViewer` gives `GetViewer`,
    `none` gives `None` and `_` gives nothing."""
    from ariadne_codegen.utils import str_to_pascal_case

    return str(str_to_pascal_case(operation_name))


def _python_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def operation_names(queries: str | Path) -> set[str]:
    """The names of the operations under `queries` (all of them valid by now)."""
    documents, _ = _parsed(Path(queries))
    return {o.name.value for o in _operations(documents) if o.name is not None}


def operations_by_module(queries: Path) -> dict[str, str]:
    """Each operation's generated module name -> how a line names it ("ops/a.graphql:1:1:
    operation a"), for the operations under `queries` (all of them valid by now)."""
    documents, _ = _parsed(queries)
    return {
        method_name(o.name.value): f"{_where(o)}: operation {o.name.value}"
        for o in _operations(documents)
        if o.name is not None
    }


def _client_attributes() -> frozenset[str]:
    """The names a method of the clients cannot take: their classes' attributes, and those they
    set on themselves (`self.url = url`), which `dir` of a class does not list and which hide a
    method of the same name. Before, `query url` was a method `url()` that raised "'str' object
    is not callable", and the package failed mypy --strict."""
    from ..base import AsyncKrakenBaseClient, KrakenBaseClient

    names = set(dir(AsyncKrakenBaseClient)) | set(dir(KrakenBaseClient))
    for cls in {*AsyncKrakenBaseClient.__mro__, *KrakenBaseClient.__mro__}:
        if cls.__module__.startswith("oeus_kraken."):
            names |= _set_on_self(cls)
    return frozenset(names)


def _set_on_self(cls: type) -> set[str]:
    """The attributes the methods of `cls` assign on `self`, read from its source."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # no source (a frozen install): its class attributes only
        return set()
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def _shape_problems(documents: list[DocumentNode]) -> list[str]:
    """What would stop each operation from being a method of its own, one line each."""
    problems: list[str] = []
    taken: dict[str, OperationDefinitionNode] = {}  # by method name: the first operation
    reserved = GENERATED_MODULES | _client_attributes()
    for operation in _operations(documents):
        problem = _shape_problem(operation, taken, reserved)
        if problem:
            problems.append(f"{_where(operation)}: {problem}")
    return problems


def _shape_problem(
    operation: OperationDefinitionNode,
    taken: dict[str, OperationDefinitionNode],
    reserved: frozenset[str],
) -> str | None:
    """Why `operation` cannot be a method: no name, a subscription, or a method name another
    operation in `taken` has, or a module or base-client attribute (`reserved`)."""
    from graphql import OperationType

    kind = operation.operation.value
    if operation.name is None:
        return f"this {kind} has no name: name it ({kind} myName {{ ... }}); it names the method"
    name = operation.name.value
    if operation.operation is OperationType.SUBSCRIPTION:
        return (
            f"subscription {name}: the generated clients send queries and mutations over "
            "HTTP and cannot subscribe; remove it"
        )
    method, model = method_name(name), class_name(name)
    if not (_python_name(method) and _python_name(model)):
        return (
            f"operation {name} would be the method {method}() and the class {model!r}, "
            "which Python cannot name: rename it"
        )
    first = taken.setdefault(method, operation)
    if first is not operation and first.name is not None:
        return (
            f"operation {name} and operation {first.name.value} ({_where(first)}) would both "
            f"be the method {method}(): rename one of them"
        )
    if method in GENERATED_MODULES:
        return f"operation {name} would be {method}.py, a module every package has: rename it"
    if method in reserved:
        return f"operation {name} would be {method}(), replacing the client's own: rename it"
    return _parameter_clash(name, operation)


def _parameter_clash(name: str, operation: OperationDefinitionNode) -> str | None:
    """Why operation `name`'s variables cannot each be a parameter of its own, or None."""
    first: dict[str, str] = {}  # parameter -> the first variable giving it
    for definition in operation.variable_definitions or ():
        variable = definition.variable.name.value
        parameter = parameter_name(variable)
        other = first.setdefault(parameter, variable)
        if other != variable:
            return (
                f"operation {name} would take the parameter {parameter} twice "
                f"(${other} and ${variable}): rename one of them"
            )
    return None
