"""What kind of operation a GraphQL document sends: a mutation is never retried blindly.

A document can open with a comment, a fragment or another operation, so its first word says
nothing; the operation's type is read from the document itself. The runtime has no GraphQL
parser (graphql-core takes half a second to import, and is only needed to generate code), and
this question needs none: a small lexer skips comments, strings and directives, follows
brace and parenthesis depth, and reads each top-level definition's keyword and name. Each
document is read once; the answer is kept.
"""

from __future__ import annotations

import re

__all__ = ["is_mutation", "operation_types"]

_TOKEN = re.compile(
    r"""
      \#[^\n\r]*                          # a comment
    | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"  # a block string
    | "(?:[^"\\\n\r]|\\.)*"               # a string
    | @\s*[_A-Za-z][_0-9A-Za-z]*          # a directive's name
    | [_A-Za-z][_0-9A-Za-z]*              # a name or keyword
    | [{}()]
    """,
    re.VERBOSE,
)
_OPERATIONS = ("query", "mutation", "subscription")

# The answers so far, bounded for callers that make documents on the fly.
_known: dict[tuple[str, str | None], bool] = {}
_MAX_KNOWN = 512


def operation_types(document: str) -> dict[str | None, str]:
    """Each operation of `document` by name (None for an anonymous one), with its type."""
    found: dict[str | None, str] = {}
    depth = 0
    kind: str | None = None  # the keyword of the definition being read at the top level
    name: str | None = None
    for match in _TOKEN.finditer(document):
        token = match.group()
        first = token[0]
        if first in "{(":
            if depth == 0 and first == "{" and kind != "fragment":
                found.setdefault(name, kind or "query")  # no keyword: a query's shorthand
            if depth == 0 and first == "{":
                kind = name = None
            depth += 1
        elif first in "})":
            depth = max(0, depth - 1)
        elif depth or first in '#"@':
            continue
        elif kind is None:
            lowered = token.lower()  # a keyword in another case is not GraphQL: be safe anyway
            kind = lowered if lowered in (*_OPERATIONS, "fragment") else None
        elif name is None:
            name = token
    return found


def is_mutation(document: str, operation_name: str | None = None) -> bool:
    """Whether sending `document` (its `operation_name` operation) runs a mutation. When the
    operation to run cannot be told, a mutation among them counts."""
    key = (document, operation_name)
    known = _known.get(key)
    if known is None:
        types = operation_types(document)
        if operation_name in types:
            known = types[operation_name] == "mutation"
        elif len(types) == 1:
            known = next(iter(types.values())) == "mutation"
        else:
            known = "mutation" in types.values() or not types
        if len(_known) >= _MAX_KNOWN:
            _known.clear()
        _known[key] = known
    return known
