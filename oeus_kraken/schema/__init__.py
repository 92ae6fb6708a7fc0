"""What a new Kraken schema does to your operations: which break, which use something deprecated.

    from pathlib import Path
    from oeus_kraken.schema import diff_schemas, read_operations, read_schema_file, render_text

    old = read_schema_file(Path("schema.graphql"))
    new = read_schema_file(Path("tomorrow.graphql"))
    diff = diff_schemas(old, new, [read_operations(Path("ops"))])
    print(render_text(diff))            # or render_markdown(diff), render_json(diff)
    raise SystemExit(diff.exit_status(fail_on_deprecated=True))

One engine behind `oeus-kraken schema diff`, the deprecation lines of `oeus-kraken codegen` and
`make generate`, and `make schema` / `make schema-check`:

  * `_sources`: a schema from a file, or introspected from an endpoint with our client;
  * `_changes`: the breaking / dangerous / safe changes (graphql-core's, plus deprecations and
    additions), each naming the schema coordinate it changed and the one whose use it affects;
  * `_operations`: operation folders read as code generation reads them, with file and line;
  * `_walk`: what one operation uses of a schema, and the deprecated elements it writes;
  * `_diff`: each operation's verdict (breaks / deprecated / fine) and why;
  * `_render`: text, Markdown and JSON.

Needs graphql-core, which comes with the `codegen` extra: `pip install 'oeus-kraken[codegen]'`.
Importing `oeus_kraken` never imports this package.
"""

from __future__ import annotations

try:
    import graphql
except ImportError as exc:  # pragma: no cover - exercised by the CLI's error test
    raise ImportError(
        "oeus_kraken.schema needs graphql-core, which comes with the codegen extra: "
        "pip install 'oeus-kraken[codegen]'",
        name=exc.name,
    ) from exc
# The changes are read from graphql-core 3.2's sentences (`_changes._PATTERNS`): 3.3 words them
# otherwise, and with it an operation sending an input type that gained a required field was
# "fine", exit 0. The codegen extra pins 3.2; another package may have brought 3.3.
if graphql.version_info[:2] != (3, 2):
    raise ImportError(
        f"oeus_kraken.schema reads graphql-core 3.2's change reports, and {graphql.version} is "
        "installed: pip install 'oeus-kraken[codegen]' (it pins graphql-core 3.2)",
        name="graphql",
    )

from pathlib import Path

from ._changes import GROUPS, Group, SchemaChange, find_changes
from ._diff import (
    EXIT_BREAKS,
    EXIT_FINE,
    Break,
    OperationVerdict,
    SchemaDiff,
    Verdict,
    diff_schemas,
)
from ._operations import (
    Location,
    Operation,
    OperationFolder,
    OperationsError,
    distinct_folders,
    read_operations,
    shown_path,
)
from ._render import SAFE_SHOWN, render_json, render_markdown, render_text, verdict_line
from ._sources import (
    IntrospectionError,
    LoadedSchema,
    SchemaFileError,
    display_url,
    introspect,
    is_url,
    one_line,
    read_schema_file,
    schema_from_introspection,
    schema_from_sdl,
    schema_from_text,
)
from ._walk import DeprecatedUse

__all__ = [
    "EXIT_BREAKS",
    "EXIT_FINE",
    "GROUPS",
    "SAFE_SHOWN",
    "Break",
    "DeprecatedUse",
    "Group",
    "IntrospectionError",
    "LoadedSchema",
    "Location",
    "Operation",
    "OperationFolder",
    "OperationVerdict",
    "OperationsError",
    "SchemaChange",
    "SchemaDiff",
    "SchemaFileError",
    "Verdict",
    "deprecation_lines",
    "diff_schemas",
    "display_url",
    "distinct_folders",
    "find_changes",
    "introspect",
    "is_url",
    "one_line",
    "read_operations",
    "read_schema_file",
    "render_json",
    "render_markdown",
    "render_text",
    "schema_from_introspection",
    "schema_from_sdl",
    "schema_from_text",
    "shown_path",
    "verdict_line",
]


def deprecation_lines(schema_path: str | Path, queries_path: str | Path) -> list[str]:
    """One line per deprecated element the operations under `queries_path` write
    (`ops/a.graphql:3: field ProductType.oldField is deprecated: <reason>`), each once; empty
    when they write none, or when they do not validate (code generation says why, having
    validated the schema file too: it is not checked twice)."""
    schema = read_schema_file(Path(schema_path), shown_path(Path(schema_path)), check_sdl=False)
    diff = diff_schemas(None, schema, [read_operations(Path(queries_path))])
    if diff.verdict == "breaks":
        return []
    lines = (use.line() for op in diff.operations for use in op.deprecated)
    return list(dict.fromkeys(lines))
