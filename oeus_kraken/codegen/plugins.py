"""ariadne-codegen plugins that make a generated package a typed Kraken client.

`oeus-kraken codegen` uses all of them (and our own package is built with them); a hand-written
codegen.toml can name them in `plugins = [...]` (`oeus-kraken codegen --print-config` prints one):

- `GeneratedFileHeaderPlugin`: heads every module with "do not edit" and the regenerating command;
- `ResultParsingHookPlugin`: each method ends in the base client's `parse_result`, which turns a
  model mismatch into a KrakenError and validates error-free answers straight from the bytes;
- `ParameterNamesPlugin`: a variable named like a method's own parameter (`$self`, `$kwargs`)
  is a parameter with a trailing _, as a keyword is, not a method Python refuses; so is a field
  named like a model class's own method (`register`, `mro`);
- `VariableDefaultsPlugin`: a non-null variable with a default is a parameter that may be left
  out;
- `OpenEnumsPlugin`: enums accept values the API adds after generation;
- `InputDefaultsPlugin`: an input field's enum default is the member `OpenEnumsPlugin` names, and
  a list or object default is the schema's value, validated into the field's type;
- `InputFieldNamesPlugin`: input models take renamed fields by their Python names (`api_key=`)
  under a plain `mypy --strict`, without pydantic's mypy plugin;
- `PublicOperationsPlugin`: records which operations the API serves without authentication;
- `RedactSecretsPlugin`: tokens, passwords and keys in models show as '***' in repr and str;
- `TypedKeywordsPlugin`: each method's `**kwargs` is typed (`oeus_kraken.CallKeywords`), so that
  mypy refuses a misspelt keyword, or a variable's parameter spelt without its trailing _;
- `LightUnsetPlugin`: the clients take their UNSET marker from `oeus_kraken.unset`, not from
  `base_model`, so that importing a client does not load pydantic's model machinery;
- `ImportedNamesPlugin`: a field named like a name its module imports (`date`) does not hide it
  from the fields after it;
- `PackageInitPlugin`: the package's `__init__` also exports the sync client (the async and
  sync clients come from two runs; see `oeus_kraken.codegen`), and its lazy-import hooks are
  annotated, so that `mypy --strict` accepts the package.

Settings are read from the `[tool.oeus-kraken]` table beside `[tool.ariadne-codegen]`:
`regenerate` (the command in the header), `public_operations` / `authenticated_operations` (to
override the inference, by operation name), `sync_client` (client name, module).
"""

from __future__ import annotations

import ast
import builtins
import json
import keyword
import re
from collections.abc import Iterable
from typing import Any

from ariadne_codegen.plugins.base import Plugin
from ariadne_codegen.utils import str_to_snake_case
from graphql import (
    EnumValueNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLSchema,
    ListValueNode,
    Node,
    NonNullTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    VariableDefinitionNode,
    get_named_type,
    value_from_ast,
    value_from_ast_untyped,
)

from .._kt_codes import PUBLIC_ROOT_FIELDS
from .._responses import SECRET_FIELD_NAMES, SECRET_FIELD_SUFFIXES
from ._manifest import GENERATED_MARK
from ._operations import METHOD_PARAMETERS

__all__ = [
    "GeneratedFileHeaderPlugin",
    "ImportedNamesPlugin",
    "InputDefaultsPlugin",
    "InputFieldNamesPlugin",
    "LightUnsetPlugin",
    "OpenEnumsPlugin",
    "PackageInitPlugin",
    "ParameterNamesPlugin",
    "PublicOperationsPlugin",
    "RedactSecretsPlugin",
    "ResultParsingHookPlugin",
    "TypedKeywordsPlugin",
    "VariableDefaultsPlugin",
    "oeus_kraken_settings",
]

