"""Every query intake makes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from harambee_intake.models import (
    Consent,
    DuplicateCandidate,
    IdempotencyKey,
    Referral,
    Reidentification,
    RetentionRun,
    RightsRequest,
    Screening,
    Subject,
    SubjectIndex,
    SubjectMerge,
    TenantKey,
    TenantSetting,
    Vocabulary,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


def add_subject(*, session: Session, subject: Subject) -> None:
    """Stores a new subject (the object stays detached: what the request needs of it, it already has)."""
    _insert(session, subject)


def add_referral(*, session: Session, referral: Referral) -> None:
    """Stores a new referral (the object stays detached, as in add_subject)."""
    _insert(session, referral)


def _insert(session: Session, row: Subject | Referral) -> None:
    # Submitting a referral is the hot path: one Core INSERT per row, its compiled form cached, costs a
    # fraction of an ORM flush. Unset attributes are left out, so column and server defaults apply.
    mapper = sa.inspect(type(row))
    values = {attr.columns[0].name: value for attr in mapper.column_attrs
              if (value := getattr(row, attr.key)) is not None}
    session.execute(mapper.local_table.insert(), values)


def get_referral(*, session: Session, referral_id: uuid.UUID, organisation: str | None) -> Referral | None:
    """Gets a referral by id, only among one organisation's referrals when organisation is given."""
    query = sa.select(Referral).where(Referral.id == referral_id)
    if organisation is not None:
        query = query.where(Referral.organisation == organisation)
    return session.scalar(query)


@dataclass(frozen=True)
class ReferralFilter:
    """What a referral list is narrowed to and ordered by."""

    organisation: str | None = None
    statuses: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    source_types: tuple[str, ...] = ()
    received_from: datetime | None = None
    received_to: datetime | None = None
    screener: str | None = None
    partner_statuses: tuple[str, ...] = ()  # received, under_consideration, closed
    sort: str = "-received_at"  # received_at or updated_at, "-" for newest first


# Referral.partner_status, as conditions a list can filter on.
PARTNER_STATUS = {
    "received": Referral.status == "received",
    "under_consideration": sa.or_(Referral.status == "screening", Referral.outcome == "accept"),
    "closed": sa.and_(Referral.status == "screened", Referral.outcome != "accept"),
}
SORT_COLUMNS = {"received_at": Referral.received_at, "updated_at": Referral.updated_at}


def list_referrals(
    *, session: Session, where: ReferralFilter, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Referral]:
    """A page of referrals, in the filter's order, continuing after a (sort value, id) cursor."""
    descending = where.sort.startswith("-")
    column = SORT_COLUMNS[where.sort.lstrip("-")]
    order = (column.desc(), Referral.id.desc()) if descending else (column.asc(), Referral.id.asc())
    query = sa.select(Referral).order_by(*order).limit(limit)
    if where.organisation is not None:
        query = query.where(Referral.organisation == where.organisation)
    if where.statuses:
        query = query.where(Referral.status.in_(where.statuses))
    if where.outcomes:
        query = query.where(Referral.outcome.in_(where.outcomes))
    if where.source_types:
        query = query.where(Referral.source_type.in_(where.source_types))
    if where.received_from is not None:
        query = query.where(Referral.received_at >= where.received_from)
    if where.received_to is not None:
        query = query.where(Referral.received_at < where.received_to)
    if where.screener is not None:
        query = query.where(Referral.screener == where.screener)
    if where.partner_statuses:
        query = query.where(sa.or_(*(PARTNER_STATUS[s] for s in where.partner_statuses)))
    if after is not None:
        key = sa.tuple_(column, Referral.id)
        query = query.where(key < after if descending else key > after)
    return list(session.scalars(query))


def lock_referral(*, session: Session, referral_id: uuid.UUID) -> Referral | None:
    """Gets a referral for update: concurrent changes to it wait for this transaction."""
    return session.scalar(sa.select(Referral).where(Referral.id == referral_id).with_for_update())


