"""Screening: the cheap outcomes quick, the expensive ones deliberate, each with its required reason.

- escalate: a crime committed or imminent, or a risk to life. The screener is handed the tenant's
  designated contact at once; the event says only that the referral was escalated.
- signpost: a real need unrelated to radicalisation, to a named service.
- no_further_action: malicious, misguided, out of scope or insufficient information.
- accept: for information gathering and assessment; raises `referral.accepted`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.intake import ReferralAccepted, ReferralScreened
from harambee_common.db import UnitOfWork
from harambee_common.problems import or_not_found
from harambee_intake.events import EVENTS
from harambee_intake.models import Referral, Screening
from harambee_intake.preconditions import require_match
from harambee_intake.problems import InvalidState, UnknownCode
from harambee_intake.referrals import repository as referrals_repository
from harambee_intake.screening import repository
from harambee_intake.screening.schemas import Accept, Escalate, EscalationContact, NoFurtherAction, Signpost
from harambee_intake.subjects import repository as subjects_repository
from harambee_intake.subjects.service import subject_key
from harambee_intake.tenant_settings import service as tenant_settings
from harambee_intake.vault import Vault
from harambee_intake.vocabularies import service as vocabularies
from harambee_intake.webhooks import service as webhooks

NO_CONTACT = (
    "No designated escalation contact is configured for this tenant. Contact the police or "
    "emergency services directly, now (999 or 112), then ask your programme manager to set one."
)
SCREENABLE = ("received", "screening")


@dataclass(frozen=True)
class Decision:
    """A screening decision with the screener's words opened, for staff."""

    screening: Screening
    referral: Referral
    note: str | None
    service_detail: str | None = None


def screen(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_id: uuid.UUID,
    decision: Escalate | Signpost | NoFurtherAction | Accept, if_match: str | None,
) -> Decision:
    """Records the screening outcome of a referral, if the screener saw its current version."""
    referral = or_not_found(referrals_repository.lock_referral(session=uow.session, referral_id=referral_id),
                            "No such referral.")
    require_match(if_match=if_match, version=referral.version)
    if referral.status not in SCREENABLE:
        raise InvalidState(f"This referral was already screened ({referral.outcome}).")
    now = datetime.now(UTC)
    previous = referral.partner_status
    reason, detail, handoff = _reason(uow, decision)
    subject = subjects_repository.get_subject(session=uow.session, subject_id=referral.subject_id)
    if subject is None:  # a referral stays with its county when the person's case moves to another
        raise InvalidState("The person this referral is about has moved to another county's programme.")
    screening_id = uuid.uuid4()
    sealed = None
    if decision.note or detail:
        key = subject_key(vault=vault, tenant=uow.tenant, subject=subject)
        sealed = key.seal({"note": decision.note, "service_detail": detail}, context=f"screening:{screening_id}")
    screening = Screening(
        id=screening_id, tenant_id=uow.tenant, referral_id=referral.id, outcome=decision.outcome,
        reason=reason, sealed=sealed, handoff=handoff, decided_by=principal.actor, decided_at=now,
    )
    repository.add_screening(session=uow.session, screening=screening)
    referral.status, referral.outcome = "screened", decision.outcome
    referral.screened_at, referral.screened_by = now, principal.actor
    referral.screener = referral.screener or principal.actor
    referral.screening_seconds = int((now - referral.received_at).total_seconds())
    referral.touch()
    _publish(uow, referral, reason=reason)
    webhooks.status_changed(uow=uow, referral=referral, previous=previous)
    return Decision(screening=screening, referral=referral, note=decision.note, service_detail=detail)


def read_decision(*, uow: UnitOfWork, vault: Vault, referral: Referral) -> Decision | None:
    """A referral's screening decision with the screener's words opened (the caller records the read)."""
    screening = repository.latest_screening(session=uow.session, referral_id=referral.id)
    if screening is None:
        return None
    opened: dict[str, Any] = {}
    if screening.sealed:
        subject = subjects_repository.get_subject(session=uow.session, subject_id=referral.subject_id)
        if subject is not None and subject.wrapped_key is not None:
            key = subject_key(vault=vault, tenant=uow.tenant, subject=subject)
            opened = key.open(screening.sealed, context=f"screening:{screening.id}")
    return Decision(screening=screening, referral=referral, note=opened.get("note"),
                    service_detail=opened.get("service_detail"))


def timeliness(
    *, uow: UnitOfWork, received_from: datetime | None, received_to: datetime | None
) -> dict[str, Any]:
    """Receipt-to-screening times for referrals received in a period (default: the last 90 days)."""
    end = received_to or datetime.now(UTC)
    start = received_from or end - timedelta(days=90)
    per_outcome, awaiting = repository.screening_timeliness(session=uow.session, start=start, end=end)

    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / 3600, 2)

    rows = [{"outcome": r.outcome, "screened": r.screened, "median_hours": hours(r.p50),
             "p90_hours": hours(r.p90)} for r in per_outcome]
    overall = next((r for r in rows if r["outcome"] is None),
                   {"outcome": None, "screened": 0, "median_hours": None, "p90_hours": None})
    return {"received_from": start, "received_to": end, "overall": overall,
            "by_outcome": sorted((r for r in rows if r["outcome"] is not None), key=lambda r: r["outcome"]),
            "awaiting_screening": awaiting.awaiting, "oldest_awaiting_since": awaiting.oldest}


def _reason(
    uow: UnitOfWork, decision: Escalate | Signpost | NoFurtherAction | Accept
) -> tuple[str | None, str | None, dict[str, Any] | None]:
    if isinstance(decision, Escalate):
        contact = tenant_settings.typed(uow=uow, name="escalation_contact")
        return decision.grounds.value, None, _handoff(contact)
    if isinstance(decision, Signpost):
        services = vocabularies.one(uow=uow, name="signpost_services")
        if decision.service not in services.codes:
            raise UnknownCode("The service is not in the tenant's signpost_services list.", errors=[
                {"location": ["body", "service"], "message": f"{decision.service!r} is not in the list",
                 "type": "unknown_code"}])
        return decision.service, decision.service_detail, None
    if isinstance(decision, NoFurtherAction):
        return decision.reason.value, None, None
    return None, None, None


def _handoff(contact: EscalationContact | None) -> dict[str, Any]:
    if contact is None:
        return {"contact": None, "instructions": NO_CONTACT}
    return {"contact": contact.model_dump(mode="json", exclude_none=True),
            "instructions": contact.instructions or f"Hand this referral to {contact.name} now, by phone."}


def _publish(uow: UnitOfWork, referral: Referral, *, reason: str | None) -> None:
    subject = str(referral.subject_id)
    # An escalation's event says that it happened and nothing else: not the grounds, not to whom.
    EVENTS.publish(uow, ReferralScreened(
        referral_id=referral.id, subject_ref=referral.subject_id, outcome=referral.outcome,
        screened_at=referral.screened_at, time_to_screen_seconds=referral.screening_seconds or 0,
        service=reason if referral.outcome == "signpost" else None,
        reason=reason if referral.outcome == "no_further_action" else None,
    ), subject=subject)
    if referral.outcome == "accept":
        EVENTS.publish(uow, ReferralAccepted(
            referral_id=referral.id, subject_ref=referral.subject_id, source_type=referral.source_type,
            organisation=referral.organisation, received_at=referral.received_at,
            accepted_at=referral.screened_at,
        ), subject=subject)