PLUGINS = [
    "ariadne_codegen.contrib.extract_operations.ExtractOperationsPlugin",
    "oeus_kraken.codegen.plugins.GeneratedFileHeaderPlugin",
    "oeus_kraken.codegen.plugins.ResultParsingHookPlugin",
    "oeus_kraken.codegen.plugins.ParameterNamesPlugin",
    "oeus_kraken.codegen.plugins.VariableDefaultsPlugin",
    "oeus_kraken.codegen.plugins.OpenEnumsPlugin",
    "oeus_kraken.codegen.plugins.InputDefaultsPlugin",
    "oeus_kraken.codegen.plugins.InputFieldNamesPlugin",
    "oeus_kraken.codegen.plugins.PublicOperationsPlugin",
    "oeus_kraken.codegen.plugins.RedactSecretsPlugin",
    "oeus_kraken.codegen.plugins.TypedKeywordsPlugin",
    "oeus_kraken.codegen.plugins.LightUnsetPlugin",
    "oeus_kraken.codegen.plugins.ImportedNamesPlugin",
    "oeus_kraken.codegen.plugins.PackageInitPlugin",
]


def oeus_kraken_settings(config_dict: dict[str, Any]) -> dict[str, Any]:
    """The `[tool.oeus-kraken]` table of a codegen config."""
    settings = config_dict.get("tool", {}).get("oeus-kraken", {})
    return settings if isinstance(settings, dict) else {}


def header(regenerate: str) -> str:
    # Each character the comment line cannot hold as it is (a newline in a folder's name, which
    # ended the comment: a SyntaxError; a right-to-left override, which Python refuses in
    # source) is spelt as Python spells it, `\n`, `\u202e`.
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in regenerate)
    return f"{GENERATED_MARK}\n# Regenerate with `{shown}`; edit the .graphql operations instead."


class GeneratedFileHeaderPlugin(Plugin):
    """Heads every generated module with the command that regenerates it.

    The header has no timestamp, so regenerating unchanged inputs gives identical bytes.
    """

    def get_file_comment(self, comment: str, code: str, source: str | None = None) -> str:
        regenerate = oeus_kraken_settings(self.config_dict).get("regenerate", "oeus-kraken codegen")
        return header(str(regenerate))


class ResultParsingHookPlugin(Plugin):
    """Routes every operation method's last step through the base client's `parse_result`.

    ariadne-codegen ends each method with

        data = self.get_data(response)
        return GetViewer.model_validate(data)

    so a model mismatch would raise pydantic's ValidationError from generated code, and the body
    would always be decoded into Python objects first. This plugin makes it

        return self.parse_result(GetViewer, response)
    """

    # Matched on the formatted code, after ariadne-codegen's own lazy-import plugin has placed
    # each method's model import (it recognises the method by the `X.model_validate` call).
    # ariadne-codegen calls the locals `_data` and `_response` in a method with a variable
    # `$data` or `$response`.
    _RESULT_LINES = re.compile(
        r"^(?P<indent> +)(?P<data>_?data) = self\.get_data\((?P<response>_?response)\)\n"
        r" +return (?P<model>\w+)\.model_validate\((?P=data)\)$",
        re.MULTILINE,
    )

    def generate_client_code(self, generated_code: str) -> str:
        return self._RESULT_LINES.sub(
            r"\g<indent>return self.parse_result(\g<model>, \g<response>)", generated_code
        )


# Methods every model class has through pydantic's metaclass (ABCMeta's `register`, type's
# `mro`): ariadne-codegen gives a field a trailing _ for the names in dir(BaseModel) only, so a
# field `register` shadowed one, and pydantic warned of it when the module was imported.
MODEL_CLASS_METHODS = frozenset({"mro", "register"})


class ParameterNamesPlugin(Plugin):
    """Gives a variable named like a parameter every method has (`self`, `kwargs`, and the
    keywords of its `**kwargs`: `timeout`, `headers`, ...) a trailing _, as ariadne-codegen does
    for keywords and builtins: `query pick($self: Boolean)` is `pick(self_=...)`, sending the
    variable `self`, not a method with `self` twice. A result or
    input field named like a method of every model class (`register`, `mro`) gets one too: the
    attribute `register_`, still read and sent as `register`."""

    def process_name(self, name: str, node: Node | None = None) -> str:
        if isinstance(node, VariableDefinitionNode) and name in METHOD_PARAMETERS:
            return name + "_"
        if isinstance(node, (FieldNode, GraphQLInputField)) and name in MODEL_CLASS_METHODS:
            return name + "_"
        return name


