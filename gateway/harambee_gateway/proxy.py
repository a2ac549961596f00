"""Routing to the services: a pure ASGI layer in front of the FastAPI app.

A request whose first path segment names a service is forwarded to it with that segment
stripped; every other request goes on to the gateway's own routes. The hot path avoids FastAPI
and Starlette request objects entirely: headers stay as the raw byte pairs ASGI delivers, and one
shared aiohttp session keeps connections to the services alive.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping

import aiohttp
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from yarl import URL

from harambee_common.auth import TokenVerifier
from harambee_common.problems import MEDIA_TYPE, NotFound, PayloadTooLarge, Problem
from harambee_common.tracing import new_traceparent, trace_id
from harambee_gateway.ratelimit import RateLimiter, TooManyRequests, retry_after

log = logging.getLogger(__name__)

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded. Host is set by the
# client for the upstream connection; date and server are added by the gateway's own server.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_DROP_FROM_REQUEST = _HOP_BY_HOP | {b"host", b"x-forwarded-proto", b"x-forwarded-host"}
_DROP_FROM_RESPONSE = _HOP_BY_HOP | {b"date", b"server"}
# Bodies up to this size are read whole and sent in one ASGI message; larger ones are streamed.
_BUFFER_LIMIT = 256 * 1024
# Idle upstream connections are kept this long: less than the services keep them (KEEP_ALIVE_SECONDS),
# so the gateway, never the service, closes an idle one and no request is sent on a closing connection.
UPSTREAM_KEEPALIVE_SECONDS = 30


class BadGateway(Problem):
    status, slug, title = 502, "bad-gateway", "The service could not be reached"


class GatewayTimeout(Problem):
    status, slug, title = 504, "gateway-timeout", "The service did not answer in time"


class UpstreamPool:
    """One aiohttp session shared by every forwarded request, opened on first use."""

    def __init__(self, *, pool_size: int, connect_timeout: float = 5.0, read_timeout: float = 60.0):
        self._pool_size = pool_size
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session (it must be created inside the server's event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._pool_size, limit_per_host=0, keepalive_timeout=UPSTREAM_KEEPALIVE_SECONDS
                ),
                timeout=self._timeout,
                # Shared by every caller: a cookie set for one client must never reach another.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Closes the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class ServiceProxy:
    """Forwards `/<service>/rest` to `<service URL>/rest`; passes anything else to app.

    With a rate limiter, each forwarded request first spends a token from its client's bucket:
    the client is the verified token's client_id (the signature is checked locally and the result
    cached for the token's lifetime), or the caller's address when there is no valid token.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        upstreams: Mapping[str, str],
        pool: UpstreamPool,
        limiter: RateLimiter | None = None,
        verifier: TokenVerifier | None = None,
    ) -> None:
        self.app = app
        self.pool = pool
        self._upstreams = {segment: base.rstrip("/") for segment, base in upstreams.items()}
        self._limiter = limiter
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        end = path.find("/", 1)
        segment = path[1:end] if end != -1 else path[1:]
        base = self._upstreams.get(segment)
        if base is None:
            await self.app(scope, receive, send)
            return
        if self._limiter is not None:
            wait = self._limiter.take(self._caller(scope))
            if wait:
                problem = TooManyRequests("This client is over its rate limit; retry after the time given.")
                problem.headers["Retry-After"] = retry_after(wait)
                await _send_problem(send, problem, scope["path"])
                return
        await self._forward(scope, receive, send, segment, base)

    def _caller(self, scope: Scope) -> str:
        """The rate-limit key: the verified client id, or the peer address without a valid token."""
        if self._verifier is not None:
            for name, value in scope["headers"]:
                if name == b"authorization":
                    scheme, _, token = value.decode("latin-1").partition(" ")
                    if scheme.lower() == "bearer" and token:
                        try:
                            principal = self._verifier.verify(token.strip())
                        except Problem:
                            break  # not ours to refuse: the service answers 401 itself
                        # A person signs in through a shared app: each person gets their own bucket.
                        if principal.subject != principal.client_id:
                            return f"client:{principal.client_id}:{principal.subject}"
                        return "client:" + principal.client_id
                    break
        client = scope.get("client")
        return "address:" + (client[0] if client else "unknown")

    async def _forward(self, scope: Scope, receive: Receive, send: Send, segment: str, base: str) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        prefix_length = len(segment) + 1
        if raw_path[1:prefix_length] != segment.encode():
            # The segment was percent-encoded in the raw path; refuse rather than guess.
            await _send_problem(send, NotFound("No such route."), scope["path"])
            return
        target = base + (raw_path[prefix_length:].decode("latin-1") or "/")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")

        headers, has_body = _request_headers(scope)
        data: bytes | AsyncIterator[bytes] | None = None
        if has_body:
            message = await receive()
            body = message.get("body", b"")
            data = _stream_body(body, receive) if message.get("more_body") else body

        started = False
        try:
            async with self.pool.session.request(
                scope["method"],
                URL(target, encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
            ) as upstream:
                response_headers = [
                    (name.lower(), value)
                    for name, value in upstream.raw_headers
                    if name.lower() not in _DROP_FROM_RESPONSE
                ]
                length = upstream.content_length
                if length is not None and length <= _BUFFER_LIMIT:
                    content = await upstream.read()
                    started = True
                    await send(
                        {
                            "type": "http.response.start",
                            "status": upstream.status,
                            "headers": response_headers,
                        }
                    )
                    await send({"type": "http.response.body", "body": content})
                    return
                started = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": upstream.status,
                        "headers": response_headers,
                    }
                )
                async for chunk in upstream.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            if started:
                # Too late for a problem document; re-raising makes the server drop the
                # connection, so the client sees a truncated response rather than a whole one.
                log.warning("upstream %s failed mid-response: %r", segment, exc)
                raise
            problem: Problem
            if _body_too_large(exc):
                # A streamed body outgrew the limit (request_limits) part-way: the upstream got an unfinished request.
                problem = PayloadTooLarge("The request body is over the limit.")
                problem.headers["Connection"] = "close"
                await _send_problem(send, problem, scope["path"])
                return
            log.warning("upstream %s unreachable: %r", segment, exc)
            if isinstance(exc, TimeoutError):
                problem = GatewayTimeout(f"The {segment} service did not answer in time.")
            else:
                problem = BadGateway(f"The {segment} service could not be reached.")
            await _send_problem(send, problem, scope["path"])


