"""Every query about subjects: the blind index, merges, candidates, re-identifications, the tenant key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from harambee_intake.models import (
    AccessExport,
    Consent,
    DuplicateCandidate,
    Referral,
    Reidentification,
    RightsRequest,
    Screening,
    Subject,
    SubjectIndex,
    SubjectMerge,
)
from harambee_intake.referrals.repository import insert_detached


def add_subject(*, session: Session, subject: Subject) -> None:
    """Stores a new subject (the object stays detached: what the request needs of it, it already has)."""
    insert_detached(session, subject)


def get_subject(*, session: Session, subject_id: uuid.UUID) -> Subject | None:
    """Gets a subject by its reference."""
    return session.get(Subject, subject_id)


def lock_subject(*, session: Session, subject_id: uuid.UUID) -> Subject | None:
    """Gets a subject for update."""
    return session.scalar(sa.select(Subject).where(Subject.id == subject_id).with_for_update())


def lock_subjects(*, session: Session, subject_ids: list[uuid.UUID]) -> list[Subject]:
    """Subjects, for update."""
    return list(session.scalars(sa.select(Subject).where(Subject.id.in_(subject_ids)).with_for_update()))


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


def delete_candidates(*, session: Session, subject_ids: list[uuid.UUID]) -> int:
    """Removes every candidate pair with one of these subjects on either side."""
    return session.execute(sa.delete(DuplicateCandidate).where(sa.or_(
        DuplicateCandidate.subject_id.in_(subject_ids),
        DuplicateCandidate.candidate_id.in_(subject_ids)))).rowcount


def add_merge(*, session: Session, merge: SubjectMerge) -> None:
    """Records a merge."""
    session.add(merge)
    session.flush()


def open_merge(*, session: Session, source_id: uuid.UUID) -> SubjectMerge | None:
    """The merge that put this subject into another, if it is still in force."""
    return session.scalar(sa.select(SubjectMerge).where(
        SubjectMerge.source_id == source_id, SubjectMerge.unmerged_at.is_(None)))


def merges_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[SubjectMerge]:
    """The merges these subjects took part in."""
    return list(session.scalars(sa.select(SubjectMerge).where(sa.or_(
        SubjectMerge.source_id.in_(subject_ids), SubjectMerge.target_id.in_(subject_ids)))
        .order_by(SubjectMerge.merged_at)))


def add_reidentification(*, session: Session, record: Reidentification) -> None:
    """Records a re-identification."""
    session.add(record)
    session.flush()


def reidentifications_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[Reidentification]:
    """Who re-identified these subjects, when and for what."""
    return list(session.scalars(sa.select(Reidentification).where(Reidentification.subject_id.in_(subject_ids))
                                .order_by(Reidentification.at).limit(1000)))


def _not_wrapped_with(generation: int) -> sa.ColumnElement[bool]:
    # A stored generation is newer than every derived one: the generation alone says who is behind.
    return sa.and_(Subject.wrapped_key.is_not(None), Subject.key_generation != generation)


def subjects_to_rewrap(*, session: Session, generation: int, limit: int) -> list[Subject]:
    """Subjects whose key another generation wrapped; locked, skipping ones another rotation holds."""
    return list(session.scalars(
        sa.select(Subject).where(_not_wrapped_with(generation))
        .order_by(Subject.id).limit(limit).with_for_update(skip_locked=True)
    ))


def count_to_rewrap(*, session: Session, generation: int) -> int:
    """How many subjects still have a key wrapped by another generation."""
    return session.scalar(sa.select(sa.func.count()).select_from(Subject)
                          .where(_not_wrapped_with(generation))) or 0


@dataclass(frozen=True)
class Forgotten:
    """What forget_sealed cleared: the referrals minimised, and how many rows of each kind."""

    referral_ids: list[uuid.UUID]
    counts: dict[str, int]


def forget_sealed(*, session: Session, subject_ids: list[uuid.UUID], at: datetime, marker: str) -> Forgotten:
    """Removes from this tenant everything sealed under these subjects' keys, and what could find them again.

    Erasure (the keys destroyed) and a transfer (the keys now held by another tenant) both call it. Sealed
    fields become SQL NULL, as everywhere (the models' `none_as_null`); the referrals keep their coded
    skeleton for the figures and count as minimised. Staff's stated reasons may name the person: they
    become `marker`, and that the operation happened stays on record.
    """
    referral_ids = list(session.scalars(
        sa.update(Referral).where(Referral.subject_id.in_(subject_ids))
        .values(sealed=None, concern=None, minimised_at=sa.func.coalesce(Referral.minimised_at, at),
                version=Referral.version + 1, updated_at=at)
        .returning(Referral.id)))
    counts = {
        "referrals": len(referral_ids),
        "screenings": session.execute(
            sa.update(Screening).where(Screening.referral_id.in_(referral_ids)).values(sealed=None)).rowcount
        if referral_ids else 0,
        "consents": session.execute(
            sa.update(Consent).where(Consent.subject_id.in_(subject_ids)).values(sealed=None)).rowcount,
        "rights_requests": session.execute(
            sa.update(RightsRequest).where(RightsRequest.subject_id.in_(subject_ids)).values(sealed=None)).rowcount,
        "access_exports": session.execute(
            sa.update(AccessExport).where(AccessExport.subject_id.in_(subject_ids)).values(sealed=None)).rowcount,
        "blind_index": delete_index(session=session, subject_ids=subject_ids),
        "candidates": delete_candidates(session=session, subject_ids=subject_ids),
    }
    session.execute(sa.update(Reidentification).where(Reidentification.subject_id.in_(subject_ids))
                    .values(reason=marker, sealed=None))
    session.execute(sa.update(SubjectMerge).where(sa.or_(
        SubjectMerge.source_id.in_(subject_ids), SubjectMerge.target_id.in_(subject_ids)))
        .values(reason=marker, sealed=None,
                unmerge_reason=sa.case((SubjectMerge.unmerge_reason.is_(None), None), else_=marker)))
    return Forgotten(referral_ids=referral_ids, counts=counts)


def merges_with_clear_reasons(*, session: Session, limit: int) -> list[SubjectMerge]:
    """Merges whose reasons an older version kept in clear (not an erasure's or a move's marker); locked."""
    return list(session.scalars(
        sa.select(SubjectMerge).join(Subject, Subject.id == SubjectMerge.source_id)
        .where(SubjectMerge.sealed.is_(None), SubjectMerge.reason.is_not(None), Subject.wrapped_key.is_not(None))
        .order_by(SubjectMerge.id).limit(limit).with_for_update(of=SubjectMerge, skip_locked=True)))


def reidentifications_with_clear_reasons(*, session: Session, limit: int) -> list[Reidentification]:
    """Re-identifications whose reason an older version kept in clear; locked."""
    return list(session.scalars(
        sa.select(Reidentification).join(Subject, Subject.id == Reidentification.subject_id)
        .where(Reidentification.sealed.is_(None), Reidentification.reason.is_not(None),
               Subject.wrapped_key.is_not(None))
        .order_by(Reidentification.id).limit(limit).with_for_update(of=Reidentification, skip_locked=True)))


def tenants_with_clear_reasons(*, session: Session, limit: int) -> list[str]:
    """The tenants where reasons are still in clear (a function of the owner's: it looks across tenants)."""
    return list(session.scalars(sa.select(sa.func.intake_tenants_with_clear_reasons(limit))))
