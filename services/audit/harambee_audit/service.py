"""The audit log's logic: append an event, sign checkpoints, search, and build proofs. Never commits."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from harambee_audit import repository
from harambee_audit.appends import LockedHead, locked_head, write_pending
from harambee_audit.entries import emergency_reason, is_emergency_access
from harambee_audit.events import EVENTS
from harambee_audit.merkle import (
    NodeGetter,
    consistency_proof,
    inclusion_proof,
    nodes_needed,
    verify_consistency,
)
from harambee_audit.models import Checkpoint, Entry
from harambee_audit.repository import EntryQuery
from harambee_audit.signing import CheckpointBody, CheckpointSigner
from harambee_common.catalogue.audit import CheckpointSigned
from harambee_common.db import UnitOfWork
from harambee_common.events import Event
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found

log = logging.getLogger(__name__)


class InconsistentLog(RuntimeError):
    """The stored tree does not extend the last signed checkpoint: nothing more may be signed."""


class NotYetCheckpointed(Conflict):
    slug, title = "not-yet-checkpointed", "No signed checkpoint covers this yet"


@dataclass(frozen=True)
class EntryPage:
    """One page of search results."""

    items: list[Entry]
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class InclusionProof:
    """An entry's audit path to the root of a signed checkpoint."""

    entry: Entry
    checkpoint: Checkpoint
    hashes: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    """The proof that the first checkpoint's tree is a prefix of the second's."""

    first: Checkpoint
    second: Checkpoint
    hashes: list[bytes]


def has_log(*, db_session: Session, tenant: str) -> bool:
    """Whether the tenant's log has begun (the service has recorded anything of the tenant)."""
    return repository.get_head(db_session=db_session, tenant=tenant) is not None


def append_event(
    *,
    uow: UnitOfWork,
    event: Event,
    signer: CheckpointSigner,
    checkpoint_every: int,
) -> int:
    """Appends an event to its tenant's log (signing a checkpoint when one is due); returns its seq."""
    head = locked_head(uow=uow)
    record = head.append(event, recorded_at=datetime.now(UTC))
    if is_emergency_access(event):
        # In the transaction that records the access: an emergency access cannot escape the queue.
        repository.add_emergency_access(
            db_session=uow.session,
            values={
                "tenant_id": record.tenant,
                "seq": record.seq,
                "event_id": record.event_id,
                "subject": record.subject,
                "actor": record.actor,
                "client_id": record.client_id,
                "reason": emergency_reason(event),
                "accessed_at": record.time,
                "queued_at": record.recorded_at,
            },
        )
    if head.size - head.checkpoint_size >= checkpoint_every:
        # A log that no longer extends its last checkpoint still records; it only stops being signed.
        with contextlib.suppress(InconsistentLog):
            _sign(uow=uow, head=head, signer=signer)
    return record.seq


def sign_checkpoint(*, uow: UnitOfWork, signer: CheckpointSigner) -> Checkpoint | None:
    """Signs a checkpoint of the tenant's log if entries were added since the last one."""
    head = locked_head(uow=uow)
    if head.size == head.checkpoint_size:
        return None
    return _sign(uow=uow, head=head, signer=signer)


def _sign(*, uow: UnitOfWork, head: LockedHead, signer: CheckpointSigner) -> Checkpoint:
    session, tenant, frontier = uow.session, uow.tenant, head.frontier
    write_pending(db_session=session, head=head)  # the proof below reads the stored tree
    root = frontier.root()
    previous = repository.last_checkpoint(db_session=session, tenant=tenant)
    if previous is not None:
        hashes = consistency_hashes(
            db_session=session, tenant=tenant, first=previous.tree_size, second=frontier.size
        )
        if not verify_consistency(previous.tree_size, frontier.size, previous.root_hash, root, hashes):
            log.error("audit log of a tenant does not extend its checkpoint at %d", previous.tree_size)
            raise InconsistentLog(f"the log does not extend the checkpoint of size {previous.tree_size}")
    signed_at = datetime.now(UTC)
    body = CheckpointBody.create(tenant=tenant, tree_size=frontier.size, root_hash=root, signed_at=signed_at)
    checkpoint = Checkpoint(
        tenant_id=tenant,
        tree_size=frontier.size,
        root_hash=root,
        signed_at=signed_at,
        key_id=signer.verifier.key_id,
        note=signer.sign_note(body.text()),
    )
    repository.add_checkpoint(db_session=session, checkpoint=checkpoint)
    repository.set_checkpointed(db_session=session, tenant=tenant, size=frontier.size, at=signed_at)
    head.checkpoint_size = frontier.size
    # Copies outside the audit service make a rewritten history detectable even if its database is lost.
    EVENTS.publish(uow, CheckpointSigned(
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash.hex(),
        signed_at=checkpoint.signed_at,
        key_id=checkpoint.key_id,
        note=checkpoint.note,
    ), subject="log")
    return checkpoint


