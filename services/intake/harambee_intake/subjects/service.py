"""Subjects: linking repeat referrals to one person, candidates, merges, re-identification, key rotation.

A person is found again only through the blind index (matching.py), never by decrypting, and joined to
another only by a screener's merge (or, where the tenant opts in, by an exact match). Merges
form a tree: a merged subject points at the one it was merged into, keeps its own key and its own
referrals, and can be un-merged exactly as it was.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.intake import (
    DuplicateCandidateDismissed,
    SubjectMerged,
    SubjectReidentified,
    SubjectUnmerged,
    TenantKeyRotated,
)
from harambee_common.db import UnitOfWork
from harambee_common.problems import NotFound, or_not_found
from harambee_intake import matching, tenant_keys
from harambee_intake.events import EVENTS
from harambee_intake.models import DuplicateCandidate, Referral, Reidentification, Subject, SubjectMerge
from harambee_intake.problems import InvalidState
from harambee_intake.referrals import repository as referrals_repository
from harambee_intake.subjects import repository
from harambee_intake.tenant_settings import service as tenant_settings
from harambee_intake.vault import DataKey, Vault, WrappedKey, identity_context
from harambee_intake.webhooks import service as webhooks

MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Link:
    """The subject a new referral belongs to, and what the blind index found."""

    subject: Subject
    data_key: DataKey
    repeat: bool
    candidates: list[tuple[uuid.UUID, int, list[str]]]  # (subject, score, index kinds matched)
    index: list[matching.Digest]  # the person's blind-index values, stored with a new subject


@dataclass(frozen=True)
class CandidateSummary:
    """A subject that may be the same person, as a screener sees it: no identity."""

    subject_ref: uuid.UUID
    score: int
    signals: list[str]
    referrals: int
    statuses: list[str]
    outcomes: list[str]


@dataclass(frozen=True)
class History:
    """A subject as a whole: the subjects merged into it, its referrals, its open candidates."""

    subject_ref: uuid.UUID
    members: list[uuid.UUID]
    referrals: list[Referral]
    candidates: list[CandidateSummary] = field(default_factory=list)
    version: int = 0  # of the subject asked about (its ETag, for rectification)


@dataclass(frozen=True)
class Rotation:
    """Where a tenant key rotation stands."""

    generation: int
    kek_id: str
    started: bool
    rewrapped: int
    remaining: int
    destroyed_generations: list[int] = field(default_factory=list)


def wrapped_key(subject: Subject) -> WrappedKey:
    """The subject's data key as stored."""
    if subject.wrapped_key is None:
        raise InvalidState("This person's data has been erased.")
    return WrappedKey(subject.wrapped_key, subject.key_generation, subject.kek_id)


def subject_key(*, vault: Vault, tenant: str, subject: Subject) -> DataKey:
    """The subject's data key, unwrapped."""
    return vault.data_key(tenant=tenant, subject=str(subject.id), wrapped=wrapped_key(subject))


@dataclass(frozen=True)
class Matches:
    """What the blind index says about a person: subjects it is exactly, and near candidates."""

    digests: list[matching.Digest]
    exact: list[uuid.UUID]  # roots whose exact index matched
    near: dict[uuid.UUID, list[str]]  # root -> index kinds that matched


def matches(*, uow: UnitOfWork, digests: list[matching.Digest], has_date_of_birth: bool) -> Matches:
    """Looks a person up by blind index alone (never decrypting): one indexed probe per digest."""
    probes = matching.probes(digests, has_date_of_birth=has_date_of_birth)
    found = repository.find_matches(session=uow.session, tenant=uow.tenant, digests=[d.value for d in probes])
    root_of = repository.roots(session=uow.session, subject_ids=[s for s, _ in found])
    kinds_by_root: dict[uuid.UUID, list[str]] = {}
    for subject_id, kind in found:
        if subject_id in root_of:
            kinds_by_root.setdefault(root_of[subject_id], []).append(kind)
    exact = [root for root, kinds in kinds_by_root.items() if matching.EXACT in kinds]
    return Matches(digests=digests, exact=exact, near=kinds_by_root)


