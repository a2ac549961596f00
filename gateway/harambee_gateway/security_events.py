"""Sign-ins and refused token requests, published for the audit log (references only, never a name).

A refusal that names no registered client is only counted (refusal_counts): anyone can make one,
and one event each would let a loop fill the log.
"""

from __future__ import annotations

import json

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_gateway import repository
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.refusal_counts import RefusalCounter
from harambee_gateway.signin import SecondFactorNeeded, SignedInPerson, SignInFailed

REFERENCE_LIMIT = 64  # a refused request may carry anything as its client id: keep a bounded reference


def record_sign_in(*, uow: UnitOfWork, person: SignedInPerson | None, failure: SignInFailed | None,
                   client_id: str | None, username_key: str | None = None) -> None:
    """A sign-in, in each tenant the person acts in; a failure, whose person is unproven, in the platform's log.

    A failure names the account tried by its keyed hash only (oauth_limits.UsernameKeys).
    """
    if failure is not None or person is None:
        reason = "second_factor" if isinstance(failure, SecondFactorNeeded) else "credentials"
        failed = catalogue.SignInFailed(reason=reason, client_id=_bounded(client_id), username_key=username_key)
        publish(uow, failed, tenant=PLATFORM, subject="sign-in")
        return
    for tenant in sorted(person.tenants):
        succeeded = catalogue.SignInSucceeded(
            actor=str(person.person_id), client_id=_bounded(client_id), amr=list(person.amr),
            via_tenant=person.via_tenant,
        )
        publish(uow, succeeded, tenant=tenant, subject=str(person.person_id))


def record_token_refusal(*, uow: UnitOfWork, counter: RefusalCounter, client_id: str | None,
                         grant_type: str | None, status: int, body: bytes) -> None:
    """A token request the gateway refused, with the OAuth error code it answered; counted when it names no client."""
    try:
        error = str(json.loads(body).get("error", "unknown"))[:REFERENCE_LIMIT]
    except (ValueError, AttributeError):
        error = "unknown"
    if not client_id or not repository.client_exists(db_session=uow.session, client_id=client_id):
        counter.add(error=error)
        return
    refused = catalogue.TokenRefused(client_id=_bounded(client_id), grant_type=_bounded(grant_type), status=status,
                                     error=error)
    publish(uow, refused, tenant=PLATFORM, subject="token")


def _bounded(value: str | None) -> str | None:
    return value[:REFERENCE_LIMIT] if value else None
