"""The JSONL export of a range of a tenant's log, with the checkpoints and proofs that verify it offline.

Lines, in order:
- `header`: tenant, range [from, to), and the hashes of the complete subtrees left of `from`;
- `checkpoint` (anchor): the last checkpoint at or before `from`, if any;
- `entry` lines, each `{"entry": <canonical entry bytes>, "kind": "entry", "leaf_hash": hex}`, with
  every checkpoint inside the range right after its last entry, carrying a consistency proof from
  the previous checkpoint;
- `checkpoint` (closing): when `to` is not itself checkpointed, the first checkpoint after it, with a
  consistency proof from the tree of size `to`;
- `trailer`: the counts, so that a cut-off file is noticed.

A subject export (`harambee-audit-subject-export/1`) holds only the entries about one person, each
with its own inclusion proof against one signed checkpoint:
- `header`: tenant, subject, range [from, to), where `to` is the checkpoint's tree size;
- `checkpoint`: that checkpoint;
- `entry` lines, `{"audit_path": [hex, ...], "entry": <canonical entry bytes>, "kind": "entry",
  "leaf_hash": hex}` (keys sorted, so the entry bytes end the same way as in a range export);
- `trailer`: the counts.
It proves that each exported entry is in the log as signed; it cannot prove that the log holds no
other entry about the person (a range export does that for a range).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import repository
from harambee_audit.entries import canonical_json, rfc3339
from harambee_audit.merkle import NodeGetter, NodeId, frontier_ids, inclusion_proof, nodes_needed
from harambee_audit.models import Checkpoint
from harambee_audit.repository import EntryQuery
from harambee_audit.service import NotYetCheckpointed, consistency_hashes
from harambee_audit.signing import origin
from harambee_common.db import unit_of_work
from harambee_common.problems import ValidationFailed

FORMAT = "harambee-audit-export/1"
SUBJECT_FORMAT = "harambee-audit-subject-export/1"
ENTRY_PREFIX = b'{"entry":'
ENTRY_MIDDLE = b',"kind":"entry","leaf_hash":"'
ENTRY_SUFFIX = b'"}\n'
CHUNK_LINES = 1000  # lines per yielded chunk: few thread hops, little memory
PROOF_BATCH = 500  # entries whose audit paths are built from one query for their nodes


@dataclass(frozen=True)
class ExportPlan:
    """The range to export, fixed before the first byte is sent."""

    tenant: str
    start: int
    end: int


def plan(*, db_session: Session, tenant: str, start: int, end: int | None) -> ExportPlan:
    """Checks the range; `end` defaults to the latest checkpoint (or the whole log if none)."""
    head = repository.get_head(db_session=db_session, tenant=tenant)
    size = head.size if head else 0
    if end is None:
        latest = repository.last_checkpoint(db_session=db_session, tenant=tenant)
        end = latest.tree_size if latest is not None else size
    if not 0 <= start <= end <= size:
        raise ValidationFailed(f"The range must lie within the log's {size} entries.", size=size)
    return ExportPlan(tenant=tenant, start=start, end=end)


def entry_line(canonical: bytes, leaf: bytes) -> bytes:
    """An entry line: the canonical bytes verbatim inside a canonical wrapper."""
    return ENTRY_PREFIX + canonical + ENTRY_MIDDLE + leaf.hex().encode() + ENTRY_SUFFIX


def _line(doc: dict) -> bytes:
    return canonical_json(doc) + b"\n"


def _checkpoint_line(checkpoint: Checkpoint, proofs: list[dict]) -> bytes:
    return _line(
        {
            "kind": "checkpoint",
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash.hex(),
            "signed_at": rfc3339(checkpoint.signed_at),
            "key_id": checkpoint.key_id,
            "note": checkpoint.note,
            "proofs": proofs,
        }
    )


def _consistency(db_session: Session, tenant: str, first: int, second: int) -> dict:
    hashes = consistency_hashes(db_session=db_session, tenant=tenant, first=first, second=second)
    return {"from": first, "hashes": [h.hex() for h in hashes]}


def export_lines(*, sessions: sessionmaker[Session], export: ExportPlan) -> Iterator[bytes]:
    """The export as chunks of JSONL, read in batches so that memory stays flat."""
    tenant, start, end = export.tenant, export.start, export.end
    with unit_of_work(sessions, tenant) as uow:
        session = uow.session
        prefix_ids = frontier_ids(start)
        nodes = repository.get_nodes(db_session=session, tenant=tenant, ids=prefix_ids)
        prev_leaf = (
            repository.get_nodes(db_session=session, tenant=tenant, ids=[(0, start - 1)]) if start else {}
        )
        yield _line(
            {
                "kind": "header",
                "format": FORMAT,
                "tenant": tenant,
                "origin": origin(tenant),
                "from": start,
                "to": end,
                "exported_at": rfc3339(datetime.now(UTC)),
                "prefix": [nodes[i].hex() for i in prefix_ids],
                "prev_leaf": prev_leaf[(0, start - 1)].hex() if start else None,
            }
        )
        entries = checkpoints = 0
        previous = repository.last_checkpoint(db_session=session, tenant=tenant, at_most=start)
        if previous is not None:
            yield _checkpoint_line(previous, [])
            checkpoints += 1
        pending = _checkpoints_after(session, tenant, previous.tree_size if previous else 0, end)
        upcoming = next(pending, None)
        chunk: list[bytes] = []
        for seq, canonical, leaf in repository.stream_entries(
            db_session=session, tenant=tenant, start=start, end=end
        ):
            chunk.append(entry_line(canonical, leaf))
            entries += 1
            while upcoming is not None and upcoming.tree_size == seq + 1:
                proofs = []
                if previous is not None:
                    proofs.append(_consistency(session, tenant, previous.tree_size, seq + 1))
                chunk.append(_checkpoint_line(upcoming, proofs))
                checkpoints += 1
                previous, upcoming = upcoming, next(pending, None)
            if len(chunk) >= CHUNK_LINES:
                yield b"".join(chunk)
                chunk = []
        if previous is None or previous.tree_size != end:
            closing = repository.first_checkpoint_from(db_session=session, tenant=tenant, size=end + 1)
            if closing is not None and end > 0:
                proofs = [_consistency(session, tenant, end, closing.tree_size)]
                if previous is not None:
                    proofs.append(_consistency(session, tenant, previous.tree_size, closing.tree_size))
                chunk.append(_checkpoint_line(closing, proofs))
                checkpoints += 1
        chunk.append(_line({"kind": "trailer", "entries": entries, "checkpoints": checkpoints}))
        yield b"".join(chunk)


def _checkpoints_after(session: Session, tenant: str, after: int, end: int) -> Iterator[Checkpoint]:
    """Checkpoints of sizes in (after, end], fetched a page at a time."""
    while True:
        page = repository.list_checkpoints(
            db_session=session, tenant=tenant, after_size=after, limit=500, up_to=end
        )
        yield from page
        if len(page) < 500:
            return
        after = page[-1].tree_size


@dataclass(frozen=True)
class SubjectExportPlan:
    """One person's entries in [start, checkpoint size), each to be proven against that checkpoint."""

    tenant: str
    subject: str
    start: int
    checkpoint: Checkpoint

    @property
    def end(self) -> int:
        """The checkpoint's tree size: the range's end."""
        return self.checkpoint.tree_size