def link_person(*, uow: UnitOfWork, vault: Vault, identity: dict[str, str]) -> Link:
    """The subject for a newly referred person: a new subject that store_new_subject stores (reads here,
    writes there, so that the writes can go in one round trip), with every match, an exact one included, a
    candidate for a screener; only where the tenant opts in (`matching.link_exact_matches`) does an exact
    match link the referral to the known person at once."""
    digests = matching.digests(vault.blind_index_key(uow.tenant), identity)
    has_dob = "date_of_birth" in identity
    exact_digest = next((d.value for d in digests if d.kind == matching.EXACT), None)
    if exact_digest is not None:  # two submissions about one new person must not make two subjects
        repository.lock_person(session=uow.session, tenant=uow.tenant, digest=exact_digest)
    matched = matches(uow=uow, digests=digests, has_date_of_birth=has_dob)

    if matched.exact and tenant_settings.typed(uow=uow, name="matching").link_exact_matches:
        subjects = [repository.get_subject(session=uow.session, subject_id=r) for r in matched.exact]
        subject = min((s for s in subjects if s is not None), key=lambda s: (s.created_at, str(s.id)))
        key = subject_key(vault=vault, tenant=uow.tenant, subject=subject)
        repeat = True
    else:
        subject_id = uuid.uuid4()
        key, wrapped = vault.new_key(tenant=uow.tenant, subject=str(subject_id),
                                     generation=tenant_keys.current_generation(uow=uow, vault=vault))
        subject = Subject(
            id=subject_id, tenant_id=uow.tenant, wrapped_key=wrapped.wrapped,
            key_generation=wrapped.generation, kek_id=wrapped.kek_id, version=1,
            identity=seal_identity(key, subject_id=subject_id, identity=identity),
        )
        repeat = False

    candidates = [
        (root, matching.score(kinds), sorted(set(kinds)))
        for root, kinds in matched.near.items()
        if root != subject.id and matching.is_candidate(kinds, has_date_of_birth=has_dob)
    ]
    candidates.sort(key=lambda c: -c[1])
    return Link(subject=subject, data_key=key, repeat=repeat, candidates=candidates[:MAX_CANDIDATES],
                index=matched.digests)


def store_new_subject(*, uow: UnitOfWork, link: Link) -> None:
    """Stores the subject link_person made, with its blind index; nothing for a repeat referral."""
    if not link.repeat:
        repository.add_subject(session=uow.session, subject=link.subject)
        repository.add_index(session=uow.session, tenant=uow.tenant, subject_id=link.subject.id,
                             digests=[(d.kind, d.value) for d in link.index])


def seal_identity(key: DataKey, *, subject_id: uuid.UUID, identity: dict[str, str]) -> dict[str, str]:
    """Identity fields sealed under the person's key, each bound to the subject and its name."""
    return {name: key.encrypt_text(value, context=identity_context(str(subject_id), name))
            for name, value in identity.items()}


def open_identity(key: DataKey, *, subject: Subject) -> dict[str, Any]:
    """The identity fields of a subject, decrypted (guardians as a list)."""
    fields: dict[str, Any] = {
        name: key.decrypt_text(value, context=identity_context(str(subject.id), name))
        for name, value in (subject.identity or {}).items()
    }
    if "guardians" in fields:
        fields["guardians"] = json.loads(fields["guardians"])
    return fields


def record_candidates(*, uow: UnitOfWork, link: Link, referral_id: uuid.UUID) -> None:
    """Stores the candidates a new referral's blind index found, for the screener."""
    now = datetime.now(UTC)
    repository.add_candidates(session=uow.session, candidates=[
        DuplicateCandidate(tenant_id=uow.tenant, subject_id=link.subject.id, candidate_id=candidate,
                           referral_id=referral_id, score=points, signals=kinds, found_at=now)
        for candidate, points, kinds in link.candidates
    ])


def history(*, uow: UnitOfWork, subject_id: uuid.UUID) -> History:
    """A subject with everything merged into it, its referrals and open candidates (no identity)."""
    root = or_not_found(repository.roots(session=uow.session, subject_ids=[subject_id]).get(subject_id),
                        "No such subject.")
    members = repository.tree(session=uow.session, root=root)
    referrals = referrals_repository.referrals_of(session=uow.session, subject_ids=members)
    pairs = repository.candidates_of(session=uow.session, subject_ids=members)
    others: dict[uuid.UUID, tuple[int, set[str]]] = {}
    other_ids = [p.candidate_id if p.subject_id in members else p.subject_id for p in pairs]
    other_roots = repository.roots(session=uow.session, subject_ids=other_ids)
    for pair, other in zip(pairs, other_ids, strict=True):
        other_root = other_roots.get(other)
        if other_root is None or other_root == root:
            continue
        points, kinds = others.get(other_root, (0, set()))
        others[other_root] = (max(points, pair.score), kinds | set(pair.signals))
    summaries = []
    for other_root, (points, kinds) in sorted(others.items(), key=lambda o: -o[1][0])[:MAX_CANDIDATES]:
        found = referrals_repository.referral_summaries(
            session=uow.session, subject_ids=repository.tree(session=uow.session, root=other_root))
        summaries.append(CandidateSummary(
            subject_ref=other_root, score=points, signals=sorted(kinds), referrals=len(found),
            statuses=sorted({status for _, status, _ in found}),
            outcomes=sorted({outcome for _, _, outcome in found if outcome})))
    asked = repository.get_subject(session=uow.session, subject_id=subject_id)
    return History(subject_ref=root, members=members, referrals=referrals, candidates=summaries,
                   version=asked.version if asked is not None else 0)


