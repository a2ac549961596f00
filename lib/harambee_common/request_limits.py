"""A bound on request bodies, enforced before anything parses them (and before authentication)."""

from __future__ import annotations

import os

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harambee_common.problems import PayloadTooLarge, problem_response

# Generous for a referral with its free-text fields; a client that needs more is doing something else.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def max_body_bytes() -> int:
    """The limit from MAX_BODY_BYTES, or the default."""
    return int(os.environ.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


class _TooLarge(HTTPException):
    """The body grew past the limit while it was read.

    An HTTPException, so that FastAPI's body parsing lets it through (it turns other errors into a
    400) and the app's problem handler answers 413.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    """Answers 413 (a problem document) to a body over the limit: declared, or counted as it streams in."""

    def __init__(self, app: ASGIApp, *, limit: int | None = None) -> None:
        self.app = app
        self.limit = max_body_bytes() if limit is None else limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            # Raised through an app that reads the body itself (the gateway's proxy streams it upstream):
            # answer here, unless a response is already under way (then there is nothing to add).
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = PayloadTooLarge(f"Request bodies are limited to {self.limit} bytes.")
        problem.headers["Connection"] = "close"  # the rest of the body is not read
        await problem_response(problem, scope.get("path"))(scope, receive, send)
