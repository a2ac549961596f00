"""Intake's logic: taking referrals in, and showing each caller what it may see of them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from harambee_common.access import record_access
from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork, pipelined
from harambee_common.events import Event
from harambee_common.problems import Forbidden, NotFound, ValidationFailed
from harambee_intake import repository, screening, subjects, vocabularies, webhooks
from harambee_intake.events import SOURCE, TOPIC, event
from harambee_intake.models import Referral
from harambee_intake.preconditions import require_match
from harambee_intake.problems import UnknownCode
from harambee_intake.repository import ReferralFilter
from harambee_intake.schemas import ReferralIn
from harambee_intake.subjects import History
from harambee_intake.vault import Vault
from harambee_intake.vocabularies import BEHAVIOUR, Vocabulary

STAFF_ROLES = frozenset({"intake_officer", "case_worker"})
STATUSES = ("received", "screening", "screened")
PARTNER_STATUSES = ("received", "under_consideration", "closed")

# Sealed under the person's data key: the referrer's words and the person as described.
SEALED_FIELDS = (
    "concern", "observed_behaviour", "online_activity_description", "concerning_contacts",
    "intent_description", "needs_description", "safeguarding_description", "discussed_summary",
    "referrer_fears", "referrer", "external_document", "person",
)
# What a staff read of one referral discloses (the person's identity is never among them).
CONTENT_FIELDS = (
    "source_type", "organisation", "indicators", "flags", "is_minor", "age_band", "coded",
    *(f for f in SEALED_FIELDS if f != "person"), "prior_referrals", "duplicate_candidates",
    "screening",
)

FLAG_GUIDANCE = {
    "belief_only": (
        "This referral names no observed behaviour, online activity, contacts or intent to harm: "
        "at most beliefs or context. Holding religious, political or other beliefs is not a "
        "concern in itself, and referral for belief alone is a known failure of prevention "
        "programmes that stigmatises people. Establish with the referrer what the person has done "
        "or said that suggests a risk of harm; where there is nothing, consider no further action "
        "(misguided)."
    ),
    "intent_to_harm": (
        "The referrer reports an expressed intent to harm. If a crime is committed or imminent, "
        "or a life is at risk, escalate now to the designated contact, outside the programme."
    ),
}

AGE_BANDS = ((15, "under_15"), (18, "15_17"), (25, "18_24"), (35, "25_34"))


@dataclass(frozen=True)
class ReferralDetail:
    """A referral with its sealed content opened, for a staff view."""

    referral: Referral
    content: dict[str, Any]
    history: History | None = None  # the person's other referrals and candidates (one referral's view)
    decision: screening.Decision | None = None


def sees_full_referral(principal: TenantPrincipal) -> bool:
    """Programme staff see referral content; a partner sees only the status of its own."""
    return bool(principal.roles & STAFF_ROLES)


def submit_referral(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_in: ReferralIn
) -> Referral:
    """Stores a referral and its person's encrypted identity, and raises `referral.received`."""
    lists = vocabularies.in_force(uow=uow)
    _check_codes(referral_in, lists)
    received_at = datetime.now(UTC)
    is_minor, age_band = _age(referral_in, at=received_at.date())

    link = subjects.link_person(uow=uow, vault=vault, identity=identity_fields(referral_in))
    subject_id = link.subject.id
    referral_id = uuid.uuid4()
    referral = Referral(
        id=referral_id,
        tenant_id=uow.tenant,
        subject_id=subject_id,
        organisation=principal.organisation,
        submitted_by=principal.actor,
        source_type=referral_in.source_type.value,
        concern=None,
        indicators=referral_in.indicators,
        status="received",
        received_at=received_at,
        updated_at=received_at,
        version=1,
        coded=_coded(referral_in),
        flags=_flags(referral_in, lists["indicators"]),
        is_minor=is_minor,
        age_band=age_band,
        sealed=link.data_key.seal(_sealed(referral_in), context=f"referral:{referral_id}"),
    )
    uow.publish(
        event(
            "referral.received",
            uow,
            subject=str(subject_id),
            data={
                "referral_id": str(referral.id),
                "subject_ref": str(subject_id),
                "source_type": referral.source_type,
                "organisation": referral.organisation,
                "received_at": referral.received_at.isoformat(),
                "repeat_referral": link.repeat,
            },
        )
    )
    with pipelined(uow):  # every write of a submission, in one round trip: nothing here reads
        subjects.store_new_subject(uow=uow, link=link)
        repository.add_referral(session=uow.session, referral=referral)
        subjects.record_candidates(uow=uow, link=link, referral_id=referral.id)
        uow.write_events()
    return referral


