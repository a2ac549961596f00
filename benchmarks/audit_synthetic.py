"""A synthetic audit log for the audit benchmarks, built with the service's own entry, tree and signing code.

`entries()` yields what the consumer would store for N access records; `write_export()` writes the JSONL
export the service would stream for them, with a signed checkpoint every `every` entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from harambee_audit.entries import EntryRecord, canonical_json, rfc3339
from harambee_audit.export import FORMAT, entry_line
from harambee_audit.merkle import Frontier, consistency_proof, leaf_hash
from harambee_audit.signing import CheckpointBody, CheckpointSigner, origin
from harambee_common.events import Event

TENANT = "ke-benchmark"
START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    """One entry as the database holds it, plus the subtrees its append closed."""

    record: EntryRecord
    canonical: bytes
    leaf: bytes
    closed: list[tuple[int, int, bytes]]


def access_event(i: int, tenant: str = TENANT) -> Event:
    """The i-th synthetic read of a person's record (references only)."""
    return Event(
        type="access.recorded",
        tenant=tenant,
        topic="intake.events",
        source="/harambee/intake",
        subject=f"subj-{i % 50_000:08d}",
        data={
            "actor": f"worker-{i % 400}",
            "client_id": "county-console",
            "organisation": "county-programme",
            "roles": ["case_worker"],
            "resource": f"referral/{uuid.UUID(int=i)}",
            "fields": ["age_band", "concern", "referrer_role"],
            "purpose": "assessment",
        },
        id=str(uuid.UUID(int=(1 << 64) + i)),
        time=START + timedelta(milliseconds=i),
        traceparent=None,
    )


def entries(count: int, tenant: str = TENANT) -> Iterator[Stored]:
    """The entries the consumer would append for count events, in order."""
    frontier, prev = Frontier(), None
    for i in range(count):
        event = access_event(i, tenant)
        record = EntryRecord.from_event(event, seq=i, prev=prev, recorded_at=event.time + timedelta(seconds=1))
        canonical = record.canonical()
        leaf = leaf_hash(canonical)
        yield Stored(record, canonical, leaf, frontier.append(leaf))
        prev = leaf


def checkpoint_doc(signer: CheckpointSigner, tenant: str, size: int, root: bytes, proofs: list[dict]) -> dict:
    """A checkpoint line as the export writes it."""
    signed_at = START + timedelta(days=1, seconds=size)
    body = CheckpointBody.create(tenant=tenant, tree_size=size, root_hash=root, signed_at=signed_at)
    return {
        "kind": "checkpoint",
        "tree_size": size,
        "root_hash": root.hex(),
        "signed_at": rfc3339(signed_at),
        "key_id": signer.verifier.key_id,
        "note": signer.sign_note(body.text()),
        "proofs": proofs,
    }


def write_export(out: BinaryIO, *, count: int, every: int, signer: CheckpointSigner, tenant: str = TENANT) -> None:
    """Writes the export of entries [0, count) with a checkpoint every `every` entries (and at the end)."""
    nodes: dict[tuple[int, int], bytes] = {}
    frontier = Frontier()
    header = {
        "kind": "header", "format": FORMAT, "tenant": tenant, "origin": origin(tenant), "from": 0,
        "to": count, "exported_at": rfc3339(START), "prefix": [], "prev_leaf": None,
    }
    out.write(canonical_json(header) + b"\n")
    previous, checkpoints = 0, 0
    for stored in entries(count, tenant):
        out.write(entry_line(stored.canonical, stored.leaf))
        nodes[(0, stored.record.seq)] = stored.leaf
        frontier.append(stored.leaf)
        nodes.update({(level, index): h for level, index, h in stored.closed})
        size = stored.record.seq + 1
        if size % every == 0 or size == count:
            proofs = []
            if previous:
                hashes = consistency_proof(previous, size, lambda lv, ix: nodes[(lv, ix)])
                proofs.append({"from": previous, "hashes": [h.hex() for h in hashes]})
            out.write(canonical_json(checkpoint_doc(signer, tenant, size, frontier.root(), proofs)) + b"\n")
            previous, checkpoints = size, checkpoints + 1
    out.write(canonical_json({"kind": "trailer", "entries": count, "checkpoints": checkpoints}) + b"\n")


def ensure_export(path: Path, *, count: int, every: int, signer: CheckpointSigner) -> None:
    """Writes the export to path (for the verifier benchmark)."""
    with path.open("wb", buffering=1 << 20) as out:
        write_export(out, count=count, every=every, signer=signer)


def seed(owner_url: str, *, count: int, every: int, signer: CheckpointSigner, tenant: str = TENANT) -> None:
    """Loads count entries, their tree nodes, checkpoints and the log head with COPY, as the owner."""
    import psycopg

    url = owner_url.replace("postgresql+psycopg://", "postgresql://")
    frontier, last, checkpoints = Frontier(), None, []
    entry_columns = (
        "tenant_id, seq, event_id, type, source, subject, actor, client_id, agreement, purpose, time, "
        "recorded_at, data, canonical, leaf_hash"
    )
    # Two connections, so that entries and tree nodes stream into their tables side by side.
    with psycopg.connect(url) as conn, psycopg.connect(url) as node_conn:
        with (
            conn.cursor().copy(f"COPY entries ({entry_columns}) FROM STDIN") as copy,
            node_conn.cursor().copy("COPY merkle_nodes (tenant_id, level, idx, hash) FROM STDIN") as node_copy,
        ):
            for stored in entries(count, tenant):
                r = stored.record
                copy.write_row((
                    tenant, r.seq, r.event_id, r.type, r.source, r.subject, r.actor, r.client_id, r.agreement,
                    r.purpose, r.time, r.recorded_at, canonical_json(r.data).decode(), stored.canonical,
                    stored.leaf,
                ))
                frontier.append(stored.leaf)
                for level, index, h in stored.closed:
                    node_copy.write_row((tenant, level, index, h))
                last = stored.leaf
                if frontier.size % every == 0:
                    checkpoints.append(checkpoint_doc(signer, tenant, frontier.size, frontier.root(), []))
        with conn.cursor() as cur:
            for doc in checkpoints:
                cur.execute(
                    "INSERT INTO checkpoints (tenant_id, tree_size, root_hash, signed_at, key_id, note) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    (tenant, doc["tree_size"], bytes.fromhex(doc["root_hash"]), doc["signed_at"],
                     doc["key_id"], doc["note"]),
                )
            cur.execute(
                "INSERT INTO log_heads (tenant_id, size, last_leaf, frontier, checkpoint_size, checkpoint_at) "
                "VALUES (%s, %s, %s, %s, %s, now())",
                (tenant, frontier.size, last, frontier.to_bytes(), checkpoints[-1]["tree_size"] if checkpoints else 0),
            )
            cur.execute("ANALYZE")