class VariableDefaultsPlugin(Plugin):
    """A non-null variable with a default (`$first: Int! = 10`) is a parameter that may be left
    out, `first: Union[int, "UnsetType"] = UNSET`, as GraphQL lets a call leave it out (the
    server then uses the default). ariadne-codegen made it a required parameter: every call had
    to repeat the operation's default."""

    def generate_arguments(
        self, arguments: ast.arguments, variable_definitions: Any
    ) -> ast.arguments:
        args, optional = arguments.args, len(arguments.args) - len(arguments.defaults)
        # The required parameters after `self` are the non-null variables, in order.
        non_null = [v for v in variable_definitions if isinstance(v.type, NonNullTypeNode)]
        defaulted = [
            arg
            for arg, variable in zip(args[1:optional], non_null, strict=True)
            if variable.default_value is not None
        ]
        for arg in defaulted:  # `int` is `Union[int, "UnsetType"]`, as a nullable one's is
            if arg.annotation is not None:
                unset = ast.Constant(value="UnsetType")
                arg.annotation = ast.Subscript(
                    value=ast.Name(id="Union"), slice=ast.Tuple(elts=[arg.annotation, unset])
                )
        required = [arg for arg in args[:optional] if arg not in defaulted]
        arguments.args = required + defaulted + args[optional:]
        arguments.defaults[:0] = [ast.Name(id="UNSET") for _ in defaulted]
        return arguments


_OPEN_ENUM_BASE = '''
class OpenEnum(str, Enum):
    """An enum that accepts values the schema did not list when the client was generated.

    Kraken adds enum values over time. An unknown value becomes a member of its own (its name and
    value are the string received) instead of failing the whole response; known values are the
    usual members, so `status is AccountStatus.ACTIVE` keeps working.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
'''


