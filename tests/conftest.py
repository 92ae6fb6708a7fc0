"""Shared fixtures: both clients, the suite's fake Kraken (auth_helpers.FakeKraken), the sandbox.

    async def test_something(make_client, fake_kraken):
        fake_kraken.answer("getViewer", {"data": {"viewer": ...}})
        client = make_client(credentials=OrganizationSecretKey("sk_test_..."))
        viewer = await call(client, "get_viewer")        # awaits only for the async client
        [sent] = fake_kraken.requests("getViewer")

`make_client` builds the client named by the `kind` parameter ("async", "sync"), so a test that
uses it runs once per client. Requests never leave the process: pytest-httpx intercepts every
httpx transport, and `fake_kraken` answers each request by its GraphQL operation name. The auth
and fault suites drive the same FakeKraken through `server`, on a fake `clock`.

`sandbox` is different: the local Kraken sandbox (oeus_kraken.sandbox) on a loopback port, one
server for the session, reset before each test that uses it, its time set by `sandbox_clock`.
`shipped_schema` is schema.graphql, built once for the session.

Set-up that takes seconds is paid once per test run, however many pytest-xdist workers there
are (`built_once`): a package generated as the README says (`codegen_project`) and one from the
small schema (`small_codegen_project`), and one `mypy --strict` run over every script the suite
type-checks (`mypy_errors`).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import shutil
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import auth_helpers
import httpx
import httpx._transports.default
import pytest
from auth_helpers import FakeKraken
from codegen_helpers import (
    MAKE,
    PROTECTED,
    PUBLIC,
    SCRIPT,
    VIEWER,
    codegen_process,
    write_small_schema,
)
from filelock import FileLock
from pytest_httpx import HTTPXMock

from oeus_kraken import TEST_URL, KrakenClient, SyncKrakenClient

if TYPE_CHECKING:
    from oeus_kraken.sandbox import SandboxServer
    from oeus_kraken.schema import LoadedSchema

CLIENT_KINDS = ("async", "sync")


# -- loopback past any proxy -------------------------------------------------------------------

_PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def loopback_past_proxies(environ: MutableMapping[str, str]) -> None:
    """Every server the suite talks to is on this machine. A proxy the environment names (on a
    corporate network, or a dead one to prove the suite needs no network) must not take those
    requests: so loopback goes into NO_PROXY, for plain httpx clients and the subprocesses the
    suite starts. Only then: httpx matches every request against each NO_PROXY entry, which
    slowed the whole suite by a tenth."""
    if not any(environ.get(name) for name in _PROXY_VARIABLES):
        return
    for name in ("NO_PROXY", "no_proxy"):
        kept = [entry for entry in environ.get(name, "").split(",") if entry.strip()]
        environ[name] = ",".join([*kept, *(host for host in _LOOPBACK if host not in kept)])


loopback_past_proxies(os.environ)


# -- one TLS context for the suite's thousands of clients ----------------------------------------

_ssl_contexts: dict[tuple[bool, str | None, str | None], ssl.SSLContext] = {}


def _shared_ssl_context(
    verify: Any = True, cert: Any = None, trust_env: bool = True
) -> ssl.SSLContext:
    """httpx's create_ssl_context, once per set of arguments for the default `verify=True`.

    Every httpx client builds its TLS context, loading the whole CA bundle (tens of
    milliseconds), and the suite makes thousands of clients, of which none speaks TLS (their
    servers are on loopback http, or mocked). httpx's documentation recommends sharing one
    context; the clients under test are otherwise exactly as built."""
    if verify is not True or cert is not None:
        return _create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
    key = (trust_env, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if key not in _ssl_contexts:
        _ssl_contexts[key] = _create_ssl_context(verify=True, trust_env=trust_env)
    return _ssl_contexts[key]


_create_ssl_context = httpx._transports.default.create_ssl_context
httpx._transports.default.create_ssl_context = _shared_ssl_context

AnyClient = KrakenClient | SyncKrakenClient


def build_client(kind: str, **options: Any) -> AnyClient:
    """A KrakenClient ("async") or SyncKrakenClient ("sync") for TEST_URL with its own HTTP
    client (which pytest-httpx intercepts). Close it with `close_client`."""
    options.setdefault("url", TEST_URL)
    if kind == "async":
        return KrakenClient(**options)
    if kind == "sync":
        return SyncKrakenClient(**options)
    raise ValueError(f"unknown client kind {kind!r}")


async def close_client(client: AnyClient) -> None:
    if isinstance(client, KrakenClient):
        await client.aclose()
    else:
        client.close()


async def call(client: AnyClient, method: str, /, **kwargs: Any) -> Any:
    """`client.<method>(**kwargs)`, awaited when the client is async."""
    result = getattr(client, method)(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


@pytest.fixture(autouse=True)
def _caches_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every test's XDG cache and data folders are its own, never the user's: the CLI's token
    cache (~/.cache/oeus-kraken) written by one run was read by a later one, whose fake Kraken
    then got a refresh it had not scripted once that token neared its end. (Outside tmp_path,
    whose contents some tests compare.) Tests of the default locations set their own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """ "async" or "sync": a test using this fixture (or one built on it) runs once with each
    client."""
    return str(request.param)


@pytest.fixture
async def make_client(kind: str) -> AsyncIterator[Callable[..., AnyClient]]:
    """Builds clients of the current `kind` (options as for KrakenClient) and closes them after
    the test."""
    clients: list[AnyClient] = []

    def make(**options: Any) -> AnyClient:
        client = build_client(kind, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await close_client(client)


# -- a fake Kraken endpoint --------------------------------------------------------------------


@pytest.fixture
def fake_kraken(httpx_mock: HTTPXMock) -> FakeKraken:
    """The suite's FakeKraken (auth_helpers), strict and on real time, behind every httpx
    transport for the duration of the test: each request is answered as scripted (`answer`,
    `answer_token`), and one nothing was scripted for fails the test."""
    fake = FakeKraken(time.time, strict=True)
    httpx_mock.add_callback(fake.handle, is_reusable=True, is_optional=True)
    return fake


# -- the local Kraken sandbox, over real loopback HTTP -----------------------------------------


class SandboxClock:
    """The time the sandbox server sees: real time (or an instant it was frozen at) plus an
    offset. Give it to a client as `clock=` too, and `advance` moves time for both."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def __call__(self) -> float:
        return (time.time() if self.frozen_at is None else self.frozen_at) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def freeze(self) -> None:
        """Stop the clock at now: tokens issued from here on are identical for one user."""
        self.frozen_at = time.time()

    def reset(self) -> None:
        self.offset = 0.0
        self.frozen_at = None