def identity_fields(referral_in: ReferralIn) -> dict[str, str]:
    """The person's identifying fields as strings, for the vault."""
    person = referral_in.person.model_dump(mode="json", exclude_none=True)
    guardians = person.pop("guardians", [])
    if guardians:
        person["guardians"] = json.dumps(guardians, separators=(",", ":"))
    return person


def read_referral(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_id: uuid.UUID
) -> Referral | ReferralDetail | None:
    """A referral the principal may see; staff get its content, and their read is recorded first."""
    staff = sees_full_referral(principal)
    organisation = None if staff else _own_organisation(principal)
    referral = repository.get_referral(session=uow.session, referral_id=referral_id,
                                       organisation=organisation)
    if referral is None or not staff:
        return referral
    _record_read(uow, principal, referral, fields=CONTENT_FIELDS)
    return ReferralDetail(referral=referral, content=open_content(uow=uow, vault=vault, referral=referral),
                          history=subjects.history_if_here(uow=uow, subject_id=referral.subject_id),
                          decision=screening.read_decision(uow=uow, vault=vault, referral=referral))


def list_referrals(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, where: ReferralFilter,
    after: tuple[datetime, uuid.UUID] | None, limit: int,
) -> list[Referral | ReferralDetail]:
    """A page of the referrals the principal may see; staff reads are recorded per referral."""
    staff = sees_full_referral(principal)
    allowed = STATUSES if staff else PARTNER_STATUSES
    unknown = sorted(set(where.statuses) - set(allowed))
    if unknown:
        raise ValidationFailed(f"Unknown status {', '.join(unknown)}; the statuses are: {', '.join(allowed)}.")
    if not staff:
        if where.screener is not None or where.outcomes:
            raise Forbidden("Partners can filter by status, source and date only.")
        where = replace(where, organisation=_own_organisation(principal), statuses=(),
                        partner_statuses=where.statuses)
    if where.screener == "me":
        where = replace(where, screener=principal.actor)
    referrals = repository.list_referrals(session=uow.session, where=where, after=after, limit=limit)
    if not staff:
        return list(referrals)
    details: list[Referral | ReferralDetail] = []
    for referral in referrals:
        _record_read(uow, principal, referral, fields=LIST_FIELDS)
        concern = open_content(uow=uow, vault=vault, referral=referral, only=("concern",))
        details.append(ReferralDetail(referral=referral, content=concern))
    return details


def amend_referral(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_id: uuid.UUID,
    changes: dict[str, Any], if_match: str | None,
) -> ReferralDetail:
    """Assigns a screener or sets the priority, if the caller saw the current version."""
    referral = repository.lock_referral(session=uow.session, referral_id=referral_id)
    if referral is None:
        raise NotFound("No such referral.")
    require_match(if_match=if_match, version=referral.version)
    previous = referral.partner_status
    if "screener" in changes:
        screener = changes["screener"]
        referral.screener = principal.actor if screener == "me" else screener
        if referral.status == "received" and referral.screener is not None:
            referral.status = "screening"
    if changes.get("priority") is not None:
        referral.priority = changes["priority"]
    referral.touch()
    uow.publish(_event("referral.amended", uow, referral, {"fields": sorted(changes)}))
    webhooks.status_changed(uow=uow, referral=referral, previous=previous)
    detail = read_referral(uow=uow, vault=vault, principal=principal, referral_id=referral_id)
    assert isinstance(detail, ReferralDetail)
    return detail


def _event(type_: str, uow: UnitOfWork, referral: Referral, data: dict[str, Any]) -> Event:
    return event(type_, uow, subject=str(referral.subject_id),
                 data={"referral_id": str(referral.id), "subject_ref": str(referral.subject_id), **data})


# A list shows the headline only; the rest of the referrer's words are read one referral at a time.
LIST_FIELDS = ("source_type", "organisation", "indicators", "flags", "is_minor", "age_band", "concern",
               "outcome")