def plan_subject(
    *, db_session: Session, tenant: str, subject: str, start: int, end: int | None
) -> SubjectExportPlan:
    """Checks the range; `end` must be a signed checkpoint's size (the latest by default)."""
    if end is None:
        checkpoint = repository.last_checkpoint(db_session=db_session, tenant=tenant)
        if checkpoint is None:
            raise NotYetCheckpointed("No signed checkpoint exists yet to prove entries against.")
    else:
        checkpoint = repository.get_checkpoint(db_session=db_session, tenant=tenant, tree_size=end)
        if checkpoint is None:
            raise ValidationFailed("For a subject export, `to` must be the tree size of a signed checkpoint.")
    if start > checkpoint.tree_size:
        raise ValidationFailed(f"`from` must not exceed the checkpoint's {checkpoint.tree_size} entries.")
    return SubjectExportPlan(tenant=tenant, subject=subject, start=start, checkpoint=checkpoint)


def subject_entry_line(path: list[bytes], canonical: bytes, leaf: bytes) -> bytes:
    """An entry line with its audit path first, then the entry bytes verbatim, as in a range export."""
    hashes = ",".join(f'"{h.hex()}"' for h in path).encode()
    return b'{"audit_path":[' + hashes + b'],"entry":' + canonical + ENTRY_MIDDLE + leaf.hex().encode() + ENTRY_SUFFIX


def subject_export_lines(*, sessions: sessionmaker[Session], export: SubjectExportPlan) -> Iterator[bytes]:
    """The subject export as chunks of JSONL; entries are read and proven a batch at a time."""
    tenant, size = export.tenant, export.end
    with unit_of_work(sessions, tenant) as uow:
        session = uow.session
        yield _line(
            {
                "kind": "header",
                "format": SUBJECT_FORMAT,
                "tenant": tenant,
                "origin": origin(tenant),
                "subject": export.subject,
                "from": export.start,
                "to": size,
                "exported_at": rfc3339(datetime.now(UTC)),
            }
        ) + _checkpoint_line(export.checkpoint, [])
        rows = repository.stream_matching(
            db_session=session, tenant=tenant, query=EntryQuery(subject=export.subject), start=export.start, end=size
        )
        entries = 0
        while batch := list(itertools.islice(rows, PROOF_BATCH)):
            needed: set[NodeId] = set()
            for seq, _, _ in batch:
                needed |= nodes_needed(lambda node, seq=seq: inclusion_proof(seq, size, node))
            nodes = repository.get_nodes(db_session=session, tenant=tenant, ids=needed)
            yield b"".join(
                subject_entry_line(inclusion_proof(seq, size, _getter(nodes)), canonical, leaf)
                for seq, canonical, leaf in batch
            )
            entries += len(batch)
        yield _line({"kind": "trailer", "entries": entries, "checkpoints": 1})


def _getter(nodes: dict[NodeId, bytes]) -> NodeGetter:
    return lambda level, index: nodes[(level, index)]
