"""The console's settings, read once when the gateway starts."""

from __future__ import annotations

import os
from dataclasses import dataclass

from harambee_common.components import GATEWAY

# The public client people sign in through; `seed-demo` registers it, an operator registers their own.
CLIENT_NAME = "harambee-console"
CALLBACK_PATH = "/console/callback"
# What the console may ask for; each person's token narrows it to what their roles allow. plans:write lets a
# programme manager close a stalled-plan or overdue flag with the action taken.
SCOPES = ("aggregates:read", "audit:read", "cases:read", "plans:write", "referrals:read")


@dataclass(frozen=True)
class ConsoleSettings:
    """Where the browser reaches the gateway, where the console calls the APIs, and its client."""

    public_url: str
    api_url: str
    client_id: str | None
    request_timeout_seconds: float

    @classmethod
    def from_env(cls, *, issuer: str) -> ConsoleSettings:
        """CONSOLE_API_URL and CONSOLE_CLIENT_ID (default: the registry's client named harambee-console).

        The APIs are called through the gateway, by default at its own port on the loopback interface: the
        same routing, rate limits and checks as from outside, without leaving the pod (a network policy
        may rightly keep the public URL out of reach from inside). Set CONSOLE_API_URL when the gateway
        listens on one address only (HOST other than 127.0.0.1 or 0.0.0.0).
        """
        own_port = os.environ.get("PORT", str(GATEWAY.port))
        return cls(
            public_url=issuer.rstrip("/"),
            api_url=os.environ.get("CONSOLE_API_URL", f"http://127.0.0.1:{own_port}").rstrip("/"),
            client_id=os.environ.get("CONSOLE_CLIENT_ID") or None,
            request_timeout_seconds=float(os.environ.get("CONSOLE_API_TIMEOUT_SECONDS", "20")),
        )

    @property
    def redirect_uri(self) -> str:
        """Where the sign-in returns the browser (registered exactly on the console's client)."""
        return self.public_url + CALLBACK_PATH

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever the gateway is reached over https."""
        return self.public_url.startswith("https://")