def consistency_hashes(*, db_session: Session, tenant: str, first: int, second: int) -> list[bytes]:
    """The consistency proof between two tree sizes, from the stored nodes."""

    def build(node: NodeGetter) -> list[bytes]:
        return consistency_proof(first, second, node)

    return _with_nodes(db_session=db_session, tenant=tenant, build=build)


def _with_nodes(
    *, db_session: Session, tenant: str, build: Callable[[NodeGetter], list[bytes]]
) -> list[bytes]:
    """Runs a proof builder twice: once to learn which nodes it reads, then over those nodes."""
    nodes = repository.get_nodes(db_session=db_session, tenant=tenant, ids=nodes_needed(build))
    return build(lambda level, index: nodes[(level, index)])


def search_entries(
    *, db_session: Session, tenant: str, query: EntryQuery, cursor: str | None, limit: int
) -> EntryPage:
    """One page of a tenant's entries matching query, in log order."""
    page = repository.search_entries(db_session=db_session, tenant=tenant, query=query, cursor=cursor, limit=limit)
    return EntryPage(
        items=page.rows,
        next_cursor=page.next_cursor,
        total=repository.count_entries(db_session=db_session, tenant=tenant, query=query),
    )


def accesses_to(
    *, db_session: Session, tenant: str, subject: str, cursor: str | None, limit: int
) -> EntryPage:
    """Who read (or was refused) a person's data, across every service, in log order."""
    query = EntryQuery(subject=subject, reads_only=True)
    return search_entries(db_session=db_session, tenant=tenant, query=query, cursor=cursor, limit=limit)


def get_entry(*, db_session: Session, tenant: str, seq: int) -> Entry:
    """One entry; NotFound when the log has no such entry."""
    return or_not_found(repository.get_entry(db_session=db_session, tenant=tenant, seq=seq), "No such entry.")


def list_checkpoints(*, db_session: Session, tenant: str, cursor: str | None, limit: int) -> Slice[Checkpoint]:
    """A page of the tenant's checkpoints in order of size."""
    return repository.checkpoint_page(db_session=db_session, tenant=tenant, cursor=cursor, limit=limit)


def get_checkpoint(*, db_session: Session, tenant: str, tree_size: int | None) -> Checkpoint:
    """The checkpoint of this size, or the latest one; NotFound when there is none."""
    if tree_size is None:
        checkpoint = repository.last_checkpoint(db_session=db_session, tenant=tenant)
    else:
        checkpoint = repository.get_checkpoint(db_session=db_session, tenant=tenant, tree_size=tree_size)
    return or_not_found(checkpoint, "No such checkpoint.")


def prove_inclusion(
    *, db_session: Session, tenant: str, seq: int, tree_size: int | None
) -> InclusionProof:
    """The audit path of entry seq to a signed checkpoint (the latest unless tree_size is given)."""
    entry = get_entry(db_session=db_session, tenant=tenant, seq=seq)
    if tree_size is None:
        checkpoint = repository.last_checkpoint(db_session=db_session, tenant=tenant)
    else:
        checkpoint = get_checkpoint(db_session=db_session, tenant=tenant, tree_size=tree_size)
    if checkpoint is None or checkpoint.tree_size <= seq:
        raise NotYetCheckpointed("No signed checkpoint includes this entry yet; try again later.")

    def build(node: NodeGetter) -> list[bytes]:
        return inclusion_proof(seq, checkpoint.tree_size, node)

    hashes = _with_nodes(db_session=db_session, tenant=tenant, build=build)
    return InclusionProof(entry=entry, checkpoint=checkpoint, hashes=hashes)


def prove_consistency(*, db_session: Session, tenant: str, first: int, second: int) -> ConsistencyProof:
    """The proof that checkpoint first is a prefix of checkpoint second."""
    if first > second:
        raise ValidationFailed("The first checkpoint must not be larger than the second.")
    older = get_checkpoint(db_session=db_session, tenant=tenant, tree_size=first)
    newer = get_checkpoint(db_session=db_session, tenant=tenant, tree_size=second)
    hashes = consistency_hashes(db_session=db_session, tenant=tenant, first=first, second=second)
    return ConsistencyProof(first=older, second=newer, hashes=hashes)


def checkpoints_due(*, db_session: Session, max_age_seconds: float) -> list[str]:
    """The tenants whose unsigned entries have waited long enough for a checkpoint."""
    return repository.checkpoints_due(db_session=db_session, max_age_seconds=max_age_seconds)
