"""Probe the client from outside, as a hostile server, a bad clock and a careless caller would.

Each scenario of the hardening issue runs in its own interpreter (so that a hang or a blow-up is
a result, not the end of the probe) against a small hostile HTTP server on 127.0.0.1, using only
the public API that every version of the client has. It prints one line per scenario with the
figure that matters, so that the same script gives before and after figures:

    python bench/fault_probe.py                     # this checkout
    PYTHONPATH=/path/to/old:/path/to/old/generated python bench/fault_probe.py   # another one

Not part of `make test`: it measures, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SERVER = textwrap.dedent(
    r"""
    import json, socket, threading, time, zlib, os

    def jwt(iat, exp):
        import base64
        enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
        return enc({"alg": "HS256", "typ": "JWT"}) + "." + enc({"iat": iat, "exp": exp, "sub": "x"}) + ".sig"

    def token_body(iat=None, token=None):
        iat = int(time.time()) if iat is None else iat
        token = token or jwt(iat, iat + 3600)
        return json.dumps({"data": {"obtainKrakenToken": {"token": token,
            "payload": {"iat": iat, "exp": iat + 3600}, "refreshToken": "r",
            "refreshExpiresIn": iat + 86400}}}).encode()

    VIEWER = json.dumps({"data": {"viewer": {"id": "1", "givenName": "A", "familyName": "B",
        "email": "a@b", "accounts": []}}}).encode()

    def response(body, status="200 OK", extra=""):
        return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: "
                f"{len(body)}\r\n{extra}\r\n").encode() + body

    class Server:
        def __init__(self, answer):
            self.answer, self.ops, self.lock = answer, [], threading.Lock()
            self.received = []  # every request's head and body, as bytes
            self.sock = socket.socket(); self.sock.bind(("127.0.0.1", 0)); self.sock.listen(64)
            threading.Thread(target=self.accept, daemon=True).start()
        url = property(lambda self: f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1/graphql/")
        def count(self, op):
            with self.lock:
                return self.ops.count(op)
        def tokens(self):
            return self.count("getKrakenToken") + self.count("refreshKrakenToken")
        def accept(self):
            while True:
                conn, _ = self.sock.accept()
                threading.Thread(target=self.serve, args=(conn,), daemon=True).start()
        def serve(self, conn):
            buf = b""
            try:
                while True:
                    while b"\r\n\r\n" not in buf:
                        chunk = conn.recv(65536)
                        if not chunk: return
                        buf += chunk
                    head, _, rest = buf.partition(b"\r\n\r\n")
                    length = int(([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")] or [b"0"])[0])
                    while len(rest) < length:
                        chunk = conn.recv(65536)
                        if not chunk:
                            with self.lock:
                                self.received.append(head + rest)
                            return
                        rest += chunk
                    body, buf = rest[:length], rest[length:]
                    op = json.loads(body or b"{}").get("operationName")
                    with self.lock:
                        self.received.append(head + body)
                        self.ops.append(op)
                        n = self.ops.count(op)
                    for piece, pause in self.answer(op, n, head):
                        time.sleep(pause)
                        conn.sendall(piece)
            except OSError:
                return
    """
)

SCENARIOS: dict[str, str] = {
    "1 token endpoint 502 x2 then recovers; 20 concurrent calls, max_retries=3": r"""
        def answer(op, n, head):
            if op == "getKrakenToken" and n <= 2:
                time.sleep(0.05)
                return [(response(b"<html>bad gateway</html>", "502 Bad Gateway"), 0)]
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        s = Server(answer)
        from concurrent.futures import ThreadPoolExecutor
        with SyncKrakenClient(s.url, credentials=APIKey("k"), max_retries=3) as k:
            with ThreadPoolExecutor(20) as pool:
                outcomes = list(pool.map(lambda _: ok(k.get_viewer), range(20)))
        report(f"{outcomes.count(True)}/20 calls succeeded, {s.tokens()} token requests")
    """,
    "2 Retry-After 99999999 on the token request": r"""
        def answer(op, n, head):
            if op == "getKrakenToken" and n == 1:
                return [(response(b"{}", "429 Too Many Requests", "Retry-After: 99999999\r\n"), 0)]
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        s = Server(answer)
        with SyncKrakenClient(s.url, credentials=APIKey("k"), max_retries=0) as k:
            first = error_of(k.get_viewer)
            second = error_of(k.get_viewer)
        wait = getattr(second, "retry_after", None)
        report(f"locked out for {wait if wait is None else f'{wait:,.0f}'} s; "
               f"says 'new credentials': {'new credentials' in str(second)}")
    """,
    "3 every data call answered 401: 20 sequential calls": r"""
        def answer(op, n, head):
            if op == "getKrakenToken":
                return [(response(token_body()), 0)]
            return [(response(b"Unauthorized", "401 Unauthorized"), 0)]
        s = Server(answer)
        with SyncKrakenClient(s.url, credentials=APIKey("k")) as k:
            for _ in range(20):
                error_of(k.get_viewer)
        report(f"{s.tokens()} token requests for 20 calls")
    """,
    "4 client clock 2 h ahead of the API: 20 threads twice": r"""
        def answer(op, n, head):
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        s = Server(answer)
        from concurrent.futures import ThreadPoolExecutor
        with SyncKrakenClient(s.url, credentials=APIKey("k"), clock=lambda: time.time() + 7200) as k:
            with ThreadPoolExecutor(20) as pool:
                list(pool.map(lambda _: ok(k.get_viewer), range(20)))
                list(pool.map(lambda _: ok(k.get_viewer), range(20)))
        report(f"{s.tokens()} token requests for 40 calls")
    """,
    "5 server trickling 2 bytes/s, timeout=2, max_retries=0": r"""
        def answer(op, n, head):
            raw = response(token_body() if op == "getKrakenToken" else VIEWER)
            split = raw.index(b"\r\n\r\n") + 4
            return [(raw[:split], 0)] + [(raw[i:i + 1], 0.5) for i in range(split, len(raw))]
        s = Server(answer)
        started = time.monotonic()
        with SyncKrakenClient(s.url, timeout=2, max_retries=0) as k:
            error = error_of(k.get_products)
        report(f"call ended after {time.monotonic() - started:.1f} s with {type(error).__name__}")
    """,
    "6a deeply nested JSON answer": r"""
        nested = b'{"data": ' + b"[" * 100000 + b"]" * 100000 + b"}"
        s = Server(lambda op, n, head: [(response(nested), 0)])
        with SyncKrakenClient(s.url, max_retries=0) as k:
            report(f"raises {kind_of(error_of(k.get_products))}")
    """,
    "6b a call on a closed client": r"""
        s = Server(lambda op, n, head: [(response(VIEWER), 0)])
        k = SyncKrakenClient(s.url)
        k.close()
        report(f"raises {kind_of(error_of(k.get_products))}")
    """,
    "6c the async client from a second event loop": r"""
        import asyncio, warnings
        warnings.simplefilter("ignore")
        body = json.dumps({"data": {"products": []}}).encode()
        s = Server(lambda op, n, head: [(response(body), 0)])
        k = KrakenClient(s.url, max_retries=0)
        asyncio.run(k.get_products())
        async def again():
            return await k.get_products()
        report(f"second loop: {kind_of(error_of(lambda: asyncio.run(again())))}")
    """,
    "6d a token with CR/LF in it": r"""
        def answer(op, n, head):
            if op == "getKrakenToken":
                return [(response(token_body(token="abc\r\nX-Evil: 1") if n == 1 else token_body()), 0)]
            return [(response(VIEWER), 0)]
        s = Server(answer)
        with SyncKrakenClient(s.url, credentials=APIKey("k"), max_retries=0) as k:
            first = kind_of(error_of(k.get_viewer))
            second = kind_of(error_of(k.get_viewer))
        report(f"first call raises {first}; the next: {second} ({s.tokens()} token requests)")
    """,
    "6e a 1 MB gzip answer that expands to 1 GB": r"""
        import resource
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        bomb = c.compress(b'{"data": "') + b"".join(c.compress(b" " * (1 << 20)) for _ in range(1024)) + c.compress(b'"}') + c.flush()
        s = Server(lambda op, n, head: [(response(bomb, extra="Content-Encoding: gzip\r\n"), 0)])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with SyncKrakenClient(s.url, max_retries=0) as k:
            error = error_of(k.get_products)
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        report(f"{len(bomb) / 1e6:.1f} MB sent: raises {kind_of(error)}; peak memory grew {grew:,.0f} MB")
    """,
    "7 an answer spelling \\u0065rrors (KT-CT-1124)": r"""
        def answer(op, n, head):
            if op in ("getKrakenToken", "refreshKrakenToken"):
                return [(response(token_body()), 0)]
            if n == 1:
                body = b'{"data": null, "\\u0065rrors": [{"message": "expired", "extensions": {"errorCode": "KT-CT-1124"}}]}'
                return [(response(body), 0)]
            return [(response(VIEWER), 0)]
        s = Server(answer)
        with SyncKrakenClient(s.url, credentials=APIKey("k"), max_retries=0) as k:
            outcome = kind_of(error_of(k.get_viewer))
        renewals = s.count("getKrakenToken") + s.count("refreshKrakenToken") - 1
        report(f"the call: {outcome}; the rejected token renewed: {renewals == 1}")
    """,
    "8 fork while another thread is in a token request": r"""
        import os, threading
        started = threading.Event()
        def answer(op, n, head):
            if op == "getKrakenToken" and n == 1:
                started.set()
                raw = response(token_body())
                return [(raw[i:i + 64], 0.2) for i in range(0, len(raw), 64)]
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        s = Server(answer)
        k = SyncKrakenClient(s.url, credentials=APIKey("k"))
        threading.Thread(target=lambda: ok(k.get_viewer), daemon=True).start()
        started.wait(5)
        pid = os.fork()
        if pid == 0:
            os._exit(0 if ok(k.get_viewer) else 1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                report(f"the child's call {'worked' if os.waitstatus_to_exitcode(status) == 0 else 'failed'}")
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            report("the child's call hung (killed after 15 s)")
    """,
    "9 secrets in the exception chain (connection refused on the token request)": r"""
        import socket
        free = socket.socket(); free.bind(("127.0.0.1", 0)); port = free.getsockname()[1]; free.close()
        with SyncKrakenClient(f"http://127.0.0.1:{port}/v1/graphql/", credentials=APIKey("SECRET-API-KEY-123"), max_retries=0) as k:
            error = error_of(k.get_viewer)
        seen, e, found = set(), error, False
        while e is not None and id(e) not in seen:
            seen.add(id(e))
            request = getattr(e, "_request", None)
            text = repr(e) + str(e) + (request.content.decode(errors="replace") + str(request.headers) if request is not None else "")
            found = found or "SECRET-API-KEY-123" in text
            e = e.__cause__ or e.__context__
        report(f"the API key is in the chain a reporter walks: {found}")
    """,
    "10 token store: 8 processes writing 10 keys each": r"""
        import multiprocessing, tempfile
        from oeus_kraken import FileTokenStore, StoredTokens
        path = Path(tempfile.mkdtemp()) / "tokens.json"
        def write(n):
            store = FileTokenStore(path)
            for i in range(10):
                store.save(f"key-{n}-{i}", StoredTokens({"exp": 2e9}, f"token-{n}-{i}"))
        procs = [multiprocessing.Process(target=write, args=(n,)) for n in range(8)]
        for p in procs: p.start()
        for p in procs: p.join(60)
        store = FileTokenStore(path)
        kept = sum(store.load(f"key-{n}-{i}") is not None for n in range(8) for i in range(10))
        report(f"{kept}/80 entries kept")
    """,
    "11 raw httpx + KrakenAuth: a request to another origin": r"""
        def answer(op, n, head):
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        ours, other = Server(answer), Server(answer)
        import httpx
        with httpx.Client(auth=kraken_auth(APIKey("sk_live_PROBE_SECRET"), ours.url)) as http:
            error = error_of(lambda: http.post(other.url, json={"query": "{ viewer { id } }"}))
        leaked = any(b"sk_live_PROBE_SECRET" in r for r in other.received)
        report(f"{kind_of(error)}; the other origin got {len(other.received)} requests, "
               f"the key: {'YES' if leaked else 'no'}")
    """,
    "12 token request answered 307 to another origin (http_client follows redirects)": r"""
        def thief(op, n, head):
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        other = Server(thief)
        def answer(op, n, head):
            if op == "getKrakenToken":
                return [(response(b"", "307 Temporary Redirect", f"Location: {other.url}\r\n"), 0)]
            return [(response(VIEWER), 0)]
        s = Server(answer)
        import httpx
        with httpx.Client(follow_redirects=True) as http:
            with SyncKrakenClient(s.url, credentials=APIKey("sk_live_PROBE_SECRET"), http_client=http, max_retries=0) as k:
                error = error_of(k.get_viewer)
        leaked = any(b"sk_live_PROBE_SECRET" in r for r in other.received)
        report(f"{kind_of(error)}; the other origin got the key: {'YES' if leaked else 'no'}")
    """,
    "13 token request KT-CT-1199 x2 then OK; 20 concurrent calls, max_retries=3": r"""
        LIMITED = json.dumps({"errors": [{"message": "Too many requests.", "extensions": {"errorCode": "KT-CT-1199", "errorType": "AUTHORIZATION"}}]}).encode()
        def answer(op, n, head):
            if op == "getKrakenToken" and n <= 2:
                return [(response(LIMITED), 0)]
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        s = Server(answer)
        from concurrent.futures import ThreadPoolExecutor
        with SyncKrakenClient(s.url, credentials=APIKey("k"), max_retries=3) as k:
            with ThreadPoolExecutor(20) as pool:
                outcomes = list(pool.map(lambda _: ok(k.get_viewer), range(20)))
        report(f"{outcomes.count(True)}/20 calls succeeded, {s.tokens()} token requests")
    """,
    "14 every answer 502 (a dead endpoint); 20 concurrent calls, max_retries=2": r"""
        dead = [True]
        def answer(op, n, head):
            if dead[0]:
                return [(response(b"<html>bad gateway</html>", "502 Bad Gateway"), 0)]
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        s = Server(answer)
        from concurrent.futures import ThreadPoolExecutor
        with SyncKrakenClient(s.url, credentials=APIKey("k"), max_retries=2) as k:
            with ThreadPoolExecutor(20) as pool:
                outcomes = list(pool.map(lambda _: ok(k.get_viewer), range(20)))
            storm = s.tokens()
            dead[0] = False
            started = time.monotonic()
            after = ok(k.get_viewer)
        report(f"{outcomes.count(True)}/20 succeeded, {storm} token requests; after recovery: "
               f"{'ok' if after else 'FAILED'} in {time.monotonic() - started:.2f} s")
    """,
    "15 a mutation opening with a comment, unanswered; max_retries=2": r"""
        def answer(op, n, head):
            if op == "payNow":
                return [(b"", 30)]  # never answers in time
            return [(response(token_body() if op == "getKrakenToken" else VIEWER), 0)]
        s = Server(answer)
        with SyncKrakenClient(s.url, credentials=APIKey("k"), max_retries=2, timeout=0.5) as k:
            error = error_of(lambda: k.execute("# pays the bill\nmutation payNow { updateMetadata(input: {}) { ok } }", "payNow", {}))
        report(f"{kind_of(error)}; the mutation was sent {s.count('payNow')} times")
    """,
}

PRELUDE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from oeus_kraken import APIKey, KrakenClient, SyncKrakenClient

    def ok(call):
        try:
            call()
            return True
        except Exception:
            return False

    def error_of(call):
        try:
            call()
        except BaseException as exc:
            return exc
        return None

    def kind_of(error):
        if error is None:
            return "no error"
        from oeus_kraken import KrakenError
        family = "KrakenError" if isinstance(error, KrakenError) else "NOT a KrakenError"
        return f"{type(error).__name__} ({family})"

    def report(line):
        print(json.dumps(line), flush=True)

    def kraken_auth(credentials, url):
        from oeus_kraken import KrakenAuth
        try:
            return KrakenAuth(credentials, url=url)
        except TypeError:  # a client from before KrakenAuth took its endpoint
            return KrakenAuth(credentials)
    """
)


def run(name: str, body: str, timeout: float) -> str:
    code = PRELUDE + SERVER + textwrap.dedent(body)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=tempfile.gettempdir(),  # not a checkout: the client comes from sys.path as set
        )
    except subprocess.TimeoutExpired:
        return f"did not finish within {timeout:.0f} s"
    lines = [line for line in done.stdout.splitlines() if line.startswith('"')]
    if lines:
        return str(json.loads(lines[-1]))
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return f"crashed: {tail[:160]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per scenario")
    parser.add_argument("--only", help="run the scenarios whose name starts with this")
    args = parser.parse_args()
    results = {}
    for name, body in SCENARIOS.items():
        if args.only and not name.startswith(args.only):
            continue
        started = time.monotonic()
        results[name] = run(name, body, args.timeout)
        print(f"{name:<72} {results[name]}  [{time.monotonic() - started:.0f} s]", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
