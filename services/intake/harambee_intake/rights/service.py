"""The person's rights (Kenya Data Protection Act 2019): access, rectification, erasure; each tracked.

Access gathers intake's part (rights.export: the person's own data; what is about others only as an
officer releases it) and asks the other services for theirs by subject reference:

    GET {service}/v1/tenants/{tenant}/subjects/{subject_ref}/export   (the caller's token forwarded)

answering 200 with a JSON object of what the service holds about that reference. The services
configured in INTAKE_SUBJECT_EXPORT_SOURCES ("assessment=http://127.0.0.1:8102,...", read at
startup into the app's IntakeConfig) are asked; a
part that cannot be gathered is named in the request's `gaps` and the request stays open.

Erasure destroys the person's data key (crypto-shredding): everything sealed under it is
unreadable wherever a copy is, and `subject.erased` tells the other services to delete or
anonymise what they hold by that reference.

Every closing of a request keeps who closed it and the reason they gave, sealed with the request's note
under the person's key (staff's words may name the person). An erasure keeps who erased them and why with
the subject, where it outlasts the key.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.intake import (
    RightsRequestClosed,
    RightsRequestProcessed,
    RightsRequestReceived,
    SubjectErased,
    SubjectRectified,
)
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import ValidationFailed, or_not_found
from harambee_intake import matching
from harambee_intake.events import EVENTS
from harambee_intake.models import RightsRequest, Subject
from harambee_intake.preconditions import require_match
from harambee_intake.problems import InvalidState
from harambee_intake.rights import export, repository
from harambee_intake.rights.schemas import AccessRelease, RectificationIn, RightsRequestIn
from harambee_intake.subjects import repository as subjects_repository
from harambee_intake.subjects import service as subjects
from harambee_intake.tenant_settings import service as tenant_settings
from harambee_intake.vault import Vault

EXPORT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Erasure:
    """What an erasure did."""

    subject_ref: uuid.UUID
    erased: list[uuid.UUID]
    at: datetime
    cleared: dict[str, int]


def open_request(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, subject_id: uuid.UUID,
    request_in: RightsRequestIn,
) -> RightsRequest:
    """Records a request and its statutory due date (the tenant's `rights_deadlines`)."""
    subject = _subject(uow, subject_id)
    deadlines = tenant_settings.typed(uow=uow, name="rights_deadlines")
    received = request_in.received_at or datetime.now(UTC)
    received = received if received.tzinfo else received.replace(tzinfo=UTC)
    if received > datetime.now(UTC) + timedelta(minutes=5):
        raise ValidationFailed("A request cannot be received in the future.")
    request_id = uuid.uuid4()
    sealed = None
    if request_in.note and subject.wrapped_key is not None:
        key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
        sealed = key.seal({"note": request_in.note}, context=context(request_id))
    request = RightsRequest(
        id=request_id, tenant_id=uow.tenant, subject_id=subject.id, kind=request_in.kind,
        requested_by=request_in.requested_by, received_at=received,
        due_at=received + timedelta(days=getattr(deadlines, f"{request_in.kind}_days")), status="open",
        sealed=sealed, gaps=[], recorded_by=principal.actor, version=1,
    )
    repository.add_rights_request(session=uow.session, request=request)
    EVENTS.publish(uow, RightsRequestReceived(request_id=request.id, subject_ref=subject.id, kind=request_in.kind,
                                              due_at=request.due_at, actor=principal.actor), subject=str(subject.id))
    return request


def get_request(*, uow: UnitOfWork, request_id: uuid.UUID) -> RightsRequest:
    """A rights request."""
    return or_not_found(repository.lock_rights_request(session=uow.session, request_id=request_id), "No such request.")


def list_requests(
    *, uow: UnitOfWork, status: str | None, overdue: bool, cursor: str | None, limit: int
) -> Slice[RightsRequest]:
    """Rights requests, soonest due first; `overdue` keeps the open ones past their due date."""
    if overdue:
        status = "open"
    return repository.list_rights_requests(session=uow.session, status=status,
                                           due_before=datetime.now(UTC) if overdue else None,
                                           cursor=cursor, limit=limit)


def fulfil_access(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, request_id: uuid.UUID,
    authorization: str | None, sources: dict[str, str], release: AccessRelease | None = None,
) -> tuple[RightsRequest, dict[str, Any]]:
    """Gathers everything held about the person (rights.export says what of others); fulfilled once every
    part is in. The export, what it released and withheld, and the read are recorded first."""
    request = get_request(uow=uow, request_id=request_id)
    if request.kind != "access":
        raise InvalidState("Only an access request is fulfilled by gathering the person's data.")
    if request.status != "open":
        raise InvalidState(f"This request is {request.status}.")
    built = export.build(uow=uow, vault=vault, subject_id=request.subject_id, release=release)
    document = built.document
    refs = document["subject_refs"]
    others, gaps = gather(tenant=uow.tenant, subject_refs=refs, authorization=authorization, sources=sources)
    document["other_services"] = others
    stored = export.record(uow=uow, vault=vault, request=request, export=built, actor=principal.actor,
                           release=release)
    EVENTS.record_access(uow, principal=principal, subject=document["subject_ref"],
                         resource=f"subject/{document['subject_ref']}/export", fields=export.released_parts(built),
                         purpose="rights:access")
    now = datetime.now(UTC)
    request.last_attempt_at, request.gaps, request.version = now, gaps, request.version + 1
    if not gaps:
        _close(request, outcome="fulfilled", actor=principal.actor)
    EVENTS.publish(uow, RightsRequestProcessed(
        request_id=request.id, subject_ref=uuid.UUID(document["subject_ref"]), kind="access", complete=not gaps,
        missing=[g["service"] for g in gaps], actor=principal.actor, export_id=stored.id,
        released=built.released, withheld=built.withheld), subject=document["subject_ref"])
    return request, document


def close_request(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, request_id: uuid.UUID,
    outcome: Literal["fulfilled", "refused"], reason: str,
) -> RightsRequest:
    """Closes a request by hand: refused with a reason, or fulfilled outside the system."""
    request = get_request(uow=uow, request_id=request_id)
    if request.status != "open":
        raise InvalidState(f"This request is {request.status}.")
    _close(request, outcome=outcome, actor=principal.actor)
    _seal_reason(uow, vault, request, reason)
    EVENTS.publish(uow, RightsRequestClosed(request_id=request.id, subject_ref=request.subject_id, kind=request.kind,
                                            outcome=outcome, actor=principal.actor), subject=str(request.subject_id))
    return request


def gather(
    *, tenant: str, subject_refs: list[str], authorization: str | None, sources: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Asks each other service for its part by subject reference; returns the parts and the gaps."""
    parts: dict[str, Any] = {}
    gaps: list[dict[str, Any]] = []
    if not sources:
        gaps.append({"service": "*", "reason": "No other services are configured (INTAKE_SUBJECT_EXPORT_SOURCES); "
                                               "their data about the person has not been gathered."})
        return parts, gaps
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(timeout=EXPORT_TIMEOUT_SECONDS, follow_redirects=False) as client:
        for name, base in sorted(sources.items()):
            parts[name] = {}
            for ref in subject_refs:
                url = f"{base}/v1/tenants/{tenant}/subjects/{ref}/export"
                try:
                    response = client.get(url, headers=headers)
                except httpx.HTTPError as exc:
                    gaps.append({"service": name, "subject_ref": ref, "reason": f"unreachable ({type(exc).__name__})"})
                    continue
                if response.status_code == 200:
                    try:
                        parts[name][ref] = response.json()
                    except json.JSONDecodeError:
                        gaps.append({"service": name, "subject_ref": ref, "reason": "answered with something not JSON"})
                    continue
                gaps.append({"service": name, "subject_ref": ref, "status": response.status_code,
                             "reason": "the service has no subject export endpoint yet, or refused"
                             if response.status_code in (404, 405) else f"HTTP {response.status_code}"})
    return parts, gaps


def rectify(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, subject_id: uuid.UUID, change: RectificationIn,
    if_match: str | None,
) -> tuple[Subject, list[str]]:
    """Corrects identifying fields: re-sealed under the same key, the blind index recomputed. Audited."""
    subject = or_not_found(subjects_repository.lock_subject(session=uow.session, subject_id=subject_id),
                           "No such subject.")
    require_match(if_match=if_match, version=subject.version)
    key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
    updates = change.set.model_dump(mode="json", exclude_none=True)
    if "guardians" in updates:
        updates["guardians"] = json.dumps(updates["guardians"], separators=(",", ":"))
    changed = sorted(set(updates) | set(change.remove))
    if not changed:
        raise ValidationFailed("Name at least one field to set or remove.")
    if set(updates) & set(change.remove):
        raise ValidationFailed("A field cannot be both set and removed.")
    identity = {name: value for name, value in subjects.open_identity(key, subject=subject).items()
                if name not in change.remove}
    if "guardians" in identity and not isinstance(identity["guardians"], str):
        identity["guardians"] = json.dumps(identity["guardians"], separators=(",", ":"))
    identity.update(updates)
    sealed = dict(subject.identity)
    for name in change.remove:
        sealed.pop(name, None)
    sealed.update(subjects.seal_identity(key, subject_id=subject.id, identity=updates))
    subject.identity, subject.version = sealed, subject.version + 1
    digests = matching.digests(vault.blind_index_key(uow.tenant), identity)
    subjects_repository.delete_index(session=uow.session, subject_ids=[subject.id])
    subjects_repository.add_index(session=uow.session, tenant=uow.tenant, subject_id=subject.id,
                         digests=[(d.kind, d.value) for d in digests])
    linked = _fulfil_linked(uow, change.rights_request_id, kind="rectification", subject_ids=[subject.id],
                            actor=principal.actor)
    if linked is not None:
        _seal_reason(uow, vault, linked, change.reason)
    EVENTS.publish(uow, SubjectRectified(subject_ref=subject.id, fields=changed, actor=principal.actor,
                                         request_id=change.rights_request_id), subject=str(subject.id))
    return subject, changed


def erase(
    *, uow: UnitOfWork, principal: TenantPrincipal, subject_id: uuid.UUID, reason: str,
    rights_request_id: uuid.UUID | None,
) -> Erasure:
    """Erases a person (with every subject merged into theirs) by destroying their data keys."""
    found = subjects.history(uow=uow, subject_id=subject_id)
    erasure = erase_members(uow=uow, root=found.subject_ref, members=found.members, actor=principal.actor,
                            cause="rights_request" if rights_request_id else "erasure", reason=reason)
    # The person's key is gone: the reason stays with the erased subjects (erase_members), not sealed here.
    _fulfil_linked(uow, rights_request_id, kind="erasure", subject_ids=found.members, actor=principal.actor)
    return erasure


def erase_members(
    *, uow: UnitOfWork, root: uuid.UUID, members: list[uuid.UUID], actor: str,
    cause: Literal["erasure", "rights_request", "retention"], reason: str,
) -> Erasure:
    """Destroys the keys of these subjects, keeping who did it and why, and raises `subject.erased` for each."""
    live = [s.id for s in subjects_repository.lock_subjects(session=uow.session, subject_ids=members)
            if s.erased_at is None]
    if not live:
        raise InvalidState("This person's data has already been erased.")
    now = datetime.now(UTC)
    cleared = repository.erase_subjects(session=uow.session, subject_ids=live, at=now, by=actor, reason=reason)
    for member in live:
        EVENTS.publish(uow, SubjectErased(subject_ref=member, erased_at=now, cause=cause, actor=actor),
                       subject=str(member))
    return Erasure(subject_ref=root, erased=live, at=now, cleared=cleared)


def _fulfil_linked(
    uow: UnitOfWork, request_id: uuid.UUID | None, *, kind: str, subject_ids: list[uuid.UUID], actor: str
) -> RightsRequest | None:
    if request_id is None:
        return None
    request = repository.lock_rights_request(session=uow.session, request_id=request_id)
    if request is None or request.kind != kind or request.subject_id not in subject_ids:
        raise ValidationFailed(f"rights_request_id does not name an open {kind} request about this person.")
    if request.status != "open":
        raise InvalidState(f"The request is {request.status}.")
    _close(request, outcome="fulfilled", actor=actor)
    return request


def _close(request: RightsRequest, *, outcome: str, actor: str) -> None:
    request.status, request.outcome = outcome, outcome
    request.closed_at, request.closed_by, request.version = datetime.now(UTC), actor, request.version + 1


def _seal_reason(uow: UnitOfWork, vault: Vault, request: RightsRequest, reason: str) -> None:
    """Keeps why a request was closed, sealed with its note under the person's key.

    About a person already erased (or moved to another county) nothing can be sealed here: the words go,
    and who closed the request, when and how stays.
    """
    subject = subjects_repository.get_subject(session=uow.session, subject_id=request.subject_id)
    if subject is None or subject.wrapped_key is None:
        return
    key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
    request.sealed = {**(request.sealed or {}), **key.seal({"closure_reason": reason}, context=context(request.id))}


def context(request_id: uuid.UUID) -> str:
    """What a rights request's sealed fields are bound to."""
    return f"rights:{request_id}"


def _subject(uow: UnitOfWork, subject_id: uuid.UUID) -> Subject:
    return or_not_found(subjects_repository.get_subject(session=uow.session, subject_id=subject_id), "No such subject.")