def get_subject(*, session: Session, subject_id: uuid.UUID) -> Subject | None:
    """Gets a subject by its reference."""
    return session.get(Subject, subject_id)


# Read on every submission to check its codes: plain rows, no ORM identity map to fill.
_VOCABULARIES = sa.select(Vocabulary.name, Vocabulary.entries, Vocabulary.version)


def list_vocabularies(*, session: Session) -> list[sa.Row[tuple[str, list[dict[str, Any]], int]]]:
    """The tenant's own lists: name, entries and version of each."""
    return list(session.execute(_VOCABULARIES))


def get_vocabulary(*, session: Session, name: str) -> Vocabulary | None:
    """The tenant's own list of that name, if it has one."""
    return session.scalar(sa.select(Vocabulary).where(Vocabulary.name == name))


def upsert_vocabulary(
    *, session: Session, tenant: str, name: str, entries: list[dict], version: int, updated_by: str,
    updated_at: datetime,
) -> Vocabulary:
    """Stores the tenant's list of that name at a new version."""
    row = get_vocabulary(session=session, name=name)
    if row is None:
        row = Vocabulary(tenant_id=tenant, name=name)
        session.add(row)
    row.entries, row.version, row.updated_by, row.updated_at = entries, version, updated_by, updated_at
    session.flush()
    return row


def claim_idempotency_key(
    *, session: Session, tenant: str, client_id: str, key: str, request_hash: bytes
) -> bool:
    """Inserts the key; False when it exists (after waiting for a concurrent claim to finish)."""
    inserted = session.execute(
        pg_insert(IdempotencyKey)
        .values(tenant_id=tenant, client_id=client_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).first()
    return inserted is not None


def get_idempotency_key(*, session: Session, client_id: str, key: str) -> IdempotencyKey | None:
    """A client's key, as stored."""
    return session.scalar(
        sa.select(IdempotencyKey).where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
    )


def store_idempotent_response(
    *, session: Session, client_id: str, key: str, status: int, response: dict, location: str | None
) -> None:
    """Records the response of the request that claimed the key."""
    session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
        .values(status=status, response=response, location=location)
    )


# --- the vault --------------------------------------------------------------------------------

MAX_MERGE_DEPTH = 16  # merges form trees; a chain deeper than this is not followed

_ROOTS = sa.text(
    """
    WITH RECURSIVE up(start, id, merged_into, depth) AS (
        SELECT id, id, merged_into, 0 FROM subjects WHERE id = ANY(:ids)
        UNION ALL
        SELECT up.start, s.id, s.merged_into, up.depth + 1
        FROM subjects s JOIN up ON s.id = up.merged_into
        WHERE up.depth < :depth
    )
    SELECT start, id FROM up WHERE merged_into IS NULL
    """
)
_TREE = sa.text(
    """
    WITH RECURSIVE down(id, depth) AS (
        SELECT CAST(:root AS uuid), 0
        UNION ALL
        SELECT s.id, down.depth + 1 FROM subjects s JOIN down ON s.merged_into = down.id
        WHERE down.depth < :depth
    )
    SELECT id FROM down
    """
)
# One probe of the (tenant_id, digest) index per digest, each capped: a very common name cannot
# turn a lookup into a scan.
_MATCHES = sa.text(
    """
    SELECT m.subject_id, m.kind
    FROM unnest(CAST(:digests AS bytea[])) AS d(digest)
    CROSS JOIN LATERAL (
        SELECT subject_id, kind FROM subject_index
        WHERE tenant_id = :tenant AND digest = d.digest
        LIMIT :per_digest
    ) AS m
    """
)


_LOCK_PERSON = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:person, 0))")


def lock_person(*, session: Session, tenant: str, digest: bytes) -> None:
    """Serialises submissions about the same person (same exact index), until the transaction ends."""
    session.execute(_LOCK_PERSON, {"person": tenant + ":" + digest.hex()})