def open_content(
    *, uow: UnitOfWork, vault: Vault, referral: Referral, only: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The referral's sealed fields, opened (all of them, or only those named)."""
    sealed = referral.sealed or {}
    if only is not None:
        sealed = {name: value for name, value in sealed.items() if name in only}
    content: dict[str, Any] = {}
    if sealed:
        subject = repository.get_subject(session=uow.session, subject_id=referral.subject_id)
        if subject is not None and subject.wrapped_key is not None:
            key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
            content = key.open(sealed, context=f"referral:{referral.id}")
    if referral.concern is not None:  # stored before the narrative was sealed
        content.setdefault("concern", referral.concern)
    content.pop("person", None)
    return content


def _check_codes(referral_in: ReferralIn, lists: dict[str, Vocabulary]) -> None:
    used: list[tuple[tuple[str | int, ...], str, str]] = [
        (("indicators", i), code, "indicators") for i, code in enumerate(referral_in.indicators)
    ]
    if referral_in.online_activity:
        used += [(("online_activity", "platforms", i), c, "online_platforms")
                 for i, c in enumerate(referral_in.online_activity.platforms)]
    if referral_in.intent_to_harm:
        used += [(("intent_to_harm", "targets", i), c, "intent_targets")
                 for i, c in enumerate(referral_in.intent_to_harm.targets)]
    if referral_in.needs:
        used += [(("needs", "codes", i), c, "needs") for i, c in enumerate(referral_in.needs.codes)]
    if referral_in.safeguarding:
        for side in ("family", "peers"):
            used += [(("safeguarding", side, i), c, "safeguarding_concerns")
                     for i, c in enumerate(getattr(referral_in.safeguarding, side))]
    errors = [
        {"location": ["body", *location], "message": f"{code!r} is not in the tenant's {name!r} list",
         "type": "unknown_code"}
        for location, code, name in used
        if code not in lists[name].codes
    ]
    if errors:
        raise UnknownCode("Some codes are not in the tenant's lists (GET .../vocabularies).", errors=errors)


def _age(referral_in: ReferralIn, *, at: date) -> tuple[bool | None, str | None]:
    born = referral_in.person.date_of_birth
    if born is None:
        return referral_in.is_minor, None
    if born > at:
        raise ValidationFailed("The date of birth is in the future.", errors=[
            {"location": ["body", "person", "date_of_birth"], "message": "in the future",
             "type": "invalid_date"}])
    years = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
    minor = years < 18
    if referral_in.is_minor is not None and referral_in.is_minor != minor:
        raise ValidationFailed("is_minor contradicts the date of birth.", errors=[
            {"location": ["body", "is_minor"], "message": f"the date of birth makes the person {years}",
             "type": "inconsistent"}])
    band = next((name for limit, name in AGE_BANDS if years < limit), "35_plus")
    return minor, band


def _coded(referral_in: ReferralIn) -> dict[str, Any]:
    online, intent = referral_in.online_activity, referral_in.intent_to_harm
    needs, safeguarding, discussed = referral_in.needs, referral_in.safeguarding, referral_in.discussed
    return {
        "online_platforms": online.platforms if online else [],
        "intent_expressed": intent.expressed if intent else None,
        "intent_targets": intent.targets if intent else [],
        "needs": needs.codes if needs else [],
        "safeguarding_family": safeguarding.family if safeguarding else [],
        "safeguarding_peers": safeguarding.peers if safeguarding else [],
        "discussed_with_person": discussed.with_person if discussed else None,
        "discussed_with_guardians": discussed.with_guardians if discussed else None,
    }


def _sealed(referral_in: ReferralIn) -> dict[str, Any]:
    def dump(model: Any) -> Any:
        return model.model_dump(mode="json", exclude_none=True) if model is not None else None

    online, intent = referral_in.online_activity, referral_in.intent_to_harm
    needs, safeguarding, discussed = referral_in.needs, referral_in.safeguarding, referral_in.discussed
    return {
        "concern": referral_in.concern,
        "observed_behaviour": referral_in.observed_behaviour,
        "online_activity_description": online.description if online else None,
        "concerning_contacts": referral_in.concerning_contacts,
        "intent_description": intent.description if intent else None,
        "needs_description": needs.description if needs else None,
        "safeguarding_description": safeguarding.description if safeguarding else None,
        "discussed_summary": discussed.summary if discussed else None,
        "referrer_fears": referral_in.referrer_fears,
        "referrer": dump(referral_in.referrer),
        "external_document": dump(referral_in.external_document),
        "person": dump(referral_in.person),
    }


def _flags(referral_in: ReferralIn, indicators: Vocabulary) -> list[str]:
    flags = []
    online = referral_in.online_activity
    observed = (
        any(indicators.kind_of(code) == BEHAVIOUR for code in referral_in.indicators)
        or bool(online and (online.platforms or online.description))
        or bool(referral_in.concerning_contacts)
        or bool(referral_in.intent_to_harm and referral_in.intent_to_harm.expressed)
    )
    if not observed:
        flags.append("belief_only")
    if referral_in.intent_to_harm and referral_in.intent_to_harm.expressed:
        flags.append("intent_to_harm")
    return flags


def _own_organisation(principal: TenantPrincipal) -> str:
    # A partner without an organisation would otherwise see every referral: it sees none.
    return principal.organisation or "\x00no-organisation"


def _record_read(
    uow: UnitOfWork, principal: TenantPrincipal, referral: Referral, *, fields: tuple[str, ...]
) -> None:
    record_access(
        uow,
        principal=principal,
        topic=TOPIC,
        source=SOURCE,
        subject=str(referral.subject_id),
        resource=f"referral/{referral.id}",
        fields=fields,
        purpose="case-management",
    )