def history_if_here(*, uow: UnitOfWork, subject_id: uuid.UUID) -> History | None:
    """A subject's history, or None when the subject is not this tenant's (the person moved county)."""
    try:
        return history(uow=uow, subject_id=subject_id)
    except NotFound:
        return None


def read_history(*, uow: UnitOfWork, principal: TenantPrincipal, subject_id: uuid.UUID) -> History:
    """A subject's history for a screener; the read is recorded first."""
    found = history(uow=uow, subject_id=subject_id)
    EVENTS.record_access(uow, principal=principal, subject=str(found.subject_ref),
                         resource=f"subject/{found.subject_ref}", fields=("referrals", "duplicate_candidates"),
                         purpose="screening")
    return found


def merge(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, source_id: uuid.UUID, target_id: uuid.UUID,
    reason: str,
) -> History:
    """Records that source is the same person as target: source (and its tree) joins target's tree.

    The reason is free text about a person: sealed under the merged subject's key, never kept in clear.
    """
    source = repository.lock_subject(session=uow.session, subject_id=source_id)
    target = repository.lock_subject(session=uow.session, subject_id=target_id)
    if source is None or target is None:
        raise NotFound("No such subject.")
    if source.wrapped_key is None or target.wrapped_key is None:
        raise InvalidState("An erased subject cannot be merged.")
    if source.merged_into is not None:
        raise InvalidState("This subject is already merged into another; merge that one, or un-merge first.",
                           merged_into=str(source.merged_into))
    root = repository.roots(session=uow.session, subject_ids=[target_id])[target_id]
    if root == source.id:
        raise InvalidState("These subjects are already one person.")
    now = datetime.now(UTC)
    source.merged_into, source.version = root, source.version + 1
    merge_id = uuid.uuid4()
    key = subject_key(vault=vault, tenant=uow.tenant, subject=source)
    record = SubjectMerge(id=merge_id, tenant_id=uow.tenant, source_id=source.id, target_id=root,
                          sealed=key.seal({"merge_reason": reason}, context=merge_context(merge_id)),
                          merged_by=principal.actor, merged_at=now)
    repository.add_merge(session=uow.session, merge=record)
    repository.decide_candidates(
        session=uow.session, left=repository.tree(session=uow.session, root=source.id),
        right=repository.tree(session=uow.session, root=root), status="merged", by=principal.actor, at=now)
    EVENTS.publish(uow, SubjectMerged(subject_ref=root, merged_ref=source.id, merge_id=record.id,
                                      actor=principal.actor), subject=str(root))
    return history(uow=uow, subject_id=root)


def unmerge(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, subject_id: uuid.UUID, reason: str
) -> History:
    """Undoes the merge that put this subject into another: it is its own person again (the reason sealed)."""
    subject = or_not_found(repository.lock_subject(session=uow.session, subject_id=subject_id), "No such subject.")
    record = repository.open_merge(session=uow.session, source_id=subject_id)
    if subject.merged_into is None or record is None:
        raise InvalidState("This subject is not merged into another.")
    now = datetime.now(UTC)
    former = subject.merged_into
    subject.merged_into, subject.version = None, subject.version + 1
    key = subject_key(vault=vault, tenant=uow.tenant, subject=subject)
    record.unmerged_at, record.unmerged_by = now, principal.actor
    record.sealed = {**(record.sealed or {}),
                     **key.seal({"unmerge_reason": reason}, context=merge_context(record.id))}
    EVENTS.publish(uow, SubjectUnmerged(subject_ref=subject.id, unmerged_from=former, merge_id=record.id,
                                        actor=principal.actor), subject=str(subject.id))
    return history(uow=uow, subject_id=subject.id)


def dismiss_candidate(
    *, uow: UnitOfWork, principal: TenantPrincipal, subject_id: uuid.UUID, candidate_id: uuid.UUID
) -> History:
    """Records that a candidate is not the same person, so it is not offered again."""
    roots = repository.roots(session=uow.session, subject_ids=[subject_id, candidate_id])
    if subject_id not in roots or candidate_id not in roots:
        raise NotFound("No such subject.")
    closed = repository.decide_candidates(
        session=uow.session, left=repository.tree(session=uow.session, root=roots[subject_id]),
        right=repository.tree(session=uow.session, root=roots[candidate_id]), status="dismissed",
        by=principal.actor, at=datetime.now(UTC))
    if not closed:
        raise NotFound("These subjects are not open candidates of each other.")
    EVENTS.publish(uow, DuplicateCandidateDismissed(subject_ref=roots[subject_id], candidate_ref=roots[candidate_id],
                                                    actor=principal.actor), subject=str(roots[subject_id]))
    return history(uow=uow, subject_id=subject_id)