def find_matches(
    *, session: Session, tenant: str, digests: list[bytes], per_digest: int = 50
) -> list[tuple[uuid.UUID, str]]:
    """The (subject, index kind) pairs whose blind index equals one of the digests."""
    if not digests:
        return []
    result = session.execute(_MATCHES, {"digests": digests, "tenant": tenant, "per_digest": per_digest})
    return [(row.subject_id, row.kind) for row in result]


def roots(*, session: Session, subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The subject each of these is (transitively) merged into; itself when it is not merged."""
    if not subject_ids:
        return {}
    result = session.execute(_ROOTS, {"ids": list(set(subject_ids)), "depth": MAX_MERGE_DEPTH})
    return {row.start: row.id for row in result}


def tree(*, session: Session, root: uuid.UUID) -> list[uuid.UUID]:
    """A subject and every subject merged into it, at any depth."""
    return [row.id for row in session.execute(_TREE, {"root": root, "depth": MAX_MERGE_DEPTH})]


def lock_subject(*, session: Session, subject_id: uuid.UUID) -> Subject | None:
    """Gets a subject for update."""
    return session.scalar(sa.select(Subject).where(Subject.id == subject_id).with_for_update())


# One statement for all of a subject's values (an executemany was a round trip, or a pipeline, each).
_ADD_INDEX = sa.text(
    """
    INSERT INTO subject_index (tenant_id, subject_id, kind, digest)
    SELECT :tenant, :subject, kind, digest
    FROM unnest(CAST(:kinds AS text[]), CAST(:digests AS bytea[])) AS d(kind, digest)
    ON CONFLICT DO NOTHING
    """
)


def add_index(*, session: Session, tenant: str, subject_id: uuid.UUID, digests: list[tuple[str, bytes]]) -> None:
    """Stores a subject's blind-index values."""
    if digests:
        session.execute(_ADD_INDEX, {"tenant": tenant, "subject": subject_id,
                                     "kinds": [k for k, _ in digests], "digests": [d for _, d in digests]})


def delete_index(*, session: Session, subject_ids: list[uuid.UUID]) -> int:
    """Removes subjects' blind-index values."""
    return session.execute(sa.delete(SubjectIndex).where(SubjectIndex.subject_id.in_(subject_ids))).rowcount


def referrals_of(*, session: Session, subject_ids: list[uuid.UUID], limit: int = 200) -> list[Referral]:
    """The referrals linked to any of these subjects, newest first."""
    return list(session.scalars(
        sa.select(Referral).where(Referral.subject_id.in_(subject_ids))
        .order_by(Referral.received_at.desc()).limit(limit)
    ))


def referral_summaries(
    *, session: Session, subject_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, str, str | None]]:
    """The (subject, status, outcome) of every referral of these subjects."""
    rows = session.execute(sa.select(Referral.subject_id, Referral.status, Referral.outcome)
                           .where(Referral.subject_id.in_(subject_ids)))
    return [(subject_id, status, outcome) for subject_id, status, outcome in rows]


def add_candidates(*, session: Session, candidates: list[DuplicateCandidate]) -> None:
    """Records candidates; a pair already decided keeps its decision."""
    for candidate in candidates:
        session.execute(
            pg_insert(DuplicateCandidate)
            .values(tenant_id=candidate.tenant_id, subject_id=candidate.subject_id,
                    candidate_id=candidate.candidate_id, referral_id=candidate.referral_id,
                    score=candidate.score, signals=candidate.signals, status="open",
                    found_at=candidate.found_at)
            .on_conflict_do_nothing()
        )


def candidates_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[DuplicateCandidate]:
    """Open candidate pairs with one of these subjects on either side."""
    return list(session.scalars(
        sa.select(DuplicateCandidate).where(
            DuplicateCandidate.status == "open",
            sa.or_(DuplicateCandidate.subject_id.in_(subject_ids),
                   DuplicateCandidate.candidate_id.in_(subject_ids)),
        ).limit(200)
    ))