def _insert_after_imports(module: ast.Module, statements: list[ast.stmt]) -> None:
    imports = [n for n in module.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    position = module.body.index(imports[-1]) + 1 if imports else 0
    module.body[position:position] = statements


# Methods of `str`, which every member of a generated enum is (OpenEnum is a `str` Enum): a member
# named `upper` would replace `str.upper` for every member ("'Kind' object is not callable"), and
# mypy refuses it as an incompatible override. The same 47 names on every Python we support.
_STR_METHODS = frozenset(name for name in dir(str) if not name.startswith("_"))


def _member_as_is(value: str) -> bool:
    """Whether an enum value can be its member's name as it is spelt: not a keyword or a builtin
    type (ariadne-codegen's rule, `class` is `class_`), not `mro` (Enum raises when the class is
    made), not between underscores (`_missing_`: Enum reserves it, it would replace OpenEnum's
    hook, and mypy reads any `_x_` as no member), not a method of `str`."""
    if keyword.iskeyword(value) or isinstance(getattr(builtins, value, None), type):
        return False
    return not _sunder(value) and value != "mro" and value not in _STR_METHODS


def _sunder(value: str) -> bool:
    return len(value) > 1 and value[0] == value[-1] == "_"


def enum_member_names(values: Iterable[str]) -> dict[str, str]:
    """The member name of each value of one enum. A value that can be its own name keeps it; any
    other is renamed, `class` to `class_`, `mro` to `mro_`, `_missing_` to `missing_` (the
    leading underscores go), `upper` to `upper_`, with one more _ while another value of the
    enum already has that name: `class` beside `class_` is `class__`. Before, both were the
    member `class_`, and the package failed on import ("'class_' already defined")."""
    values = list(values)
    names = {value: value for value in values if _member_as_is(value)}
    taken = set(names)
    for value in values:
        if value not in names:
            name = value.lstrip("_") if _sunder(value) else value + "_"
            while name in taken:
                name += "_"
            names[value] = name
            taken.add(name)
    return {value: names[value] for value in values}


class OpenEnumsPlugin(Plugin):
    """Makes every generated enum an `OpenEnum` (above): tolerant of values added to the API.
    Its members are named by `enum_member_names`, and so are the input types' enum defaults
    (`InputDefaultsPlugin`)."""

    def generate_enums_module(self, module: ast.Module) -> ast.Module:
        _insert_after_imports(module, ast.parse("from typing import Any\n" + _OPEN_ENUM_BASE).body)
        for node in module.body:
            if isinstance(node, ast.ClassDef) and node.name != "OpenEnum":
                node.bases = [ast.Name(id="OpenEnum")]
                # Named from each member's value, the GraphQL value: ariadne-codegen's own name
                # for it may be another value's (`class` and `class_` are both `class_`).
                members = [
                    (m, m.value.value)
                    for m in node.body
                    if isinstance(m, ast.Assign)
                    and isinstance(m.value, ast.Constant)
                    and isinstance(m.value.value, str)
                ]
                names = enum_member_names(value for _, value in members)
                for member, value in members:
                    member.targets = [ast.Name(id=names[value])]
        return module


class InputDefaultsPlugin(Plugin):
    """An input field's enum default is the member `OpenEnumsPlugin` names (`Kind.class__`), and
    one whose schema default is a list or an input object (`ids: [Int] = [1]`,
    `filter: Filter = {kind: A}`) defaults to that value as the API writes it, validated into
    the field's type each time a model is made: `Field(default_factory=lambda: cast(Any,
    [1]), validate_default=True)`.

    ariadne-codegen wrote it as Python: a list of an input object as a list holding pydantic's
    FieldInfo (sent as such), an enum inside an object as an attribute of the object's class
    (`Filter.A`: AttributeError whenever the model was made without that field), and a list of
    nullable items failed `mypy --strict` (`list[int]` is no `list[Optional[int]]`). `cast`
    tells mypy that pydantic, not the literal, gives the type.
    """

    def __init__(self, schema: GraphQLSchema, config_dict: dict[str, Any]) -> None:
        super().__init__(schema, config_dict)
        self.casts = False  # whether the inputs module needs `cast` and `Any`

    def generate_input_field(
        self,
        field_implementation: ast.AnnAssign,
        input_field: GraphQLInputField,
        field_name: str,
    ) -> ast.AnnAssign:
        node = input_field.ast_node
        default = node.default_value if node else None
        enum = get_named_type(input_field.type)
        if isinstance(enum, GraphQLEnumType) and isinstance(default, EnumValueNode):
            # Written `Kind.<ariadne-codegen's name for the value>` (`Kind._missing_`, and
            # `Kind.class_` for both `class` and `class_`): the member as the enums module names
            # it, from the GraphQL value.
            member = enum_member_names(enum.values)[default.value]
            for part in ast.walk(field_implementation):  # alone, or in `Field(alias=...)`
                if isinstance(part, ast.Name) and part.id.startswith(enum.name + "."):
                    part.id = f"{enum.name}.{member}"
        listed = isinstance(default, ListValueNode) and default.values  # `[]` is right as it is
        if not (listed or isinstance(default, ObjectValueNode)) or default is None:
            return field_implementation
        # Coerced as the API coerces it (`[[1], 2]` is `[[1], [2]]` for `[[Int]]`): enum values
        # as their names, input objects as dicts of the API's field names.
        value = value_from_ast(default, input_field.type)
        if value is Undefined:  # the schema's rules refuse such a default: left for pydantic
            value = value_from_ast_untyped(default)
        factory = ast.parse(f"lambda: cast(Any, {value!r})", mode="eval").body
        written = field_implementation.value
        kept = written.keywords if isinstance(written, ast.Call) else []
        kept = [k for k in kept if k.arg not in _DEFAULTS]  # the alias
        field_implementation.value = ast.Call(
            func=ast.Name(id="Field"),
            args=[],
            keywords=[
                *kept,
                ast.keyword(arg="default_factory", value=factory),
                ast.keyword(arg="validate_default", value=ast.Constant(value=True)),
            ],
        )
        self.casts = True
        return field_implementation

    def generate_inputs_module(self, module: ast.Module) -> ast.Module:
        if self.casts:
            _insert_after_imports(module, ast.parse("from typing import Any, cast").body)
        return module


_DEFAULTS = ("default", "default_factory")


def is_public_operation(operation: OperationDefinitionNode) -> bool:
    """Whether every root field `operation` selects is one the API serves without a token."""
    if operation.operation is OperationType.SUBSCRIPTION:
        return False
    selections = operation.selection_set.selections
    return bool(selections) and all(
        isinstance(s, FieldNode) and s.name.value in PUBLIC_ROOT_FIELDS for s in selections
    )


class InputFieldNamesPlugin(Plugin):
    """Input models take their fields by Python name under a plain `mypy --strict`.

    ariadne-codegen writes a renamed input field as `api_key: ... = Field(alias="APIKey")`, and
    type checkers read pydantic models as dataclass transforms, whose constructor takes a field
    by its `alias`: `ObtainJSONWebTokenInput(api_key=...)` was "Unexpected keyword argument"
    without pydantic's own mypy plugin, and an alias that is a keyword (`from`) could not be
    passed at all. The same name as `validation_alias` and `serialization_alias` instead: the
    constructor takes `api_key` (and still `APIKey`), answers are read and inputs sent by the
    API's name, as before.
    """

    def generate_inputs_module(self, module: ast.Module) -> ast.Module:
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Field":
                for keyword in list(node.keywords):
                    if keyword.arg == "alias":
                        index = node.keywords.index(keyword)
                        node.keywords[index : index + 1] = [
                            ast.keyword(arg="validation_alias", value=keyword.value),
                            ast.keyword(arg="serialization_alias", value=keyword.value),
                        ]
        return module


class PublicOperationsPlugin(Plugin):
    """Adds `kraken_public_operations` to the client: the operations sent with no token.

    Inferred from each operation's root fields (`oeus_kraken._config.PUBLIC_ROOT_FIELDS`);
    `[tool.oeus-kraken] public_operations = [...]` and `authenticated_operations = [...]`
    override it by operation name.
    """

    def __init__(self, schema: GraphQLSchema, config_dict: dict[str, Any]) -> None:
        super().__init__(schema, config_dict)
        settings = oeus_kraken_settings(config_dict)
        self._forced_public = frozenset(settings.get("public_operations", []))
        self._forced_authenticated = frozenset(settings.get("authenticated_operations", []))
        self._public: set[str] = set()

    def generate_client_method(
        self, method_def: Any, operation_definition: OperationDefinitionNode
    ) -> Any:
        name = operation_definition.name.value if operation_definition.name else ""
        public = is_public_operation(operation_definition)
        if name in self._forced_public or (public and name not in self._forced_authenticated):
            self._public.add(name)
        return method_def

    def generate_client_class(self, class_def: ast.ClassDef) -> ast.ClassDef:
        names = ", ".join(repr(name) for name in sorted(self._public))
        class_def.body.insert(
            0, ast.parse(f"kraken_public_operations = frozenset({{{names}}})").body[0]
        )
        return class_def


def _one_per_line(names: Iterable[str], indent: int) -> str:
    """`names` as the lines of a collection ruff would format: one double-quoted string each,
    with a trailing comma (copied code is not formatted by ariadne-codegen, and a user's
    `ruff format --check` would fail on the package otherwise)."""
    return "".join(f"{' ' * indent}{json.dumps(name)},\n" for name in names)


def _is_secret(name: str) -> bool:
    return name in SECRET_FIELD_NAMES or name.endswith(SECRET_FIELD_SUFFIXES)


_REDACTING_REPR = f"""

# Secrets in models (tokens, passwords, keys) show as '***' in repr() and str(), so that logging
# or printing a model cannot leak one; the attribute itself (e.g. `result.token`) and
# model_dump() give the value.
_SECRET_FIELD_NAMES = frozenset(
    {{
{_one_per_line(sorted(SECRET_FIELD_NAMES), 8)}    }}
)
_SECRET_FIELD_SUFFIXES = (
{_one_per_line(SECRET_FIELD_SUFFIXES, 4)})


class _Redacted:
    def __repr__(self) -> str:
        return "'***'"


_REDACTED = _Redacted()


def _is_secret_field(name: Optional[str]) -> bool:
    return name is not None and (
        name in _SECRET_FIELD_NAMES or name.endswith(_SECRET_FIELD_SUFFIXES)
    )
"""

_REDACTING_METHOD = """
    def __repr_args__(self) -> Iterator[tuple[Optional[str], Any]]:
        for name, value in super().__repr_args__():
            secret = value is not None and _is_secret_field(name)
            yield name, _REDACTED if secret else value
"""


class RedactSecretsPlugin(Plugin):
    """Makes the generated `BaseModel` show secret fields (`SECRET_FIELD_NAMES`, and names ending
    in `SECRET_FIELD_SUFFIXES`) as '***' in repr and str; a secret field an operation renames
    with a GraphQL alias (`jwt: token`), whose Python name no rule knows, is left out of them."""

    def generate_result_field(
        self, field_implementation: ast.AnnAssign, operation_definition: Any, field: FieldNode
    ) -> ast.AnnAssign:
        # The model knows the field by its alias only: before, repr showed `jwt='<the token>'`.
        # pydantic's own repr=False leaves it out of repr and str; the attribute and
        # model_dump() still give it.
        name = field_implementation.target
        if not (
            field.alias is not None
            and _is_secret(str_to_snake_case(field.name.value))
            and not (isinstance(name, ast.Name) and _is_secret(name.id))
        ):
            return field_implementation
        hidden = ast.keyword(arg="repr", value=ast.Constant(False))
        value = field_implementation.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "Field":
            value.keywords.append(hidden)
        else:
            field_implementation.value = ast.Call(ast.Name("Field"), [], [hidden])
        return field_implementation

    def copy_code(self, copied_code: str) -> str:
        marker = "class BaseModel(PydanticBaseModel):"
        if marker not in copied_code:
            return copied_code
        head, _, body = copied_code.partition(marker)
        first_import = head.index("from pydantic")
        imports = "from collections.abc import Iterator\nfrom typing import Any, Optional\n\n"
        head = head[:first_import] + imports + head[first_import:]
        redacting = head.rstrip() + "\n" + _REDACTING_REPR + "\n\n" + marker + body.rstrip()
        return redacting + "\n" + _REDACTING_METHOD


class TypedKeywordsPlugin(Plugin):
    """Types each operation method's `**kwargs` as `oeus_kraken.CallKeywords` (`headers`,
    `timeout`, `extensions`, `options`). ariadne-codegen annotates it `Any`, so `filter=` for a
    variable whose parameter is `filter_` passed mypy --strict and failed when called.

    The annotation is a string, its names imported for type checking only: the client module is
    imported while `oeus_kraken` itself initialises, and costs nothing more at run time."""

    _ANNOTATION = "Unpack[CallKeywords]"
    # One block each: whether oeus_kraken sorts beside typing_extensions depends on the isort
    # settings where codegen runs, and the output must not.
    _IMPORTS = ("from typing_extensions import Unpack", "from oeus_kraken import CallKeywords")

    def generate_client_method(self, method_def: Any, operation_definition: Any) -> Any:
        kwarg = method_def.args.kwarg
        if kwarg is not None and kwarg.arg == "kwargs":
            kwarg.annotation = ast.Constant(value=self._ANNOTATION)
        return method_def

    def generate_client_module(self, module: ast.Module) -> ast.Module:
        imported = {
            alias.asname or alias.name
            for node in module.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        checking = "" if "TYPE_CHECKING" in imported else "from typing import TYPE_CHECKING\n"
        blocks = "".join(f"if TYPE_CHECKING:\n    {line}\n" for line in self._IMPORTS)
        _insert_after_imports(module, ast.parse(checking + blocks).body)
        return module


class LightUnsetPlugin(Plugin):
    """Makes `oeus_kraken.unset` the one home of the UNSET marker (arguments not given).

    ariadne-codegen defines it in `base_model.py`, beside the pydantic `BaseModel`, and the
    clients import it from there: so `import` of a client loaded pydantic's whole model
    machinery (about 40 ms) before any model was needed. `base_model` re-exports it, so code
    importing it from there keeps working, and it is the same object everywhere.
    """

    _DEFINITION = re.compile(
        r"^class UnsetType:\n    def __bool__\(self\) -> bool:\n        return False\n+"
        r"UNSET = UnsetType\(\)\n+",
        re.MULTILINE,
    )
    _REEXPORT = (
        "from oeus_kraken.unset import UNSET as UNSET\n"
        "from oeus_kraken.unset import UnsetType as UnsetType\n"
    )

    def copy_code(self, copied_code: str) -> str:
        if not self._DEFINITION.search(copied_code):
            return copied_code
        code = self._DEFINITION.sub("", copied_code)
        first_pydantic = code.index("from pydantic")
        return code[:first_pydantic] + self._REEXPORT + code[first_pydantic:]

    # Matched on the formatted code: the top-level import only (the TYPE_CHECKING one, of
    # UnsetType, is indented and costs nothing).
    # With UnsetType too where ariadne-codegen saw no nullable variable, only ones made
    # optional by VariableDefaultsPlugin: `oeus_kraken.unset` has both.
    _CLIENT_IMPORT = re.compile(
        r"^from \.base_model import (UNSET(?:, UnsetType)?)\n", re.MULTILINE
    )

    def generate_client_code(self, generated_code: str) -> str:
        found = self._CLIENT_IMPORT.search(generated_code)
        code = self._CLIENT_IMPORT.sub("", generated_code)
        head, relative, rest = code.partition("\n\nfrom .")
        if not found or not relative:  # nothing to move, or nowhere safe to put it: as it was
            return generated_code
        # Among the absolute imports: before the first relative one.
        return head + f"\nfrom oeus_kraken.unset import {found.group(1)}" + relative + rest


class ImportedNamesPlugin(Plugin):
    """A model field named like a name its module imports (`date`, `datetime`, for the Date and
    DateTime scalars) does not hide that name from the annotations after it: the module imports
    it as `_date` and the annotations say `_date`.

    In a class body, a field with a default (an input model's `date: Optional[date] = None`)
    binds its name: the next field, `until: Optional[date]`, was `Optional[None]` and refused
    every date ("Input should be None"). Without a default (an answer's model) Python finds the
    import, but mypy --strict refused the package ("Variable "...date" is not valid as a type").
    """

    def generate_result_types_module(
        self, module: ast.Module, operation_definition: Any
    ) -> ast.Module:
        return _unshadow(module)

    def generate_fragments_module(
        self, module: ast.Module, fragments_definitions: Any
    ) -> ast.Module:
        return _unshadow(module)

    def generate_inputs_module(self, module: ast.Module) -> ast.Module:
        return _unshadow(module)


def _unshadow(module: ast.Module) -> ast.Module:
    """`module` with each imported name a field of one of its classes takes imported, and
    used, as `_name` (fields never start with _: pydantic would take them as private)."""
    fields = {
        statement.target.id
        for node in module.body
        if isinstance(node, ast.ClassDef)
        for statement in node.body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
    }
    imports = [
        alias
        for node in module.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if (alias.asname or alias.name) in fields
    ]
    renamed = {alias.asname or alias.name: "_" + (alias.asname or alias.name) for alias in imports}
    for alias in imports:
        alias.asname = renamed[alias.asname or alias.name]
    # Every use; not a field's own name (ariadne-codegen's names carry no Load or Store).
    targets = {
        id(target)
        for node in ast.walk(module)
        if isinstance(node, (ast.AnnAssign, ast.Assign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
    }
    for node in ast.walk(module):
        if isinstance(node, ast.Name) and node.id in renamed and id(node) not in targets:
            node.id = renamed[node.id]
    return module


class PackageInitPlugin(Plugin):
    """Makes the async run's `__init__` export the sync client and its base too, which the
    second (sync) run generates (`[tool.oeus-kraken] sync_client = {name, module, base_name,
    base_module}`), and annotates its `__getattr__` and `__dir__`."""

    def generate_init_module(self, module: ast.Module) -> ast.Module:
        for node in module.body:
            if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
                node.args.args[0].annotation = ast.Name(id="str")
                node.returns = ast.Name(id="object")
            elif isinstance(node, ast.FunctionDef) and node.name == "__dir__":
                node.returns = ast.parse("list[str]", mode="eval").body
        sync = oeus_kraken_settings(self.config_dict).get("sync_client")
        if not sync:
            return ast.fix_missing_locations(module)
        exports = {sync["name"]: "." + sync["module"], sync["base_name"]: "." + sync["base_module"]}
        for node in module.body:
            if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports
                for name, source in exports.items():
                    node.body.append(ast.parse(f"from {source} import {name}").body[0])
                node.body.sort(key=lambda n: getattr(n, "module", "") or "")
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                pairs = {
                    **{
                        ast.literal_eval(k): ast.literal_eval(v)
                        for k, v in zip(node.value.keys, node.value.values, strict=True)
                        if k is not None
                    },
                    **exports,
                }
                node.value = ast.parse(repr(dict(sorted(pairs.items()))), mode="eval").body
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.List)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            ):
                names = sorted({*(ast.literal_eval(e) for e in node.value.elts), *exports})
                node.value = ast.parse(repr(names), mode="eval").body
        return ast.fix_missing_locations(module)
