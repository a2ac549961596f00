"""Routing to the services, against a real upstream server on 127.0.0.1 (no database needed)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from harambee_gateway.app import create_app
from tests.gateway.conftest import gateway_settings, gateway_token, serving

BIG = bytes(range(256)) * 8192  # 2 MiB, larger than the proxy ever buffers
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
    """A service stand-in: echoes what reached it, streams a big body, or sets odd headers."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/big":
        # No content-length: the upstream streams with chunked encoding.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for start in range(0, len(BIG), 65536):
            chunk = BIG[start : start + 65536]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    echo: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode(),
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body_length": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    content = json.dumps(echo).encode()
    headers = [(b"content-type", b"application/json"), (b"x-upstream", b"yes")]
    if scope["path"] == "/odd-headers":
        headers += [
            (b"keep-alive", b"timeout=5"),
            (b"proxy-authenticate", b"Basic realm=upstream"),
            (b"set-cookie", b"session=for-one-caller-only"),
        ]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gateway(signing_key_pem: bytes) -> Iterator[httpx.Client]:
    with serving(upstream) as upstream_url:
        settings = gateway_settings(
            signing_key_pem=signing_key_pem,
            upstreams={"intake": upstream_url, "audit": f"http://127.0.0.1:{_closed_port()}"},
        )
        # Above BIG, so that streaming a body larger than the proxy buffers is what is tested here.
        settings = dataclasses.replace(settings, max_body_bytes=2 * len(BIG))
        with serving(create_app(settings)) as gateway_url, httpx.Client(base_url=gateway_url) as c:
            yield c


