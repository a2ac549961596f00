"""The services' APIs as the console calls them: over HTTP through the gateway, with the person's token.

Nothing here reads a database: an answer the API refuses is a refusal on the page too, with the
API's own status, and a token the API no longer accepts sends the person to sign in again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx


class ApiRefused(Exception):
    """The API said no (or could not answer): its status and, when it sent one, its problem's detail."""

    def __init__(self, status: int, detail: str | None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class TokenRejected(Exception):
    """The API did not accept the token (expired or revoked keys): the person signs in again."""


class ConsoleApi:
    """One page's calls to the APIs, with one person's token."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def get(self, path: str, **params: Any) -> Any:
        """GETs JSON; ApiRefused on anything but 200."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return _json(await self._send("GET", path, params=query))

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        """POSTs JSON; ApiRefused on anything but 2xx."""
        return _json(await self._send("POST", path, json=body))

    async def stream(self, path: str, **params: Any) -> tuple[dict[str, str], AsyncIterator[bytes]]:
        """The response's headers and its body as it arrives (an export can be large)."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        request = self._http.build_request("GET", path, params=query, headers=self._headers)
        response = await self._http.send(request, stream=True)
        if response.status_code != 200:
            await response.aread()
            await response.aclose()
            _check(response)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        return dict(response.headers), body()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiRefused(502, type(exc).__name__) from exc
        _check(response)
        return response


def _check(response: httpx.Response) -> None:
    if response.status_code == 401:
        raise TokenRejected
    if not 200 <= response.status_code < 300:
        detail = None
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            detail = response.json().get("detail")
        raise ApiRefused(response.status_code, detail)


def _json(response: httpx.Response) -> Any:
    return response.json() if response.content else None