@pytest.fixture(scope="session")
def sandbox_clock() -> SandboxClock:
    return SandboxClock()


@pytest.fixture(scope="session")
def _sandbox_server(sandbox_clock: SandboxClock) -> Iterator[SandboxServer]:
    # Imported here: the sandbox is an optional extra, and only the tests using it need it.
    from oeus_kraken.sandbox import SandboxServer

    with SandboxServer(clock=sandbox_clock) as server:
        yield server


@pytest.fixture
def sandbox(_sandbox_server: SandboxServer, sandbox_clock: SandboxClock) -> Iterator[SandboxServer]:
    """The session's sandbox server (`.url`), as new: no faults, counters at zero, no tokens
    issued, and `sandbox_clock` back at real time. Afterwards, the requests still being
    answered (held back by a delay fault) are let finish, so that the next test counts none."""
    sandbox_clock.reset()
    _sandbox_server.reset()
    yield _sandbox_server
    assert _sandbox_server.wait_until_idle(), "the sandbox is still answering this test's requests"


# -- schema.graphql, built once per session (26k lines: seconds to parse and validate) ----------


@pytest.fixture(scope="session")
def shipped_schema() -> LoadedSchema:
    """schema.graphql as `oeus_kraken.schema` loads it (label "schema.graphql"): its text and the
    validated schema. Shared: never mutate it."""
    from oeus_kraken.schema import read_schema_file

    path = Path(__file__).resolve().parent.parent / "schema.graphql"
    loaded = read_schema_file(path, "schema.graphql")
    if loaded.sdl is not None:
        _built_schemas[loaded.sdl, True] = loaded.schema  # for `schemas_built_once` too
    return loaded


# Each schema text built once per worker, whatever reads it: the schema tests build schema.graphql
# (and the same edited copies) again and again, in the CLI, in tools/schema_tool.py and in their
# own set-up, under labels that differ only in error messages. A build that succeeds is a pure
# function of (text, check_sdl) and its schema is never changed afterwards, so the first build's
# answer is the answer; failures (which name the label) are never kept.
_built_schemas: dict[tuple[str, bool], Any] = {}


@pytest.fixture
def schemas_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`schema_from_sdl` remembers each schema it built, for the rest of this worker's tests."""
    from oeus_kraken.schema import _sources

    build = _sources.schema_from_sdl

    def remembered(sdl: str, label: str, *, check_sdl: bool = True) -> Any:
        if (sdl, True) in _built_schemas:  # passed the SDL rules: the same schema either way
            return _built_schemas[sdl, True]
        if (sdl, check_sdl) not in _built_schemas:
            _built_schemas[sdl, check_sdl] = build(sdl, label, check_sdl=check_sdl)
        return _built_schemas[sdl, check_sdl]

    monkeypatch.setattr(_sources, "schema_from_sdl", remembered)
    tool = sys.modules.get("schema_tool")  # tools/schema_tool.py, as test_schema_tool loads it
    if tool is not None:
        monkeypatch.setattr(tool, "schema_from_sdl", remembered)