def _request_headers(scope: Scope) -> tuple[list[tuple[str, str]], bool]:
    """The headers to forward, and whether the request has a body to read."""
    headers: list[tuple[str, str]] = []
    forwarded_for = ""
    host = ""
    traceparent = ""
    tracestate = ""
    has_body = False
    connection_tokens: frozenset[bytes] = frozenset()
    for name, value in scope["headers"]:
        if name == b"connection":
            connection_tokens = frozenset(token.strip().lower() for token in value.split(b",") if token.strip())
        elif name == b"host":
            host = value.decode("latin-1")
        elif name == b"x-forwarded-for":
            forwarded_for = value.decode("latin-1")
        elif name == b"traceparent":
            traceparent = value.decode("latin-1")
        elif name == b"tracestate":
            tracestate = value.decode("latin-1")
        elif name in (b"content-length", b"transfer-encoding"):
            has_body = has_body or value not in (b"0", b"")
    for name, value in scope["headers"]:
        if (
            name in _DROP_FROM_REQUEST
            or name in connection_tokens
            or name in (b"x-forwarded-for", b"traceparent", b"tracestate")
        ):
            continue
        headers.append((name.decode("latin-1"), value.decode("latin-1")))

    client = scope.get("client")
    if client:
        forwarded_for = f"{forwarded_for}, {client[0]}" if forwarded_for else client[0]
    if forwarded_for:
        headers.append(("x-forwarded-for", forwarded_for))
    headers.append(("x-forwarded-proto", scope.get("scheme", "http")))
    if host:
        headers.append(("x-forwarded-host", host))
    # Every request reaching a service carries a trace: the caller's when it sent a valid one,
    # otherwise a new one started here (and the caller's tracestate then belongs to nothing).
    if trace_id(traceparent):
        headers.append(("traceparent", traceparent))
        if tracestate:
            headers.append(("tracestate", tracestate))
    else:
        headers.append(("traceparent", new_traceparent()))
    return headers, has_body


def _body_too_large(exc: BaseException | None) -> bool:
    """Whether the body limit stopped a streamed body (aiohttp wraps the error it raised)."""
    while exc is not None:
        if isinstance(exc, HTTPException) and exc.status_code == 413:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


async def _stream_body(first: bytes, receive: Receive) -> AsyncIterator[bytes]:
    """The request body, chunk by chunk as the client sends it."""
    if first:
        yield first
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("the client disconnected while sending its body")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body"):
            return


async def _send_problem(send: Send, problem: Problem, instance: str) -> None:
    """Sends a problem document from the ASGI layer, where no FastAPI handler is in reach."""
    body = json.dumps(problem.body(instance)).encode()
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