def decide_candidates(
    *, session: Session, left: list[uuid.UUID], right: list[uuid.UUID], status: str, by: str, at: datetime
) -> int:
    """Closes the open candidate pairs between two groups of subjects."""
    pair = sa.or_(
        sa.and_(DuplicateCandidate.subject_id.in_(left), DuplicateCandidate.candidate_id.in_(right)),
        sa.and_(DuplicateCandidate.subject_id.in_(right), DuplicateCandidate.candidate_id.in_(left)),
    )
    return session.execute(
        sa.update(DuplicateCandidate).where(pair, DuplicateCandidate.status == "open")
        .values(status=status, decided_by=by, decided_at=at)
    ).rowcount


def add_merge(*, session: Session, merge: SubjectMerge) -> None:
    """Records a merge."""
    session.add(merge)
    session.flush()


def open_merge(*, session: Session, source_id: uuid.UUID) -> SubjectMerge | None:
    """The merge that put this subject into another, if it is still in force."""
    return session.scalar(sa.select(SubjectMerge).where(
        SubjectMerge.source_id == source_id, SubjectMerge.unmerged_at.is_(None)))


def add_reidentification(*, session: Session, record: Reidentification) -> None:
    """Records a re-identification."""
    session.add(record)
    session.flush()


def get_tenant_key(*, session: Session) -> TenantKey | None:
    """The tenant's current key generation, once it has rotated."""
    return session.scalar(sa.select(TenantKey))


_GENERATION = sa.select(TenantKey.generation)


def tenant_key_generation(*, session: Session) -> int:
    """The tenant key generation new wraps use (0 until the first rotation)."""
    return session.scalar(_GENERATION) or 0


def set_tenant_key(*, session: Session, tenant: str, generation: int, kek_id: str, by: str, at: datetime) -> None:
    """Records the tenant key generation that new wraps use."""
    row = get_tenant_key(session=session)
    if row is None:
        row = TenantKey(tenant_id=tenant)
        session.add(row)
    row.generation, row.kek_id, row.rotated_by, row.rotated_at = generation, kek_id, by, at
    session.flush()


def _not_wrapped_with(generation: int, kek_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        Subject.wrapped_key.is_not(None),
        sa.or_(Subject.key_generation != generation, Subject.kek_id.is_distinct_from(kek_id)),
    )


def subjects_to_rewrap(*, session: Session, generation: int, kek_id: str, limit: int) -> list[Subject]:
    """Subjects whose key another generation wrapped; locked, skipping ones another rotation holds."""
    return list(session.scalars(
        sa.select(Subject).where(_not_wrapped_with(generation, kek_id))
        .order_by(Subject.id).limit(limit).with_for_update(skip_locked=True)
    ))


def count_to_rewrap(*, session: Session, generation: int, kek_id: str) -> int:
    """How many subjects still have a key wrapped by another generation."""
    return session.scalar(sa.select(sa.func.count()).select_from(Subject)
                          .where(_not_wrapped_with(generation, kek_id))) or 0


# --- settings and screening -------------------------------------------------------------------


def get_setting(*, session: Session, name: str) -> TenantSetting | None:
    """The tenant's value of one setting."""
    return session.scalar(sa.select(TenantSetting).where(TenantSetting.name == name))


def put_setting(
    *, session: Session, tenant: str, name: str, value: dict, version: int, by: str, at: datetime
) -> TenantSetting:
    """Stores the tenant's value of one setting."""
    row = get_setting(session=session, name=name)
    if row is None:
        row = TenantSetting(tenant_id=tenant, name=name)
        session.add(row)
    row.value, row.version, row.updated_by, row.updated_at = value, version, by, at
    session.flush()
    return row


def add_screening(*, session: Session, screening: Screening) -> None:
    """Records a screening decision."""
    session.add(screening)
    session.flush()