# -- the auth and fault suites: a scripted Kraken (auth_helpers.FakeKraken) and a fake clock ---


@pytest.fixture
def clock() -> auth_helpers.FakeClock:
    return auth_helpers.FakeClock()


@pytest.fixture
def server(
    httpx_mock: HTTPXMock, clock: auth_helpers.FakeClock, kind: str
) -> auth_helpers.FakeKraken:
    """A scripted Kraken behind every httpx transport, answering on the test's clock."""
    fake = auth_helpers.FakeKraken(clock)
    httpx_mock.add_callback(
        fake.ahandle if kind == "async" else fake.handle, is_reusable=True, is_optional=True
    )
    return fake


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch, clock: auth_helpers.FakeClock) -> auth_helpers.Waits:
    return auth_helpers.record_waits(monkeypatch, clock)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: oeus_kraken, httpx and httpcore records
    return caplog


def connector(
    kind: str, clock: auth_helpers.FakeClock, server: auth_helpers.FakeKraken, **defaults: Any
) -> tuple[Callable[..., auth_helpers.Driver], list[auth_helpers.Driver]]:
    """A function making clients of `kind` on `server` (API key, `clock`, margin 300 s, then
    `defaults`, then the call's own options), and the list of those made, to close."""
    made: list[auth_helpers.Driver] = []
    classes = {"async": KrakenClient, "sync": SyncKrakenClient}

    def connect(
        credentials: Any = auth_helpers.CREDENTIALS["api_key"], **options: Any
    ) -> auth_helpers.Driver:
        options = {"clock": clock, "refresh_margin": auth_helpers.MARGIN, **defaults, **options}
        client = classes[kind](auth_helpers.URL, credentials=credentials, **options)
        driver = auth_helpers.Driver(kind, client, server)
        made.append(driver)
        return driver

    return connect, made


# -- the order: what waits on a set-up built once per run goes first ---------------------------


