"""A real headless Chromium for the tests, driven over the DevTools protocol through a pipe.

Why the protocol rather than reading Chromium's log: the log is not an interface. Its format
changes between versions and headless modes, it mixes the page's console with the browser's own
complaints (no D-Bus in a container, GPU and sandbox warnings), and an uncaught exception, a
failed resource and a `console.error` each look different in it. The protocol reports each of
them as an event of its own (Runtime.exceptionThrown, Runtime.consoleAPICalled, Log.entryAdded,
Network.requestWillBeSent), the same in every version, and lets the test read the page's DOM and
emulate a phone. `--remote-debugging-pipe` carries it over two file descriptors (3 in, 4 out,
messages ending in NUL, as Puppeteer's `pipe: true` uses): no port to find or to race for, no
WebSocket library, the standard library only.

`chromium()` finds Debian's `chromium`, installing it with apt-get when it is missing and this
process may (root on Debian, as CI runs); None means it cannot be had here, and the test says so.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",  # as root in a container, Chromium's own sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-pipe",
)
TIMEOUT = 60.0
_ON_FDS_3_AND_4 = """
import os, sys
for fd, wanted in ((int(sys.argv[1]), 3), (int(sys.argv[2]), 4)):
    os.dup2(fd, wanted)
    if fd not in (3, 4):
        os.close(fd)
os.execv(sys.argv[3], sys.argv[3:])
"""


def _found() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def chromium() -> tuple[str | None, str]:
    """(the browser's path, or None with why not)."""
    found = _found()
    if found:
        return found, ""
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return None, "no chromium on PATH, and apt-get cannot install it here (not root on Debian)"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": False}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], env=env, timeout=600, **quiet)  # type: ignore[call-overload]
    installed = subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        env=env,
        timeout=1200,
        **quiet,  # type: ignore[arg-type]
    )
    found = _found()
    if found:
        return found, ""
    return None, f"apt-get install chromium failed: {installed.stderr.decode()[-300:]}"


@dataclass
class PageReport:
    """What loading a page did: its console errors, uncaught exceptions, failed loads, and every
    URL it asked for."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class DevTools:
    """One browser process and a protocol session with one page of it."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # The browser reads fd 3 and writes fd 4: a fresh interpreter puts the pipes there and
        # becomes the browser (dup2 in this process's fork would not be safe beside threads).
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ON_FDS_3_AND_4, str(to_browser), str(from_browser),
             executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_browser, from_browser),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # the browser's own log: not the page's (see above)
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None
        self.events: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise ConnectionError("the browser closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        received: dict[str, Any] = json.loads(message)
        return received

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command (to the page's session once there is one) and wait for its result;
        the events that arrive meanwhile are kept in `events`."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            received = self._receive(deadline)
            if received.get("id") == self._next_id:
                if "error" in received:
                    raise RuntimeError(f"{method}: {received['error']}")
                result: dict[str, Any] = received.get("result", {})
                return result
            self.events.append(received)

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        while True:
            received = self._receive(deadline)
            self.events.append(received)
            if received.get("method") == event:
                return received

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression!r} threw: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, RuntimeError, TimeoutError, ConnectionError):
            self.process.kill()
        finally:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            os.close(self._write)
            os.close(self._read)

    def report(self) -> PageReport:
        """The page's errors and requests among the events so far."""
        found = PageReport()
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.errors.append(f"uncaught: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.errors.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.errors.append(f"log: {params['entry'].get('text')}")
            elif method == "Network.requestWillBeSent":
                found.requests.append(params["request"]["url"])
        return found


@contextmanager
def open_page(executable: str, page: Path, profile: Path) -> Iterator[DevTools]:
    """The browser with `page` loaded (its load event fired), watching its console, log and
    requests from before the first byte."""
    tools = DevTools(executable, profile)
    try:
        target = tools.call("Target.createTarget", url="about:blank")["targetId"]
        tools.session = tools.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Page", "Network"):
            tools.call(f"{domain}.enable")
        tools.call("Page.navigate", url=page.resolve().as_uri())
        tools.wait_for("Page.loadEventFired")
        yield tools
    finally:
        tools.close()
