"""Idle connections: every server keeps one open longer than its clients do, so a client never sends on a
connection the server is closing (under the mixed load, the services' 5 s against the gateway's 30 s pool
made such requests 502s)."""

from __future__ import annotations

import socket
import time

import pytest

from harambee_common.components import GATEWAY, SERVICES
from harambee_stack.stack import Stack

IDLE_SECONDS = 7  # past uvicorn's 5 s default, which dropped the connection


def _get_healthz(connection: socket.socket, port: int) -> bytes:
    """One request on the connection, and its whole response (b"" when the server had closed it)."""
    connection.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received or len(received) < _length(received):
        chunk = connection.recv(4096)
        if not chunk:
            return received
        received += chunk
    return received


def _length(response: bytes) -> int:
    """The length of a response whose head has arrived: head, then Content-Length bytes of body."""
    head, _, _ = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").lower().split("\r\n")
    body = next(int(line.split(":", 1)[1]) for line in lines if line.startswith("content-length:"))
    return len(head) + 4 + body


@pytest.mark.parametrize("name", [GATEWAY.name, *(s.name for s in SERVICES)])
def test_an_idle_connection_outlasts_the_gateways_pool(stack: Stack, name: str) -> None:
    port = stack.ports[name]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        assert _get_healthz(connection, port).startswith(b"HTTP/1.1 200"), name
        time.sleep(IDLE_SECONDS)
        assert _get_healthz(connection, port).startswith(b"HTTP/1.1 200"), f"{name} closed an idle connection"