@dataclass(frozen=True)
class Identity:
    """A decrypted identity, returned by an audited re-identification."""

    subject_ref: uuid.UUID
    reidentification_id: uuid.UUID
    identity: dict[str, Any]
    as_referred: list[dict[str, Any]]


def reidentify(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, subject_id: uuid.UUID, purpose: str,
    reason: str,
) -> Identity:
    """Decrypts a subject's identity for a stated reason; recorded before it is returned."""
    subject = or_not_found(repository.get_subject(session=uow.session, subject_id=subject_id), "No such subject.")
    key = subject_key(vault=vault, tenant=uow.tenant, subject=subject)
    identity = open_identity(key, subject=subject)
    as_referred = []
    for referral in referrals_repository.referrals_of(session=uow.session, subject_ids=[subject.id]):
        sealed = {k: v for k, v in (referral.sealed or {}).items() if k == "person"}
        if sealed:
            person = key.open(sealed, context=f"referral:{referral.id}")["person"]
            as_referred.append({"referral_id": str(referral.id), "person": person})
    record_id = uuid.uuid4()
    record = Reidentification(id=record_id, tenant_id=uow.tenant, subject_id=subject.id,
                              actor=principal.actor, client_id=principal.principal.client_id, purpose=purpose,
                              sealed=key.seal({"reason": reason}, context=reidentification_context(record_id)),
                              at=datetime.now(UTC))
    repository.add_reidentification(session=uow.session, record=record)
    EVENTS.record_access(uow, principal=principal, subject=str(subject.id),
                         resource=f"subject/{subject.id}/identity", fields=sorted(identity),
                         purpose=f"re-identification:{purpose}")
    EVENTS.publish(uow, SubjectReidentified(subject_ref=subject.id, reidentification_id=record.id, purpose=purpose,
                                            actor=principal.actor), subject=str(subject.id))
    return Identity(subject_ref=subject.id, reidentification_id=record.id, identity=identity,
                    as_referred=as_referred)


def merge_context(merge_id: uuid.UUID) -> str:
    """What a merge's sealed reasons are bound to."""
    return f"merge:{merge_id}"


def reidentification_context(record_id: uuid.UUID) -> str:
    """What a re-identification's sealed reason is bound to."""
    return f"reidentification:{record_id}"


def rotate(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, batch: int = 1000,
    seconds: float = 10.0,
) -> Rotation:
    """Re-wraps the tenant's data keys under a new, random tenant key generation; fields are not touched.

    Work is bounded per call: call again while `remaining` is above zero (a call that finds the
    rotation incomplete continues it rather than starting another). The call that finds nothing left
    destroys every older generation of the tenant key (crypto-shredding): the data keys of people
    erased before it, which backups still hold wrapped, no longer open with anything in the database.
    """
    current = tenant_keys.get_current(session=uow.session)
    generation = current.generation if current is not None else 0
    started = (
        current is None or not vault.has_generation(tenant=uow.tenant, generation=generation)
        or repository.count_to_rewrap(session=uow.session, generation=generation) == 0
    )
    now = datetime.now(UTC)
    if started:
        generation += 1
        vault.start_generation(tenant=uow.tenant, generation=generation)
        generation = tenant_keys.set_current(session=uow.session, tenant=uow.tenant, generation=generation,
                                             kek_id=vault.kek_id, by=principal.actor, at=now)
    deadline = time.monotonic() + seconds
    rewrapped = 0
    for _ in range(10_000):
        subjects = repository.subjects_to_rewrap(session=uow.session, generation=generation, limit=min(batch, 500))
        for subject in subjects:
            wrapped = vault.rewrap(tenant=uow.tenant, subject=str(subject.id), wrapped=wrapped_key(subject),
                                   generation=generation)
            subject.wrapped_key, subject.key_generation, subject.kek_id = (
                wrapped.wrapped, wrapped.generation, wrapped.kek_id)
        uow.session.flush()
        rewrapped += len(subjects)
        if not subjects or rewrapped >= batch or time.monotonic() > deadline:
            break
    webhooks.rewrap_secrets(uow=uow, vault=vault, generation=generation)
    remaining = repository.count_to_rewrap(session=uow.session, generation=generation)
    destroyed: list[int] = []
    if remaining == 0:
        destroyed = tenant_keys.destroy_before(session=uow.session, tenant=uow.tenant, generation=generation, at=now)
        vault.forget(tenant=uow.tenant)
    EVENTS.publish(uow, TenantKeyRotated(generation=generation, kek_id=vault.kek_id, started=started,
                                         rewrapped=rewrapped, remaining=remaining, actor=principal.actor,
                                         destroyed_generations=destroyed),
                   subject="vault")
    return Rotation(generation=generation, kek_id=vault.kek_id, started=started, rewrapped=rewrapped,
                    remaining=remaining, destroyed_generations=destroyed)
