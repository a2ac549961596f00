"""The compliance API: routes only. What a route returns of the log, it records first (reads.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import StreamingResponse

from harambee_audit import emergency, export, read_volume, service
from harambee_audit.auth import AuditReader, ComplianceOfficer
from harambee_audit.config import AuditSettings
from harambee_audit.reads import ENTRY_FIELDS, ENTRY_NAMES, LogReader, PartialView
from harambee_audit.repository import EntryQuery
from harambee_audit.schemas import (
    CheckpointOut,
    CheckpointPageOut,
    CloseAlertIn,
    ConsistencyProofOut,
    EmergencyAccessOut,
    EmergencyQueueOut,
    EntryOut,
    EntryPageOut,
    InclusionProofOut,
    ReadAlertOut,
    ReadAlertPageOut,
    ReviewIn,
    SigningKeyOut,
    SigningKeysOut,
)
from harambee_common.db import UnitOfWorkDep
from harambee_common.openapi_contract import responses_for
from harambee_common.pagination import BIGINT_MAX, BigIntPath, BigIntQuery, Cursor, Limit, Timestamp
from harambee_common.tenancy import tenant_router

# A checkpoint's tree size: the first holds at least one entry.
TreeSize = Annotated[int, Query(ge=1, le=BIGINT_MAX)]
QueueStatus = Annotated[
    Literal["pending", "signed_off", "flagged", "all"], Query(description="which items; pending by default")
]

public = APIRouter(prefix="/v1", tags=["signing keys"])
router = tenant_router(tags=["audit"])


@public.get("/signing-keys", response_model=SigningKeysOut)
def signing_keys(request: Request) -> SigningKeysOut:
    """The public keys that sign checkpoints (pin them out of band to verify exports)."""
    keys = [SigningKeyOut.of(request.app.state.signer.verifier, status="active")]
    keys += [SigningKeyOut.of(k, status="retired") for k in request.app.state.retired_keys]
    return SigningKeysOut(keys=keys)


@router.get("/entries", response_model=EntryPageOut)
def search_entries(
    reader: LogReader,
    uow: UnitOfWorkDep,
    subject: str | None = None,
    type: str | None = None,
    actor: str | None = None,
    client_id: str | None = None,
    agreement: str | None = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> EntryPageOut:
    """Entries in log order, filtered by subject, type, actor, client, agreement and time [since, until)."""
    query = EntryQuery(
        subject=subject, type=type, actor=actor, client_id=client_id, agreement=agreement,
        since=since, until=until,
    )
    page = service.search_entries(
        db_session=uow.session, tenant=reader.tenant, query=query, cursor=cursor, limit=limit
    )
    items = reader.entries(page.items, resource="log/entries")
    return EntryPageOut(items=items, next_cursor=page.next_cursor, total=page.total)


@router.get("/entries/{seq}", response_model=EntryOut)
def get_entry(reader: LogReader, uow: UnitOfWorkDep, seq: BigIntPath) -> EntryOut:
    """One entry by its sequence number."""
    entry = service.get_entry(db_session=uow.session, tenant=reader.tenant, seq=seq)
    [shown] = reader.entries([entry], resource=f"log/entries/{seq}")
    return shown


@router.get("/entries/{seq}/inclusion-proof", response_model=InclusionProofOut,
            responses=responses_for(service.NotYetCheckpointed))
def inclusion_proof(
    principal: AuditReader, uow: UnitOfWorkDep, seq: BigIntPath, tree_size: BigIntQuery | None = None
) -> InclusionProofOut:
    """The entry's audit path to a signed checkpoint (the latest unless tree_size names one)."""
    proof = service.prove_inclusion(
        db_session=uow.session, tenant=principal.tenant, seq=seq, tree_size=tree_size
    )
    return InclusionProofOut.of(proof)