def latest_screening(*, session: Session, referral_id: uuid.UUID) -> Screening | None:
    """The referral's screening decision."""
    return session.scalar(sa.select(Screening).where(Screening.referral_id == referral_id)
                          .order_by(Screening.decided_at.desc()).limit(1))


_TIMELINESS = sa.text(
    """
    SELECT outcome, count(*) AS screened,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY screening_seconds) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY screening_seconds) AS p90
    FROM referrals
    WHERE screened_at IS NOT NULL AND received_at >= :start AND received_at < :end
    GROUP BY ROLLUP (outcome)
    """
)
_AWAITING = sa.text(
    """
    SELECT count(*) AS awaiting, min(received_at) AS oldest FROM referrals
    WHERE screened_at IS NULL AND received_at >= :start AND received_at < :end
    """
)


def screening_timeliness(*, session: Session, start: datetime, end: datetime) -> tuple[list, Any]:
    """Time from receipt to screening per outcome (and overall), and what still awaits screening."""
    per_outcome = list(session.execute(_TIMELINESS, {"start": start, "end": end}))
    awaiting = session.execute(_AWAITING, {"start": start, "end": end}).one()
    return per_outcome, awaiting


# --- webhooks ---------------------------------------------------------------------------------


def count_active_subscriptions(*, session: Session, organisation: str) -> int:
    """How many webhooks an organisation has that are not disabled."""
    return session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription).where(
        WebhookSubscription.organisation == organisation, WebhookSubscription.disabled_at.is_(None))) or 0


def add_subscription(*, session: Session, subscription: WebhookSubscription) -> None:
    """Stores a webhook subscription."""
    session.add(subscription)
    session.flush()


def list_subscriptions(*, session: Session, organisation: str) -> list[WebhookSubscription]:
    """An organisation's webhooks, newest first."""
    return list(session.scalars(sa.select(WebhookSubscription)
                                .where(WebhookSubscription.organisation == organisation)
                                .order_by(WebhookSubscription.created_at.desc()).limit(100)))


def get_subscription(*, session: Session, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    """A webhook by id."""
    return session.get(WebhookSubscription, subscription_id)


def active_subscriptions(*, session: Session, organisation: str) -> list[WebhookSubscription]:
    """An organisation's webhooks that receive deliveries."""
    return list(session.scalars(sa.select(WebhookSubscription).where(
        WebhookSubscription.organisation == organisation, WebhookSubscription.disabled_at.is_(None))))


def subscriptions_to_rewrap(*, session: Session, generation: int, kek_id: str) -> list[WebhookSubscription]:
    """Webhooks whose secret another tenant key generation wrapped."""
    return list(session.scalars(sa.select(WebhookSubscription).where(sa.or_(
        WebhookSubscription.key_generation != generation, WebhookSubscription.kek_id != kek_id))
        .with_for_update()))


def cancel_pending_deliveries(*, session: Session, subscription_id: uuid.UUID) -> None:
    """Stops the queued deliveries of a webhook."""
    session.execute(sa.update(WebhookDelivery).where(
        WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.state == "pending")
        .values(state="cancelled", next_attempt_at=None))


def add_delivery(*, session: Session, delivery: WebhookDelivery) -> None:
    """Queues a delivery."""
    session.add(delivery)
    session.flush()


def get_delivery(*, session: Session, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """A delivery by id."""
    return session.get(WebhookDelivery, delivery_id)


def list_deliveries(
    *, session: Session, subscription_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[WebhookDelivery]:
    """A page of a webhook's deliveries, newest first."""
    query = (sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
             .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit))
    if after is not None:
        query = query.where(sa.tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < after)
    return list(session.scalars(query))


def attempts_of(*, session: Session, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """The attempts of each delivery, in order."""
    found: dict[uuid.UUID, list[WebhookAttempt]] = {}
    if delivery_ids:
        for attempt in session.scalars(sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
                                       .order_by(WebhookAttempt.attempt)):
            found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


def tenants_with_due_deliveries(*, session: Session, limit: int) -> list[str]:
    """Which tenants have deliveries due (the only cross-tenant question the dispatcher asks)."""
    return list(session.scalars(sa.select(sa.func.intake_webhook_tenants_due(limit))))


def claim_due_deliveries(
    *, session: Session, limit: int, lease_until: datetime
) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
    """Leases due deliveries (skipping ones another dispatcher holds) and counts the attempt."""
    now = sa.func.now()
    due = list(session.scalars(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now,
            sa.or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < now))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True)))
    claimed = []
    for delivery in due:
        delivery.leased_until = lease_until
        delivery.attempts += 1
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        if subscription is not None:
            claimed.append((delivery, subscription))
    session.flush()
    return claimed


