"""How a referral is stored, and what each audience sees of it: the one place that knows both.

Coded choices are plain columns and the `coded` skeleton (what screening, lists, reports and the
programme's figures work on); the referrer's words, and the person as the referrer described them, are
sealed under the person's data key (`sealed`), so erasing the person erases them too. Staff see the
content (never the identity); the referring partner sees only its referral's status, as far as its
agreement permits (sharing.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from harambee_common.agreements import Agreement
from harambee_common.db import UnitOfWork
from harambee_intake import sharing
from harambee_intake.models import Referral
from harambee_intake.referrals.schemas import Flag, ReferralIn, ReferralStatus, ReferralView
from harambee_intake.screening.service import Decision
from harambee_intake.screening.views import screening_view
from harambee_intake.subjects import repository as subjects_repository
from harambee_intake.subjects.service import History, subject_key
from harambee_intake.subjects.views import candidate_view, prior_view
from harambee_intake.vault import Vault

# What a staff read of one referral discloses (the person's identity is never among them).
CONTENT_FIELDS = (
    "source_type", "organisation", "indicators", "flags", "is_minor", "age_band", "coded", "concern",
    "observed_behaviour", "online_activity_description", "concerning_contacts", "intent_description",
    "needs_description", "safeguarding_description", "discussed_summary", "referrer_fears", "referrer",
    "external_document", "prior_referrals", "duplicate_candidates", "screening",
)
# A list shows the headline only; the rest of the referrer's words are read one referral at a time.
LIST_FIELDS = ("source_type", "organisation", "indicators", "flags", "is_minor", "age_band", "concern",
               "outcome")

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


@dataclass(frozen=True)
class ReferralDetail:
    """A referral with its sealed content opened, for a staff view."""

    referral: Referral
    content: dict[str, Any]
    history: History | None = None  # the person's other referrals and candidates (one referral's view)
    decision: Decision | None = None


def coded(referral_in: ReferralIn) -> dict[str, Any]:
    """The coded choices of a referral's parts, kept in clear."""
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


def sealed(referral_in: ReferralIn) -> dict[str, Any]:
    """What is sealed under the person's key: the referrer's words and the person as described."""
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


def context(referral_id: uuid.UUID) -> str:
    """What a referral's sealed fields are bound to."""
    return f"referral:{referral_id}"


def open_content(
    *, uow: UnitOfWork, vault: Vault, referral: Referral, only: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The referral's sealed fields, opened (all of them, or only those named); never the person."""
    stored = referral.sealed or {}
    if only is not None:
        stored = {name: value for name, value in stored.items() if name in only}
    content: dict[str, Any] = {}
    if stored:
        subject = subjects_repository.get_subject(session=uow.session, subject_id=referral.subject_id)
        if subject is not None and subject.wrapped_key is not None:
            key = subject_key(vault=vault, tenant=uow.tenant, subject=subject)
            content = key.open(stored, context=context(referral.id))
    if referral.concern is not None:  # stored before the narrative was sealed
        content.setdefault("concern", referral.concern)
    content.pop("person", None)
    return content


def status_view(
    referral: Referral, *, agreement: Agreement | None, withhold: bool = False
) -> tuple[ReferralStatus, list[str]]:
    """What the referring partner sees: its referral's status, cut to its agreement's fields (sharing.py),
    or its id alone where the status is withheld; and the names of the fields given."""
    data = {"id": referral.id, "status": None if withhold else referral.partner_status,
            "received_at": None if withhold else referral.received_at}
    kept, fields = sharing.projected(agreement, data, sharing.STATUS_FIELDS)
    return ReferralStatus(**kept), fields


def staff_view(detail: ReferralDetail) -> ReferralView:
    """What programme staff see: the referral and the pseudonymous subject, not the identity."""
    referral, content = detail.referral, detail.content
    coded = referral.coded or {}
    return ReferralView(
        id=referral.id,
        status=referral.status,
        received_at=referral.received_at,
        subject_ref=referral.subject_id,
        version=referral.version,
        updated_at=referral.updated_at,
        screener=referral.screener,
        priority=referral.priority,
        organisation=referral.organisation,
        source_type=referral.source_type,
        concern=content.get("concern", ""),
        indicators=referral.indicators,
        flags=[Flag(code=f, guidance=FLAG_GUIDANCE.get(f, "")) for f in referral.flags or []],
        is_minor=referral.is_minor,
        age_band=referral.age_band,
        referrer=content.get("referrer"),
        observed_behaviour=content.get("observed_behaviour"),
        online_activity=_present(platforms=coded.get("online_platforms") or [],
                                 description=content.get("online_activity_description")),
        concerning_contacts=content.get("concerning_contacts"),
        intent_to_harm=None if coded.get("intent_expressed") is None else {
            "expressed": coded["intent_expressed"], "targets": coded.get("intent_targets") or [],
            "description": content.get("intent_description")},
        needs=_present(codes=coded.get("needs") or [], description=content.get("needs_description")),
        safeguarding=_present(family=coded.get("safeguarding_family") or [],
                              peers=coded.get("safeguarding_peers") or [],
                              description=content.get("safeguarding_description")),
        discussed=_present(with_person=coded.get("discussed_with_person"),
                           with_guardians=coded.get("discussed_with_guardians"),
                           summary=content.get("discussed_summary")),
        referrer_fears=content.get("referrer_fears"),
        external_document=content.get("external_document"),
        outcome=referral.outcome,
        screening=screening_view(detail.decision) if detail.decision else None,
        **_history(detail.history, exclude=referral.id),
    )


def view(item: ReferralStatus | ReferralDetail) -> ReferralView | ReferralStatus:
    """A referral as its reader may see it: staff get a detail, a partner its referral's status."""
    return staff_view(item) if isinstance(item, ReferralDetail) else item


def _history(history: History | None, *, exclude: uuid.UUID) -> dict[str, Any]:
    if history is None:
        return {}
    prior = [prior_view(r) for r in history.referrals if r.id != exclude]
    return {"repeat_referral": bool(prior), "prior_referrals": prior,
            "duplicate_candidates": [candidate_view(c) for c in history.candidates]}


def _present(**fields: object) -> dict[str, object] | None:
    """The part as a dict, or None when the referrer left all of it out."""
    return fields if any(v not in (None, []) for v in fields.values()) else None