@router.get("/subjects/{subject}/accesses", response_model=EntryPageOut)
def accesses(
    reader: LogReader,
    uow: UnitOfWorkDep,
    subject: str,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> EntryPageOut:
    """Who has accessed (or was refused) this person's record, across every service."""
    page = service.accesses_to(
        db_session=uow.session, tenant=reader.tenant, subject=subject, cursor=cursor, limit=limit
    )
    items = reader.entries(page.items, resource=f"log/subjects/{subject}/accesses")
    return EntryPageOut(items=items, next_cursor=page.next_cursor, total=page.total)


@router.get("/checkpoints", response_model=CheckpointPageOut)
def list_checkpoints(
    principal: AuditReader, uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = 100
) -> CheckpointPageOut:
    """Signed checkpoints in order of tree size."""
    page = service.list_checkpoints(db_session=uow.session, tenant=principal.tenant, cursor=cursor, limit=limit)
    return CheckpointPageOut(items=[CheckpointOut.of(c) for c in page.rows], next_cursor=page.next_cursor)


@router.get("/checkpoints/latest", response_model=CheckpointOut)
def latest_checkpoint(principal: AuditReader, uow: UnitOfWorkDep) -> CheckpointOut:
    """The most recent signed checkpoint."""
    return CheckpointOut.of(
        service.get_checkpoint(db_session=uow.session, tenant=principal.tenant, tree_size=None)
    )


@router.get("/checkpoints/{tree_size}", response_model=CheckpointOut)
def get_checkpoint(principal: AuditReader, uow: UnitOfWorkDep, tree_size: BigIntPath) -> CheckpointOut:
    """The checkpoint of one tree size."""
    return CheckpointOut.of(
        service.get_checkpoint(db_session=uow.session, tenant=principal.tenant, tree_size=tree_size)
    )


@router.get("/consistency-proof", response_model=ConsistencyProofOut)
def consistency_proof(
    principal: AuditReader,
    uow: UnitOfWorkDep,
    first: TreeSize,
    second: TreeSize,
) -> ConsistencyProofOut:
    """The proof that checkpoint `first` is a prefix of checkpoint `second`."""
    proof = service.prove_consistency(
        db_session=uow.session, tenant=principal.tenant, first=first, second=second
    )
    return ConsistencyProofOut.of(proof)


@router.get("/export", response_class=StreamingResponse, responses={
    200: {"description": "One JSON document per line: entries, checkpoints and proofs",
          "content": {"application/jsonl": {"schema": {"type": "string"}}}},
    **responses_for(service.NotYetCheckpointed, PartialView),
})
def export_range(
    request: Request,
    reader: LogReader,
    uow: UnitOfWorkDep,
    start: Annotated[int, Query(alias="from", ge=0, le=BIGINT_MAX)] = 0,
    end: Annotated[int | None, Query(alias="to", ge=0, le=BIGINT_MAX)] = None,
    subject: Annotated[
        str | None, Query(description="only this person's entries, each with its own inclusion proof")
    ] = None,
) -> StreamingResponse:
    """Entries [from, to) as JSONL with checkpoints and proofs; `to` defaults to the latest checkpoint.

    With `subject`, only the entries about that person, each with an inclusion proof against the
    checkpoint of size `to` (which must then be a checkpoint's size). The export is recorded (under
    the person, or `log` for a range) in the request's transaction, before its first line is sent.
    Its entries are whole (their hashes verify them): a national officer's agreement must name every field.
    """
    reader.whole(ENTRY_NAMES)
    if subject is not None:
        about = export.plan_subject(
            db_session=uow.session, tenant=reader.tenant, subject=subject, start=start, end=end
        )
        lines = export.subject_export_lines(sessions=request.app.state.sessions, export=about)
        filename = f"audit-{reader.tenant}-subject-{about.start}-{about.end}.jsonl"
        reader.record(subjects=[subject], resource=f"log/export/{about.start}-{about.end}", fields=ENTRY_FIELDS)
    else:
        plan = export.plan(db_session=uow.session, tenant=reader.tenant, start=start, end=end)
        lines = export.export_lines(sessions=request.app.state.sessions, export=plan)
        filename = f"audit-{reader.tenant}-{plan.start}-{plan.end}.jsonl"
        reader.record(subjects=["log"], resource=f"log/export/{plan.start}-{plan.end}", fields=ENTRY_FIELDS)
    return StreamingResponse(
        lines,
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _settings(request: Request) -> AuditSettings:
    return request.app.state.audit


@router.get("/emergency-accesses", response_model=EmergencyQueueOut, responses=responses_for(PartialView))
def emergency_queue(
    request: Request,
    reader: LogReader,
    uow: UnitOfWorkDep,
    status: QueueStatus = "pending",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> EmergencyQueueOut:
    """The break-the-glass queue, oldest first: each access's reason, age in hours, and whether it is overdue."""
    page = emergency.list_queue(
        db_session=uow.session,
        tenant=reader.tenant,
        status=status,
        cursor=cursor,
        limit=limit,
        overdue_hours=_settings(request).review_overdue_hours,
    )
    reader.emergency_accesses(page.items, resource="emergency-accesses")
    return EmergencyQueueOut.of(page)


@router.get("/emergency-accesses/{seq}", response_model=EmergencyAccessOut, responses=responses_for(PartialView))
def emergency_access(
    request: Request, reader: LogReader, uow: UnitOfWorkDep, seq: BigIntPath
) -> EmergencyAccessOut:
    """One emergency access by the seq of its log entry, with the decision on it if there is one."""
    item = emergency.get_item(
        db_session=uow.session,
        tenant=reader.tenant,
        seq=seq,
        overdue_hours=_settings(request).review_overdue_hours,
    )
    reader.emergency_accesses([item], resource=f"emergency-accesses/{seq}")
    return EmergencyAccessOut.of(item)


@router.post(
    "/emergency-accesses/{seq}/review", response_model=EmergencyAccessOut, status_code=201,
    responses=responses_for(emergency.AlreadyReviewed, emergency.OwnAccess),
)
def review_emergency_access(
    request: Request,
    principal: ComplianceOfficer,
    uow: UnitOfWorkDep,
    seq: BigIntPath,
    decision: Annotated[ReviewIn, Body()],
) -> EmergencyAccessOut:
    """Signs off or flags an emergency access, once; the decision is appended to the tenant's log."""
    settings = _settings(request)
    item = emergency.review(
        uow=uow,
        principal=principal,
        seq=seq,
        decision=decision.decision,
        note=decision.note,
        signer=request.app.state.signer,
        checkpoint_every=settings.checkpoint_every,
        overdue_hours=settings.review_overdue_hours,
    )
    return EmergencyAccessOut.of(item)


@router.get("/read-alerts", response_model=ReadAlertPageOut, responses=responses_for(PartialView))
def read_alerts(
    reader: LogReader,
    uow: UnitOfWorkDep,
    status: Annotated[Literal["open", "closed", "all"], Query(description="open by default")] = "open",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> ReadAlertPageOut:
    """Actors whose reads on a day were far above their own usual level, oldest alert first."""
    page = read_volume.list_alerts(
        db_session=uow.session, tenant=reader.tenant, status=status, cursor=cursor, limit=limit
    )
    reader.alerts(page.items)
    return ReadAlertPageOut.of(page)


@router.get("/read-alerts/{alert_id}", response_model=ReadAlertOut, responses=responses_for(PartialView))
def read_alert(reader: LogReader, uow: UnitOfWorkDep, alert_id: uuid.UUID) -> ReadAlertOut:
    """One alert."""
    alert = read_volume.get_alert(db_session=uow.session, tenant=reader.tenant, alert_id=alert_id)
    reader.alerts([alert])
    return ReadAlertOut.of(alert)


@router.post("/read-alerts/{alert_id}/close", response_model=ReadAlertOut,
             responses=responses_for(read_volume.AlreadyClosed, read_volume.OwnAlert))
def close_read_alert(
    request: Request,
    principal: ComplianceOfficer,
    uow: UnitOfWorkDep,
    alert_id: uuid.UUID,
    closing: Annotated[CloseAlertIn, Body()],
) -> ReadAlertOut:
    """Closes an open alert with a note, once; the closing is appended to the tenant's log."""
    alert = read_volume.close_alert(
        uow=uow,
        principal=principal,
        alert_id=alert_id,
        note=closing.note,
        signer=request.app.state.signer,
        checkpoint_every=_settings(request).checkpoint_every,
    )
    return ReadAlertOut.of(alert)