def add_attempt(*, session: Session, attempt: WebhookAttempt) -> None:
    """Logs one delivery attempt."""
    session.add(attempt)


# --- consent ----------------------------------------------------------------------------------


def add_consent(*, session: Session, consent: Consent) -> None:
    """Stores a consent record."""
    session.add(consent)
    session.flush()


def consents_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[Consent]:
    """The consent records of these subjects, newest first."""
    return list(session.scalars(sa.select(Consent).where(Consent.subject_id.in_(subject_ids))
                                .order_by(Consent.given_at.desc()).limit(500)))


def lock_consent(*, session: Session, consent_id: uuid.UUID) -> Consent | None:
    """A consent record, for update."""
    return session.scalar(sa.select(Consent).where(Consent.id == consent_id).with_for_update())


def any_minor_referral(*, session: Session, subject_ids: list[uuid.UUID]) -> bool:
    """Whether any referral of these subjects describes a minor."""
    return bool(session.scalar(sa.select(sa.exists().where(
        Referral.subject_id.in_(subject_ids), Referral.is_minor.is_(True)))))


# --- rights, erasure, retention ---------------------------------------------------------------


def add_rights_request(*, session: Session, request: RightsRequest) -> None:
    """Records a rights request."""
    session.add(request)
    session.flush()


def lock_rights_request(*, session: Session, request_id: uuid.UUID) -> RightsRequest | None:
    """A rights request, for update."""
    return session.scalar(sa.select(RightsRequest).where(RightsRequest.id == request_id).with_for_update())


def list_rights_requests(
    *, session: Session, status: str | None, due_before: datetime | None,
    after: tuple[datetime, uuid.UUID] | None, limit: int,
) -> list[RightsRequest]:
    """Rights requests, soonest due first."""
    query = sa.select(RightsRequest).order_by(RightsRequest.due_at, RightsRequest.id).limit(limit)
    if status is not None:
        query = query.where(RightsRequest.status == status)
    if due_before is not None:
        query = query.where(RightsRequest.due_at < due_before)
    if after is not None:
        query = query.where(sa.tuple_(RightsRequest.due_at, RightsRequest.id) > after)
    return list(session.scalars(query))


def rights_requests_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[RightsRequest]:
    """The rights requests about these subjects."""
    return list(session.scalars(sa.select(RightsRequest).where(RightsRequest.subject_id.in_(subject_ids))
                                .order_by(RightsRequest.received_at).limit(500)))


def screenings_of(*, session: Session, referral_ids: list[uuid.UUID]) -> list[Screening]:
    """The screening decisions of these referrals."""
    return list(session.scalars(sa.select(Screening).where(Screening.referral_id.in_(referral_ids))))


def merges_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[SubjectMerge]:
    """The merges these subjects took part in."""
    return list(session.scalars(sa.select(SubjectMerge).where(sa.or_(
        SubjectMerge.source_id.in_(subject_ids), SubjectMerge.target_id.in_(subject_ids)))
        .order_by(SubjectMerge.merged_at)))


def reidentifications_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[Reidentification]:
    """Who re-identified these subjects, when and for what."""
    return list(session.scalars(sa.select(Reidentification).where(Reidentification.subject_id.in_(subject_ids))
                                .order_by(Reidentification.at).limit(1000)))


