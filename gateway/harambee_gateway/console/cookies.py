"""The console's cookies: the signed-in session and the sign-in in progress, sealed with AES-GCM.

The session cookie holds the person's access token and a CSRF token; nothing is kept in the gateway,
so any replica can serve any page. Sealed under a key derived from the gateway's key-encryption key (a
retired KEK still opens them during a rotation), bound to the cookie's kind, it can be neither read nor
forged nor swapped for the other cookie. HttpOnly (no script reads it), SameSite=Lax (not sent with
another site's POST), Secure over https, and scoped to /console.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from harambee_gateway.secret_box import SealedSecretUnreadable, SecretBox

SESSION_COOKIE = "harambee_console"
SIGN_IN_COOKIE = "harambee_console_sign_in"
LANGUAGE_COOKIE = "harambee_console_lang"
PATH = "/console"
# A sign-in left half-way (the person never came back from the form) is forgotten after this.
SIGN_IN_TTL_SECONDS = 600


@dataclass(frozen=True)
class Session:
    """A signed-in person: their access token, its expiry, and the CSRF token their forms carry."""

    token: str
    expires_at: int
    csrf: str


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in sent to the gateway's form: what the callback must see again (state) and prove (verifier)."""

    state: str
    verifier: str
    next: str
    expires_at: int


class CookieJar:
    """Seals, opens, sets and clears the console's cookies."""

    def __init__(self, root: bytes, *, secure: bool, retired: tuple[bytes, ...] = ()) -> None:
        self._box = SecretBox(root, purpose=b"harambee-console-cookie-v1", retired=retired)
        self._secure = secure

    def session(self, cookies: dict[str, str]) -> Session | None:
        """The session in the request, if there is one that opens and has not expired."""
        opened = self._open(cookies.get(SESSION_COOKIE), kind=SESSION_COOKIE)
        if opened is None or opened.get("expires_at", 0) <= time.time():
            return None
        return Session(token=opened["token"], expires_at=opened["expires_at"], csrf=opened["csrf"])

    def start_session(self, response: Response, *, token: str, expires_in: int) -> None:
        """Keeps the token in the session cookie, with a fresh CSRF token, until the token expires."""
        value = {"token": token, "expires_at": int(time.time()) + expires_in, "csrf": secrets.token_urlsafe(24)}
        self._set(response, SESSION_COOKIE, self._seal(value, kind=SESSION_COOKIE), max_age=expires_in)

    def pending(self, cookies: dict[str, str]) -> PendingSignIn | None:
        """The sign-in in progress, if it opens and is recent."""
        opened = self._open(cookies.get(SIGN_IN_COOKIE), kind=SIGN_IN_COOKIE)
        if opened is None or opened.get("expires_at", 0) <= time.time():
            return None
        return PendingSignIn(**opened)

    def start_sign_in(self, response: Response, *, state: str, verifier: str, next_page: str) -> None:
        """Remembers the sign-in sent to the gateway's form."""
        value = {"state": state, "verifier": verifier, "next": next_page,
                 "expires_at": int(time.time()) + SIGN_IN_TTL_SECONDS}
        self._set(response, SIGN_IN_COOKIE, self._seal(value, kind=SIGN_IN_COOKIE), max_age=SIGN_IN_TTL_SECONDS)

    def end_sign_in(self, response: Response) -> None:
        """Forgets the sign-in in progress (it is used once)."""
        response.delete_cookie(SIGN_IN_COOKIE, path=PATH, secure=self._secure, httponly=True, samesite="lax")

    def end_session(self, response: Response) -> None:
        """Signs out: the token leaves the browser."""
        response.delete_cookie(SESSION_COOKIE, path=PATH, secure=self._secure, httponly=True, samesite="lax")

    def set_language(self, response: Response, language: str) -> None:
        """Remembers the language the person chose (a preference, not a secret)."""
        self._set(response, LANGUAGE_COOKIE, language, max_age=365 * 86400)

    def _set(self, response: Response, name: str, value: str, *, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=PATH, secure=self._secure, httponly=True,
                            samesite="lax")

    def _seal(self, value: dict[str, Any], *, kind: str) -> str:
        return base64.urlsafe_b64encode(self._box.seal(json.dumps(value), bound_to=kind)).decode()

    def _open(self, raw: str | None, *, kind: str) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            return json.loads(self._box.open(base64.urlsafe_b64decode(raw.encode()), bound_to=kind))
        except (SealedSecretUnreadable, binascii.Error, ValueError):
            return None
