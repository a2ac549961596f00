"""The HTTP server's own bounds: a request line or header block past them is refused before the app sees it.

uvicorn's httptools protocol buffers a request's whole target and header block, without bound, before
the app is called (a 1 MiB header was read, and forwarded by the gateway, before this), and answers what
it cannot parse in plain text. `BoundedHttpProtocol` stops reading a request at MAX_URL_BYTES (414),
MAX_HEADER_BYTES or MAX_HEADERS (431), answers those and a malformed request's 400 as problem documents,
and closes the connection. Every component's `serve` runs it (`uvicorn.run(..., http=BoundedHttpProtocol)`).
"""

from __future__ import annotations

import json
import os
from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from harambee_common.problems import MEDIA_TYPE, HeadersTooLarge, MalformedRequest, Problem, UriTooLong

# Far above what our clients send (a cursor is at most 1,000 characters; a token a few KiB).
DEFAULT_MAX_URL_BYTES = 16 * 1024
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_HEADERS = 100
# How long every component's server keeps an idle connection open. It must outlast what any client of ours
# keeps one for (the gateway's upstream pool: proxy.UPSTREAM_KEEPALIVE_SECONDS), so that the client always
# closes first: with uvicorn's 5 s default the service closed connections the gateway was just reusing,
# and the request on them became a 502 (seen under the mixed load). 75 s is nginx's default.
KEEP_ALIVE_SECONDS = 75


class _Refused(Exception):
    """Raised inside a parser callback: the parser stops, and send_400_response answers the refusal."""


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with bounds on the request target and headers, and problem documents."""

    max_url_bytes = int(os.environ.get("MAX_URL_BYTES", DEFAULT_MAX_URL_BYTES))
    max_header_bytes = int(os.environ.get("MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES))
    max_headers = int(os.environ.get("MAX_HEADERS", DEFAULT_MAX_HEADERS))
    _refusal: Problem | None = None
    _header_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refusal = None
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > self.max_url_bytes:
            self._refusal = UriTooLong(f"Request targets are limited to {self.max_url_bytes} bytes.")
            raise _Refused
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > self.max_header_bytes or len(self.headers) >= self.max_headers:
            self._refusal = HeadersTooLarge(
                f"Headers are limited to {self.max_headers} fields and {self.max_header_bytes} bytes in all.")
            raise _Refused
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:  # noqa: ARG002 (uvicorn's plain-text message is replaced)
        """Answers a request the parser refused (or could not read) with a problem document, and closes."""
        problem = self._refusal or MalformedRequest("The request is not valid HTTP/1.1.")
        body = json.dumps(problem.body()).encode()
        head = [f"HTTP/1.1 {problem.status} {HTTPStatus(problem.status).phrase}\r\n".encode()]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [f"content-type: {MEDIA_TYPE}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
