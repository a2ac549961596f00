"""Rate limits on what anyone may call unauthenticated: the token endpoint, sign-in and the directory callback.

Each request spends a token from its client address's bucket; one that presents a client secret also
spends its client id's (which bounds guesses at that secret from any number of addresses), and a sign-in
its username's. A public client presents no secret: everyone signing in through it would share its
client id's bucket, so it has none (endpoints._token_response). The limit answers before any password
hash, database write or audit event, so a loop of junk costs the gateway little and the shared database
nothing. Buckets live in this process's memory (ratelimit.RateLimiter): N replicas allow N times the rate.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from harambee_common.openapi_contract import problem_entry
from harambee_gateway.config import GatewaySettings
from harambee_gateway.ratelimit import RateLimiter
from harambee_gateway.secret_box import derive_key

# Attacker-chosen keys are cut to this length, so that a bucket costs little memory whatever is sent.
KEY_LIMIT = 128
USERNAME_KEY_PURPOSE = b"harambee-gateway username key v1"
# The token endpoint's 429, as its OpenAPI operation documents it.
TOO_MANY_TOKEN_REQUESTS: dict[str, Any] = problem_entry(
    429, "Over the rate limit of the client's address or client id: a problem document that also carries an "
         "OAuth `error` (temporarily_unavailable); Retry-After says when to try again.")


class UsernameKeys:
    """Keyed hashes of usernames: one account's attempts can be counted and logged without its name."""

    def __init__(self, key_encryption_key: bytes) -> None:
        self._key = derive_key(key_encryption_key, info=USERNAME_KEY_PURPOSE)

    def of(self, username: str) -> str:
        """The HMAC-SHA256 of the username as sign-in normalises it (hex)."""
        return hmac.new(self._key, username.strip().lower().encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class OAuthLimits:
    """The buckets of the unauthenticated endpoints; a None limiter is a limit turned off."""

    per_address: RateLimiter | None = None
    per_client: RateLimiter | None = None
    per_username: RateLimiter | None = None

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> OAuthLimits:
        """The limits the settings ask for (a rate of 0 turns one off)."""
        return cls(
            per_address=_limiter(settings.oauth_rate_limit_per_second, settings.oauth_rate_limit_burst),
            per_client=_limiter(settings.oauth_rate_limit_per_second, settings.oauth_rate_limit_burst),
            per_username=_limiter(settings.sign_in_attempts_per_minute / 60, settings.sign_in_attempts_burst),
        )

    def wait(self, *, address: str | None, client_id: str | None = None, username_key: str | None = None) -> float:
        """Spends one request: 0 when it may go ahead, else the seconds until it may.

        The buckets are tried in order and a refusal spends nothing further, so a flood from one
        address does not also drain the bucket of the client id or account it names.
        """
        for limiter, key in ((self.per_address, address), (self.per_client, client_id),
                             (self.per_username, username_key)):
            if limiter is not None and key:
                wait = limiter.take(key[:KEY_LIMIT])
                if wait:
                    return wait
        return 0.0


def _limiter(rate: float, burst: float) -> RateLimiter | None:
    return RateLimiter(rate=rate, burst=max(1.0, burst)) if rate > 0 else None


def client_address(request: Request) -> str | None:
    """The peer address a request came from (the gateway is the edge: no forwarded header is trusted)."""
    return request.client.host if request.client else None


def _limits(request: Request) -> OAuthLimits:
    return request.app.state.oauth_limits


OAuthLimitsDep = Annotated[OAuthLimits, Depends(_limits)]
