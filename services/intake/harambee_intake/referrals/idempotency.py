"""Idempotency-Key on POST: a retried request gets the first response and creates nothing new.

The key is claimed with an INSERT in the request's own transaction, so a concurrent retry waits on
the first request's row lock and then sees its committed response; a request that fails rolls the
claim back, so the key can be used again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.problems import Conflict, ValidationFailed
from harambee_intake.problems import IdempotencyKeyReused
from harambee_intake.referrals import repository

KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII: UUIDs, ULIDs, client-made strings


@dataclass(frozen=True)
class Replay:
    """The response stored for a key."""

    status: int
    body: dict[str, Any]
    location: str | None


def request_hash(*, operation: str, body: Any) -> bytes:
    """A digest of what was asked: the operation and the body as canonical JSON."""
    canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).digest()


def claim(
    *, uow: UnitOfWork, principal: TenantPrincipal, key: str, operation: str, body: Any
) -> Replay | None:
    """Claims the key for this request (None), or returns the response the key already has."""
    if not KEY.match(key):
        raise ValidationFailed("Idempotency-Key must be 1 to 200 visible ASCII characters.")
    digest = request_hash(operation=operation, body=body)
    client = principal.principal.client_id
    if repository.claim_idempotency_key(session=uow.session, tenant=uow.tenant, client_id=client,
                                        key=key, request_hash=digest):
        return None
    stored = repository.get_idempotency_key(session=uow.session, client_id=client, key=key)
    if stored is None or stored.status is None or stored.response is None:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was first used with a different request. Use a new key for a "
            "new request, or resend exactly the first request to get its response again."
        )
    return Replay(status=stored.status, body=stored.response, location=stored.location)


def remember(
    *, uow: UnitOfWork, principal: TenantPrincipal, key: str, status: int, body: dict[str, Any],
    location: str | None,
) -> None:
    """Stores the response to the request that claimed the key."""
    repository.store_idempotent_response(session=uow.session, client_id=principal.principal.client_id,
                                         key=key, status=status, response=body, location=location)
