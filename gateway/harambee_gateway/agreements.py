"""Data-sharing agreements: created as drafts, then activated, suspended, expired or terminated.

Every change adds a version (the old ones stay as the record of what was agreed when) and is
published on `registry.events` with the agreement's full terms, which are not personal data.
Only an active version within its validity dates permits anything; services apply that rule to
their local copy on every request, so `in_force` here is a convenience, not the enforcement.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found
from harambee_gateway import repository
from harambee_gateway.events import publish
from harambee_gateway.models import Agreement, AgreementParty, AgreementVersion
from harambee_gateway.schemas import AgreementCreate, AgreementStatus, AgreementTerms, AgreementView

# The statuses a change may start from, by the status it leads to.
TRANSITIONS: dict[AgreementStatus, frozenset[AgreementStatus]] = {
    "active": frozenset({"draft", "suspended"}),
    "suspended": frozenset({"active"}),
    "terminated": frozenset({"draft", "active", "suspended"}),
    "expired": frozenset({"draft", "active", "suspended"}),
}


def today() -> date:
    """Today's date in UTC, the calendar agreements' validity is counted in."""
    return datetime.now(UTC).date()


def create_agreement(*, uow: UnitOfWork, data: AgreementCreate, actor: str) -> AgreementView:
    """Records a new agreement as a draft (version 1); it permits nothing until activated."""
    if repository.get_agreement_by_reference(db_session=uow.session, reference=data.reference) is not None:
        raise Conflict(f"An agreement {data.reference!r} exists already.")
    owner = _check_terms(uow=uow, terms=data)
    if data.valid_until < today():
        raise ValidationFailed("The agreement's validity has ended already.")
    agreement = Agreement(id=uuid.uuid4(), reference=data.reference, tenant=owner)
    repository.add(db_session=uow.session, row=agreement)
    for party in data.parties:
        repository.add(
            db_session=uow.session,
            row=AgreementParty(agreement_id=agreement.id, kind=party.kind, party=party.id, role=party.role),
        )
    terms = AgreementTerms.model_validate(data.model_dump(exclude={"reference"}))
    return _add_version(
        uow=uow, agreement=agreement, version=1, status="draft", terms=terms, actor=actor, reason=None
    )


def change_status(
    *, uow: UnitOfWork, agreement_id: uuid.UUID, status: AgreementStatus, actor: str, reason: str | None
) -> AgreementView:
    """Moves an agreement to a new status as a new version; refuses changes its status does not allow."""
    agreement = _get(uow=uow, agreement_id=agreement_id)
    # No lock: two concurrent changes both write version n + 1, and the primary key refuses one.
    current = repository.latest_version(db_session=uow.session, agreement_id=agreement_id)
    if current.status not in TRANSITIONS[status]:
        raise Conflict(f"An agreement that is {current.status} cannot become {status}.")
    if status == "active" and current.valid_until < today():
        raise Conflict("The agreement's validity has ended; record a new agreement instead.")
    return _add_version(
        uow=uow,
        agreement=agreement,
        version=current.version + 1,
        status=status,
        terms=AgreementTerms.model_validate(current.terms),
        actor=actor,
        reason=reason,
    )


def expire_lapsed(*, uow: UnitOfWork, on: date, actor: str) -> list[AgreementView]:
    """Marks every agreement whose validity ended before `on` as expired."""
    expired = []
    for agreement_id in repository.lapsed_agreement_ids(db_session=uow.session, today=on):
        expired.append(
            change_status(
                uow=uow,
                agreement_id=agreement_id,
                status="expired",
                actor=actor,
                reason="The validity period ended.",
            )
        )
    return expired


def get_agreement(*, uow: UnitOfWork, agreement_id: uuid.UUID) -> AgreementView:
    """The agreement in its current version."""
    agreement = _get(uow=uow, agreement_id=agreement_id)
    current = repository.latest_version(db_session=uow.session, agreement_id=agreement_id)
    return _view(agreement=agreement, version=current)


def list_versions(*, uow: UnitOfWork, agreement_id: uuid.UUID) -> list[AgreementView]:
    """Every version of an agreement, oldest first."""
    agreement = _get(uow=uow, agreement_id=agreement_id)
    versions = repository.list_versions(db_session=uow.session, agreement_id=agreement_id)
    return [_view(agreement=agreement, version=v) for v in versions]


def list_agreements(
    *, uow: UnitOfWork, party: str | None, status: AgreementStatus | None, cursor: str | None, limit: int
) -> Slice[AgreementView]:
    """A page of agreements in their current version; party is `slug`, `tenant:slug` or `organisation:slug`."""
    parsed: tuple[str | None, str] | None = None
    if party:
        kind, _, slug = party.rpartition(":")
        if kind not in ("", "tenant", "organisation"):
            raise ValidationFailed("party is a slug, tenant:<slug> or organisation:<slug>.")
        parsed = (kind or None, slug)
    found = repository.list_current_agreements(
        db_session=uow.session, party=parsed, status=status, cursor=cursor, limit=limit
    )
    shown = [_view(agreement=agreement, version=version) for agreement, version in found.rows]
    return Slice(rows=shown, next_cursor=found.next_cursor)


def _get(*, uow: UnitOfWork, agreement_id: uuid.UUID) -> Agreement:
    agreement = repository.get_agreement(db_session=uow.session, agreement_id=agreement_id)
    return or_not_found(agreement, "No such agreement.")


def _view(*, agreement: Agreement, version: AgreementVersion) -> AgreementView:
    """One version of an agreement as the API and events show it."""
    on = today()
    return AgreementView.model_validate(
        {
            **version.terms,
            "id": agreement.id,
            "reference": agreement.reference,
            "tenant": agreement.tenant,
            "version": version.version,
            "status": version.status,
            "in_force": version.status == "active" and version.valid_from <= on <= version.valid_until,
            "changed_by": version.changed_by,
            "reason": version.reason,
            "changed_at": version.created_at,
        }
    )


def _add_version(
    *,
    uow: UnitOfWork,
    agreement: Agreement,
    version: int,
    status: AgreementStatus,
    terms: AgreementTerms,
    actor: str,
    reason: str | None,
) -> AgreementView:
    row = AgreementVersion(
        agreement_id=agreement.id,
        version=version,
        status=status,
        terms=terms.model_dump(mode="json"),
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        changed_by=actor,
        reason=reason,
    )
    repository.add(db_session=uow.session, row=row)
    uow.session.refresh(row)
    shown = _view(agreement=agreement, version=row)
    # The full terms travel with every change; whether it is in force today is each reader's to decide.
    data = shown.model_dump(exclude={"in_force", "changed_by"})
    event = catalogue.AGREEMENT_EVENT_OF_STATUS[status].model_validate({**data, "actor": actor})
    publish(uow, event, tenant=agreement.tenant, subject=str(agreement.id))
    return shown


def _check_terms(*, uow: UnitOfWork, terms: AgreementTerms) -> str:
    """Checks parties, dates and operations; returns the owning tenant (the disclosing controller)."""
    keys = [(p.kind, p.id) for p in terms.parties]
    if len(set(keys)) != len(keys):
        raise ValidationFailed("A party is named twice.")
    tenants = repository.existing_tenants(
        db_session=uow.session, slugs=[p.id for p in terms.parties if p.kind == "tenant"]
    )
    organisations = repository.existing_organisations(
        db_session=uow.session, slugs=[p.id for p in terms.parties if p.kind == "organisation"]
    )
    for party in terms.parties:
        known = tenants if party.kind == "tenant" else organisations
        if party.id not in known or (party.kind == "tenant" and known[party.id].kind == "platform"):
            raise ValidationFailed(f"Unknown {party.kind} {party.id!r}.")
    controllers = [p.id for p in terms.parties if p.kind == "tenant" and p.role == "controller"]
    if not controllers:
        raise ValidationFailed("A programme tenant must be a controller party: the one that discloses the data.")
    owner = controllers[0]
    for party in terms.parties:
        if party.kind == "organisation" and owner not in organisations[party.id].tenants:
            raise ValidationFailed(f"The organisation {party.id!r} does not work in {owner!r}.")
    if terms.valid_until < terms.valid_from:
        raise ValidationFailed("valid_until is before valid_from.")
    if not terms.valid_from <= terms.review_date <= terms.valid_until:
        raise ValidationFailed("The review date falls within the validity period.")
    if terms.onward_sharing.to and not terms.onward_sharing.allowed:
        raise ValidationFailed("Onward recipients are named but onward sharing is not allowed.")
    fields = [c.name for c in terms.data_categories]
    if len(set(fields)) != len(fields):
        raise ValidationFailed("A data category is named twice.")
    return owner
