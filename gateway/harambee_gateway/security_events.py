"""Sign-ins and refused token requests, published for the audit log (references only, never a name)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from harambee_common.events import Event
from harambee_gateway import repository
from harambee_gateway.registry_events import PLATFORM, SOURCE
from harambee_gateway.signin import SecondFactorNeeded, SignedInPerson, SignInFailed

TOPIC = "registry.events"
CLIENT_ID_LIMIT = 64  # a refused request may carry anything as its client id: keep a bounded reference


def record_sign_in(*, db_session: Session, person: SignedInPerson | None, failure: SignInFailed | None,
                   client_id: str | None) -> None:
    """A sign-in, in each tenant the person acts in; a failure, whose person is unproven, in the platform's log."""
    if failure is not None or person is None:
        reason = "second_factor" if isinstance(failure, SecondFactorNeeded) else "credentials"
        repository.add_event(db_session=db_session, event=_event(
            "sign_in.failed", PLATFORM, subject="sign-in", data={"reason": reason, "client_id": _bounded(client_id)}))
        return
    for tenant in sorted(person.tenants):
        repository.add_event(db_session=db_session, event=_event(
            "sign_in.succeeded", tenant, subject=str(person.person_id),
            data={"actor": str(person.person_id), "client_id": _bounded(client_id), "amr": list(person.amr),
                  "via_tenant": person.via_tenant}))


def record_token_refusal(*, db_session: Session, client_id: str | None, grant_type: str | None,
                         status: int, body: bytes) -> None:
    """A token request the gateway refused, with the OAuth error code it answered."""
    try:
        error = str(json.loads(body).get("error", "unknown"))
    except ValueError:
        error = "unknown"
    repository.add_event(db_session=db_session, event=_event(
        "token.refused", PLATFORM, subject="token",
        data={"client_id": _bounded(client_id), "grant_type": _bounded(grant_type), "status": status,
              "error": error[:64]}))


def _event(type_: str, tenant: str, *, subject: str, data: dict) -> Event:
    return Event(type=type_, tenant=tenant, topic=TOPIC, source=SOURCE, subject=subject, data=data)


def _bounded(value: str | None) -> str | None:
    return value[:CLIENT_ID_LIMIT] if value else None