BUILT_ONCE = ("demo", "codegen_project", "small_codegen_project", "mypy_errors")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests whose set-up is built once per run (`built_once`: the demo, seconds of codegen and
    mypy) first, each group together: with pytest-xdist they then start at once on the first
    worker, instead of last on one worker while the others wait for it, or on two at once (the
    second waiting for the first's lock). The rest keep their order."""

    def group(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        return next((n for n, name in enumerate(BUILT_ONCE) if name in names), len(BUILT_ONCE))

    items.sort(key=group)  # stable


# -- once per test run: generated packages, and one mypy run --------------------------------------


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, made by `build(folder)` once per test run. pytest-xdist's workers have
    their temporary folders inside the run's: the first worker to ask builds it there while the
    others wait for the lock. Shared: copy it before changing it."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, built = shared / name, shared / f"{name}.built"
    with FileLock(shared / f"{name}.lock"):
        if not built.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            built.touch()
    return folder


@pytest.fixture(scope="session")
def codegen_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's project as the README's "Your own operations" makes it, with the schema
    oeus-kraken ships: PROTECTED and PUBLIC in ops/, the package generated into src/my_kraken
    by `oeus-kraken codegen` in a process of its own."""

    def build(folder: Path) -> None:
        (folder / "ops").mkdir()
        (folder / "ops" / "accounts.graphql").write_text(PROTECTED)
        (folder / "ops" / "products.graphql").write_text(PUBLIC)
        run = codegen_process(*MAKE, cwd=folder)
        assert run.returncode == 0, run.stderr
        assert "my_kraken" in run.stdout

    return built_once(tmp_path_factory, "codegen-project", build)


@pytest.fixture(scope="session")
def small_codegen_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose src/my_kraken an earlier codegen run wrote, from ops/viewer.graphql and
    the small schema (small.graphql)."""

    def build(folder: Path) -> None:
        (folder / "ops").mkdir()
        (folder / "ops" / "viewer.graphql").write_text(VIEWER)
        write_small_schema(folder)
        run = codegen_process(*MAKE, "--schema", "small.graphql", cwd=folder)
        assert run.returncode == 0, run.stderr

    return built_once(tmp_path_factory, "small-codegen-project", build)


ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "list_accounts.py"
PYPROJECT = ROOT / "pyproject.toml"  # the project's mypy settings
EXAMPLE_FIELD = "account.balance"  # what the example reads once, and the misspelt copy breaks


README = ROOT / "README.md"
# What a README snippet that uses `kraken` without making one stands in: a client made earlier.
README_CLIENT = "from oeus_kraken import SyncKrakenClient\n\nkraken = SyncKrakenClient()\n"


def readme_python_snippets(*, client: bool = True) -> dict[str, str]:
    """Each ```python block of the README as a script, by file name (readme_snippet_N.py): as
    written, dedented (a block inside a list item is indented), and (`client`) after
    `README_CLIENT` when it uses a `kraken` it does not make."""
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", README.read_text("utf-8"), re.M | re.S)
    snippets = {}
    for i, (_, block) in enumerate(blocks, start=1):
        text = textwrap.dedent(block)
        if client and re.search(r"\bkraken\b", text) and not re.search(r"as kraken\b", text):
            text = README_CLIENT + text
        snippets[f"readme_snippet_{i}.py"] = text
    return snippets


def _with_call_keywords(keywords: str) -> str:
    """The codegen project's script, one of its calls given `keywords` besides its variables."""
    script = SCRIPT.format(balance="balance")
    script = script.replace("import APIKey\n", "import APIKey, CallOptions\n")
    return script.replace("my_products(prepay=False)", f"my_products(prepay=False, {keywords})")


# A client made from the environment, with options of its own (README: "From the environment").
FROM_ENV = """from oeus_kraken import KrakenClient, SyncKrakenClient

sync = SyncKrakenClient.from_env({{}}, {options})
asynchronous = KrakenClient.from_env({{}}, {options})
"""


# A usage sync with options (README: "Keep your usage locally").
SYNC_OPTIONS = """from datetime import date

from oeus_kraken import SyncKrakenClient
from oeus_kraken.usage import UsageStore, sync_usage_blocking

with SyncKrakenClient() as kraken, UsageStore("usage.sqlite3") as store:
    sync_usage_blocking(kraken, store, since=date(2026, 1, 1), {options})
"""


def _scripts_to_type_check() -> dict[str, str]:
    """Every script the suite runs mypy on, by file name."""
    example = EXAMPLE.read_text(encoding="utf-8")
    assert example.count(EXAMPLE_FIELD) == 1, f"{EXAMPLE.name} should read {EXAMPLE_FIELD} once"
    return {
        "example_as_written.py": example,
        "example_misspelt.py": example.replace(EXAMPLE_FIELD, "account.balanse"),
        "use_my_kraken.py": SCRIPT.format(balance="balance"),
        "use_my_kraken_misspelt.py": SCRIPT.format(balance="balanse"),
        "use_my_kraken_keywords.py": _with_call_keywords("timeout=5.0, options=CallOptions()"),
        "use_my_kraken_keyword_misspelt.py": _with_call_keywords("timeuot=5.0"),
        "from_env_options.py": FROM_ENV.format(options="timeout=5.0, max_retries=3"),
        "from_env_option_misspelt.py": FROM_ENV.format(options="timout=5.0, max_retries='3'"),
        "sync_options.py": SYNC_OPTIONS.format(options="max_requests=10, concurrency=2"),
        "sync_option_misspelt.py": SYNC_OPTIONS.format(options="max_request=10, concurrency='2'"),
        **readme_python_snippets(),
    }


@pytest.fixture(scope="session")
def mypy_errors(
    tmp_path_factory: pytest.TempPathFactory, codegen_project: Path
) -> dict[str, list[str]]:
    """`mypy --strict` (with the project's settings) run once over every script the suite
    type-checks, the package of `codegen_project` on its path: the error lines it gave for each
    script, by file name ([] for a script that passes)."""
    scripts = _scripts_to_type_check()

    def build(folder: Path) -> None:
        for name, text in scripts.items():
            (folder / name).write_text(text, encoding="utf-8")
        # `make typecheck` (which `make test` runs first) leaves mypy's cache of oeus_kraken and
        # its dependencies: starting from a copy, mypy analyses only what is new here (a second
        # instead of ten). mypy checks each cached module against its source's hash.
        if (ROOT / ".mypy_cache").is_dir():
            shutil.copytree(ROOT / ".mypy_cache", folder / ".cache")
        mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", str(PYPROJECT)]
        run = subprocess.run(
            [*mypy, "--cache-dir", str(folder / ".cache"), *scripts],
            cwd=folder,
            env={**os.environ, "MYPYPATH": str(codegen_project / "src")},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        (folder / "mypy.json").write_text(json.dumps([run.returncode, run.stdout, run.stderr]))

    folder = built_once(tmp_path_factory, "mypy", build)
    code, out, err = json.loads((folder / "mypy.json").read_text())
    # 0 or 1 (errors found): anything else is mypy failing to run, which passes nothing.
    assert code in (0, 1), out + err
    assert out.splitlines()[-1].startswith(("Success", "Found")), out + err
    errors = [line for line in out.splitlines() if ": error:" in line]
    return {name: [e for e in errors if e.startswith(f"{name}:")] for name in scripts}
