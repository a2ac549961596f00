"""Hostile input gets a 4xx problem document, never a stack trace, and costs the processes no lasting memory.

Against the real processes (the `platform` stack): through the gateway and straight to a service,
each kind of abuse — bodies over the limit (declared, or streamed without a length), JSON nested a
hundred thousand deep, bytes that are not UTF-8, a NUL in text, page sizes and cursors out of range,
a request target, a header or a header count of absurd size, a request that is not HTTP. Then a
bounded burst of all of them, with each process's resident memory measured before and after.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import psutil
import pytest

from harambee_common.problems import MEDIA_TYPE
from harambee_stack.stack import Stack
from tests.e2e.helpers import demo_client

TENANT = "ke-mombasa"
REFERRALS = f"/v1/tenants/{TENANT}/referrals"
MiB = 1024 * 1024
# The burst: every kind of abuse this many times, within this long; memory may grow by at most this.
BURST_ROUNDS = 20
BURST_SECONDS = 240
RSS_GROWTH_LIMIT = 32 * MiB
TRACE_MARKERS = ("Traceback", 'File "', "site-packages", ".py\"", "line ")


@pytest.fixture(scope="module")
def token(platform: Stack) -> str:
    client = demo_client(platform, "mombasa-intake-officer")
    response = httpx.post(f"{platform.gateway_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def raw_exchange(port: int, request: bytes, *, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Sends bytes no HTTP client library would, and reads the answer (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may refuse and close before reading all of it; its answer is still there.
        with contextlib.suppress(OSError):
            sock.sendall(request)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def get(path: str, token: str, extra: bytes = b"") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n".encode()
            + extra + b"Connection: close\r\n\r\n")


def assert_problem(status: int, content_type: str, body: bytes, expected: int) -> None:
    text = body.decode("utf-8", "replace")
    assert status == expected, text[:500]
    assert content_type.startswith(MEDIA_TYPE), (content_type, text[:500])
    problem = json.loads(text)
    assert problem["status"] == expected and problem["type"].startswith("https://harambee.example/problems/")
    assert not any(marker in text for marker in TRACE_MARKERS), text[:1000]


def nested(depth: int) -> bytes:
    return b'{"person":' + b"[" * depth + b"]" * depth + b"}"


JSON_TYPE = {"Content-Type": "application/json"}


def abuses(stack: Stack, token: str) -> Iterator[tuple[str, Callable[[], tuple[int, str, bytes]], int]]:
    """(name, a request that answers (status, content type, body), the status it must get)."""
    auth = {"Authorization": f"Bearer {token}"}
    for where, base, port in (("gateway", f"{stack.gateway_url}/intake", stack.ports["gateway"]),
                              ("intake", stack.url("intake"), stack.ports["intake"])):
        prefix = "/intake" if where == "gateway" else ""

        def http(method: str, path: str, base: str = base, **kwargs) -> tuple[int, str, bytes]:
            response = httpx.request(method, base + path, headers={**auth, **kwargs.pop("headers", {})},
                                     timeout=60, **kwargs)
            return response.status_code, response.headers.get("content-type", ""), response.content

        def raw(request: bytes, port: int = port) -> tuple[int, str, bytes]:
            status, headers, body = raw_exchange(port, request)
            return status, headers.get("content-type", ""), body

        yield f"{where}: a body over the limit, declared", lambda http=http: http(
            "POST", REFERRALS, content=b" " * (2 * MiB), headers=JSON_TYPE), 413
        yield f"{where}: a body over the limit, streamed without a length", lambda http=http: http(
            "POST", REFERRALS, content=iter([b" " * 65536] * 40), headers=JSON_TYPE), 413
        yield f"{where}: JSON nested 400,000 deep", lambda http=http: http(
            "POST", REFERRALS, content=nested(400_000), headers=JSON_TYPE), 400
        yield f"{where}: bytes that are not UTF-8", lambda http=http: http(
            "POST", REFERRALS, content=b'{"concern": "\xff\xfe\xfd"}', headers=JSON_TYPE), 400
        yield f"{where}: a NUL character in a filter", lambda http=http: http(
            "GET", REFERRALS, params={"screener": "a\x00b"}), 422
        yield f"{where}: a page of a billion", lambda http=http: http("GET", REFERRALS, params={"limit": 10**9}), 422
        yield f"{where}: a page size beyond any integer", lambda http=http: http(
            "GET", REFERRALS, params={"limit": "9" * 4000}), 422
        yield f"{where}: a cursor the API never issued", lambda http=http: http(
            "GET", REFERRALS, params={"cursor": "WyJub3QiLCJvdXJzIl0"}), 422
        yield f"{where}: a cursor of 10,000 characters", lambda http=http: http(
            "GET", REFERRALS, params={"cursor": "A" * 10_000}), 422
        yield f"{where}: a time given as a bare number", lambda http=http: http(
            "GET", REFERRALS, params={"received_from": "0.5"}), 422
        yield f"{where}: a header of 1 MiB", lambda raw=raw, prefix=prefix: raw(
            get(prefix + REFERRALS, token, b"X-Junk: " + b"a" * MiB + b"\r\n")), 431
        yield f"{where}: 5,000 headers", lambda raw=raw, prefix=prefix: raw(
            get(prefix + REFERRALS, token, b"".join(b"X-H%d: v\r\n" % i for i in range(5000)))), 431
        yield f"{where}: a request target of 1 MiB", lambda raw=raw, prefix=prefix: raw(
            get(prefix + REFERRALS + "?cursor=" + "A" * MiB, token)), 414
        yield f"{where}: a request that is not HTTP", lambda raw=raw: raw(b"\x16\x03\x01\x02\x00\x01\x00\r\n\r\n"), 400


def test_each_abuse_gets_its_4xx_problem_document_and_no_trace(platform: Stack, token: str) -> None:
    for name, send, expected in abuses(platform, token):
        status, content_type, body = send()
        try:
            assert_problem(status, content_type, body, expected)
        except AssertionError as failure:
            raise AssertionError(f"{name}: {failure}") from None


def test_a_bounded_burst_of_abuse_leaves_memory_flat(platform: Stack, token: str) -> None:
    names = ("gateway", "intake")
    processes = {name: psutil.Process(platform.pid(name)) for name in names}
    requests = list(abuses(platform, token))
    for _, send, _ in requests:  # a warm-up round: the first of each kind allocates what every later one reuses
        send()
    before = {name: p.memory_info().rss for name, p in processes.items()}
    started, sent = time.monotonic(), 0
    for _ in range(BURST_ROUNDS):
        for name, send, expected in requests:
            status = send()[0]
            assert status == expected, name
            sent += 1
        if time.monotonic() - started > BURST_SECONDS:
            break
    after = {name: p.memory_info().rss for name, p in processes.items()}
    seconds = time.monotonic() - started
    for name in names:
        print(f"hostile burst: {sent} requests in {seconds:.0f}s; {name} RSS {before[name] / MiB:.1f} MiB -> "
              f"{after[name] / MiB:.1f} MiB")
    assert sent >= len(requests) * 5, "the burst was cut short by its time bound"
    for name in names:
        grown = after[name] - before[name]
        assert grown < RSS_GROWTH_LIMIT, f"{name} grew {grown / MiB:.1f} MiB"
    # Still serving as before.
    assert httpx.get(f"{platform.gateway_url}/intake/readyz", timeout=10).status_code == 200