def lock_subjects(*, session: Session, subject_ids: list[uuid.UUID]) -> list[Subject]:
    """Subjects, for update."""
    return list(session.scalars(sa.select(Subject).where(Subject.id.in_(subject_ids)).with_for_update()))


def shred(*, session: Session, subject_ids: list[uuid.UUID], at: datetime) -> dict[str, int]:
    """Destroys subjects' keys and everything sealed under them, and what could point at them.

    The ciphertext that remains anywhere (backups included) was sealed under the destroyed keys.
    """
    referral_ids = sa.select(Referral.id).where(Referral.subject_id.in_(subject_ids)).scalar_subquery()
    counts = {
        "subjects": session.execute(
            sa.update(Subject).where(Subject.id.in_(subject_ids))
            .values(wrapped_key=None, identity={}, erased_at=at, version=Subject.version + 1)).rowcount,
        "referrals": session.execute(
            sa.update(Referral).where(Referral.subject_id.in_(subject_ids))
            .values(sealed=None, concern=None, version=Referral.version + 1, updated_at=at)).rowcount,
        "screenings": session.execute(
            sa.update(Screening).where(Screening.referral_id.in_(referral_ids)).values(sealed=None)).rowcount,
        "consents": session.execute(
            sa.update(Consent).where(Consent.subject_id.in_(subject_ids)).values(sealed=None)).rowcount,
        "rights_requests": session.execute(
            sa.update(RightsRequest).where(RightsRequest.subject_id.in_(subject_ids)).values(sealed=None)).rowcount,
        "blind_index": delete_index(session=session, subject_ids=subject_ids),
        "candidates": delete_candidates(session=session, subject_ids=subject_ids),
    }
    # Staff's stated reasons may name the person; that the operation happened stays on record.
    session.execute(sa.update(Reidentification).where(Reidentification.subject_id.in_(subject_ids))
                    .values(reason="[erased]"))
    session.execute(sa.update(SubjectMerge).where(sa.or_(
        SubjectMerge.source_id.in_(subject_ids), SubjectMerge.target_id.in_(subject_ids)))
        .values(reason="[erased]", unmerge_reason=sa.case((SubjectMerge.unmerge_reason.is_(None), None),
                                                          else_="[erased]")))
    return counts


# --- transfer of a person to another tenant ----------------------------------------------------


def move_subject(
    *, session: Session, subject: Subject, to_tenant: str, wrapped: bytes | None, generation: int,
    kek_id: str | None,
) -> bool:
    """Gives a subject of the transaction's tenant to another tenant, with its key wrapped for it.

    Row-level security forbids a plain UPDATE of tenant_id; the migration's function is the one
    crossing, and only ever gives away a row of the tenant the transaction is scoped to.
    """
    moved = session.scalar(sa.select(sa.func.intake_move_subject(
        subject.id, to_tenant, wrapped, generation, kek_id)))
    # The object now describes a row this tenant cannot see: never serve it from the identity map.
    session.expunge(subject)
    return bool(moved)