def echoed_headers(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 201, response.text
    return {name: value for name, value in response.json()["headers"]}


def test_first_segment_selects_the_service_and_is_stripped(gateway: httpx.Client) -> None:
    response = gateway.get("/intake/v1/tenants/ke-mombasa/referrals", params={"status": "open"})
    echo = response.json()
    assert echo["path"] == "/v1/tenants/ke-mombasa/referrals"
    assert echo["query"] == "status=open"
    assert response.headers["x-upstream"] == "yes"


def test_percent_encoding_in_the_rest_of_the_path_is_kept(gateway: httpx.Client) -> None:
    echo = gateway.get("/intake/v1/tenants/ke-mombasa/files/a%2Fb").json()
    assert echo["raw_path"] == "/v1/tenants/ke-mombasa/files/a%2Fb"


def test_authorization_is_forwarded_untouched(gateway: httpx.Client) -> None:
    response = gateway.get("/intake/v1/x", headers={"Authorization": "Bearer not-verified-here"})
    assert echoed_headers(response)["authorization"] == "Bearer not-verified-here"


def test_hop_by_hop_request_headers_are_dropped(gateway: httpx.Client) -> None:
    response = gateway.get(
        "/intake/v1/x",
        headers={
            "Connection": "keep-alive, X-Private-Hop",
            "X-Private-Hop": "secret",
            "Proxy-Authorization": "Basic cHJveHk6cHJveHk=",
            "Keep-Alive": "timeout=5",
            "X-Kept": "1",
        },
    )
    headers = echoed_headers(response)
    for name in ("x-private-hop", "proxy-authorization", "keep-alive"):
        assert name not in headers
    assert headers["x-kept"] == "1"


def test_hop_by_hop_response_headers_are_dropped(gateway: httpx.Client) -> None:
    response = gateway.get("/intake/odd-headers")
    assert response.status_code == 201
    assert "proxy-authenticate" not in response.headers
    assert "keep-alive" not in response.headers
    assert response.headers["x-upstream"] == "yes"


def test_upstream_cookies_are_never_replayed_to_other_callers(gateway: httpx.Client) -> None:
    gateway.get("/intake/odd-headers")
    gateway.cookies.clear()
    headers = echoed_headers(gateway.get("/intake/v1/x"))
    assert "cookie" not in headers


def test_forwarded_headers_name_the_caller(gateway: httpx.Client) -> None:
    headers = echoed_headers(gateway.get("/intake/v1/x", headers={"X-Forwarded-For": "10.0.0.9"}))
    assert headers["x-forwarded-for"] == "10.0.0.9, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == gateway.base_url.netloc.decode()


def test_a_valid_traceparent_is_propagated(gateway: httpx.Client) -> None:
    response = gateway.get("/intake/v1/x", headers={"traceparent": TRACEPARENT, "tracestate": "vendor=1"})
    headers = echoed_headers(response)
    assert headers["traceparent"] == TRACEPARENT
    assert headers["tracestate"] == "vendor=1"


@pytest.mark.parametrize("sent", [None, "not-a-traceparent"])
def test_a_traceparent_is_started_when_absent_or_malformed(gateway: httpx.Client, sent: str | None) -> None:
    headers = {"traceparent": sent} if sent else {}
    traceparent = echoed_headers(gateway.get("/intake/v1/x", headers=headers))["traceparent"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", traceparent)


def test_request_bodies_are_forwarded_whole(gateway: httpx.Client) -> None:
    response = gateway.post("/intake/v1/upload", content=b'{"small": true}')
    echo = response.json()
    assert (echo["method"], echo["body_length"]) == ("POST", 15)


def _chunks() -> Iterator[bytes]:
    for start in range(0, len(BIG), 100_000):
        yield BIG[start : start + 100_000]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_large_request_bodies_arrive_intact(gateway: httpx.Client, framing: str) -> None:
    content = BIG if framing == "content-length" else _chunks()
    echo = gateway.put("/intake/v1/upload", content=content).json()
    assert echo["body_length"] == len(BIG)
    assert echo["body_sha256"] == hashlib.sha256(BIG).hexdigest()


def test_large_responses_are_streamed_intact(gateway: httpx.Client) -> None:
    response = gateway.get("/intake/big")
    assert response.status_code == 200
    assert response.content == BIG


def test_unknown_first_segment_is_a_404_problem(gateway: httpx.Client) -> None:
    response = gateway.get("/payroll/v1/anything")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://harambee.example/problems/not-found"


def test_unreachable_service_is_a_502_problem(gateway: httpx.Client) -> None:
    response = gateway.get("/audit/v1/tenants/ke-mombasa/entries")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://harambee.example/problems/bad-gateway"
    assert problem["instance"] == "/audit/v1/tenants/ke-mombasa/entries"


def test_gateway_routes_are_not_forwarded(gateway: httpx.Client) -> None:
    assert gateway.get("/healthz").json() == {"status": "ok"}


# --- the body limit ------------------------------------------------------------------------------

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def limited(signing_key_pem: bytes) -> Iterator[tuple[httpx.Client, list[str]]]:
    """A gateway with a small body limit before an upstream that notes every request reaching it."""
    reached: list[str] = []

    async def noting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            reached.append(scope["path"])
        await upstream(scope, receive, send)

    with serving(noting) as upstream_url:
        settings = gateway_settings(signing_key_pem=signing_key_pem, upstreams={"intake": upstream_url})
        settings = dataclasses.replace(settings, max_body_bytes=LIMIT)
        with serving(create_app(settings)) as gateway_url, httpx.Client(base_url=gateway_url) as c:
            yield c, reached


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/payload-too-large")


def test_an_oversized_body_is_refused_before_it_reaches_the_service(limited: tuple[httpx.Client, list[str]]) -> None:
    gateway, reached = limited
    assert_too_large(gateway.post("/intake/v1/too-big", content=b"x" * (LIMIT + 1)))
    assert "/v1/too-big" not in reached
    assert gateway.post("/intake/v1/just-right", content=b"x" * LIMIT).status_code == 201


def test_an_oversized_streamed_body_is_a_413_problem(limited: tuple[httpx.Client, list[str]]) -> None:
    gateway, _ = limited
    assert_too_large(gateway.post("/intake/v1/streamed", content=iter([b"y" * 16384] * 8)))


@pytest.mark.parametrize("path", ["/oauth/token", "/admin/v1/tenants", "/oauth/authorize"])
def test_an_oversized_body_to_the_gateways_own_routes_is_a_413_problem(
    limited: tuple[httpx.Client, list[str]], path: str
) -> None:
    gateway, _ = limited
    assert_too_large(gateway.post(path, content=b"grant_type=" + b"x" * LIMIT,
                                  headers={"content-type": "application/x-www-form-urlencoded"}))


def test_deeply_nested_json_to_the_admin_api_is_a_client_error(
    limited: tuple[httpx.Client, list[str]], signing_key_pem: bytes
) -> None:
    gateway, _ = limited
    admin = gateway_token(signing_key_pem, client_id="admin", scope="registry:admin",
                          tenants={"platform": ["platform_admin"]})
    depth = LIMIT // 2 - 1
    for nested in (b"[" * depth + b"]" * depth, b'{"a":' * (depth // 5) + b"1" + b"}" * (depth // 5)):
        response = gateway.post("/admin/v1/tenants", content=nested,
                                headers={"Authorization": f"Bearer {admin}", "content-type": "application/json"})
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/problem+json"