def release(*, session: Session, subject_ids: list[uuid.UUID], at: datetime) -> dict[str, Any]:
    """Minimises what the tenant keeps about subjects that moved away, as retention minimises referrals.

    The data key now lives in another tenant, and everything here sealed under it would be readable by
    whoever holds that tenant's key: the sealed fields go (SQL NULL, not JSON null); the coded skeleton
    stays for the figures.
    """
    referral_ids = list(session.scalars(
        sa.update(Referral).where(Referral.subject_id.in_(subject_ids))
        .values(sealed=sa.null(), concern=None, minimised_at=sa.func.coalesce(Referral.minimised_at, at),
                version=Referral.version + 1, updated_at=at)
        .returning(Referral.id)))
    counts: dict[str, Any] = {
        "referral_ids": referral_ids,
        "screenings": session.execute(
            sa.update(Screening).where(Screening.referral_id.in_(referral_ids)).values(sealed=sa.null())).rowcount
        if referral_ids else 0,
        "consents": session.execute(
            sa.update(Consent).where(Consent.subject_id.in_(subject_ids)).values(sealed=sa.null())).rowcount,
        "rights_requests": session.execute(
            sa.update(RightsRequest).where(RightsRequest.subject_id.in_(subject_ids)).values(sealed=sa.null())).rowcount,
        "blind_index": delete_index(session=session, subject_ids=subject_ids),
        "candidates": delete_candidates(session=session, subject_ids=subject_ids),
    }
    # Staff's stated reasons may name the person; that the operation happened stays on record here.
    session.execute(sa.update(Reidentification).where(Reidentification.subject_id.in_(subject_ids))
                    .values(reason="[transferred]"))
    session.execute(sa.update(SubjectMerge).where(sa.or_(
        SubjectMerge.source_id.in_(subject_ids), SubjectMerge.target_id.in_(subject_ids)))
        .values(reason="[transferred]", unmerge_reason=sa.case((SubjectMerge.unmerge_reason.is_(None), None),
                                                               else_="[transferred]")))
    return counts


def delete_candidates(*, session: Session, subject_ids: list[uuid.UUID]) -> int:
    """Removes every candidate pair with one of these subjects on either side."""
    return session.execute(sa.delete(DuplicateCandidate).where(sa.or_(
        DuplicateCandidate.subject_id.in_(subject_ids),
        DuplicateCandidate.candidate_id.in_(subject_ids)))).rowcount


def referrals_to_minimise(*, session: Session, outcome: str, before: datetime, limit: int) -> list[Referral]:
    """Referrals with this outcome screened before a time and not yet minimised; locked, skipping held ones."""
    return list(session.scalars(
        sa.select(Referral).where(Referral.outcome == outcome, Referral.screened_at < before,
                                  Referral.minimised_at.is_(None))
        .order_by(Referral.screened_at).limit(limit).with_for_update(skip_locked=True)))


def clear_screening_notes(*, session: Session, referral_ids: list[uuid.UUID]) -> None:
    """Removes the screener's words from these referrals' decisions."""
    if referral_ids:
        session.execute(sa.update(Screening).where(Screening.referral_id.in_(referral_ids)).values(sealed=None))


def count_unminimised(*, session: Session, subject_ids: list[uuid.UUID]) -> int:
    """How many of these subjects' referrals still hold their content."""
    return session.scalar(sa.select(sa.func.count()).select_from(Referral).where(
        Referral.subject_id.in_(subject_ids), Referral.minimised_at.is_(None))) or 0


def holds_for(*, session: Session, subject_ids: list[uuid.UUID], at: datetime) -> bool:
    """Whether an active consent or an open rights request keeps these subjects' identity."""
    consent = sa.exists().where(Consent.subject_id.in_(subject_ids), Consent.withdrawn_at.is_(None),
                                sa.or_(Consent.expires_at.is_(None), Consent.expires_at > at))
    request = sa.exists().where(RightsRequest.subject_id.in_(subject_ids), RightsRequest.status == "open")
    return bool(session.scalar(sa.select(sa.or_(consent, request))))


def purge_idempotency_keys(*, session: Session, before: datetime) -> int:
    """Forgets idempotency keys older than a time."""
    return session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < before)).rowcount


def add_retention_run(*, session: Session, run: RetentionRun) -> None:
    """Records what a retention run did."""
    session.add(run)
    session.flush()


def list_retention_runs(*, session: Session, limit: int) -> list[RetentionRun]:
    """The latest retention runs."""
    return list(session.scalars(sa.select(RetentionRun).order_by(RetentionRun.ran_at.desc()).limit(limit)))


def all_tenants(*, session: Session, limit: int) -> list[str]:
    """Every tenant with referrals (for the retention scheduler)."""
    return list(session.scalars(sa.select(sa.func.intake_tenants(limit))))
