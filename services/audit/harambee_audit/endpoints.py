"""The compliance API: routes only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from harambee_audit import export, service
from harambee_audit.repository import EntryQuery
from harambee_audit.schemas import (
    CheckpointOut,
    CheckpointPageOut,
    ConsistencyProofOut,
    EntryOut,
    EntryPageOut,
    InclusionProofOut,
    SigningKeyOut,
    SigningKeysOut,
)
from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit

ComplianceOfficer = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={"audit:read"}, roles={"compliance_officer"})),
]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]

public = APIRouter(prefix="/v1", tags=["signing keys"])
router = APIRouter(prefix="/v1/tenants/{tenant}", tags=["audit"])


@public.get("/signing-keys", response_model=SigningKeysOut)
def signing_keys(request: Request) -> SigningKeysOut:
    """The public keys that sign checkpoints (pin them out of band to verify exports)."""
    signer = request.app.state.signer
    keys = [SigningKeyOut.of(signer.verifier, status="active")] if signer else []
    keys += [SigningKeyOut.of(k, status="retired") for k in request.app.state.retired_keys]
    return SigningKeysOut(keys=keys)


@router.get("/entries", response_model=EntryPageOut)
def search_entries(
    principal: ComplianceOfficer,
    uow: UnitOfWorkDep,
    subject: str | None = None,
    type: str | None = None,
    actor: str | None = None,
    client_id: str | None = None,
    agreement: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> EntryPageOut:
    """Entries in log order, filtered by subject, type, actor, client, agreement and time [since, until)."""
    query = EntryQuery(
        subject=subject, type=type, actor=actor, client_id=client_id, agreement=agreement,
        since=since, until=until,
    )
    page = service.search_entries(
        db_session=uow.session, tenant=principal.tenant, query=query, cursor=cursor, limit=limit
    )
    return EntryPageOut.of(page)


@router.get("/entries/{seq}", response_model=EntryOut)
def get_entry(principal: ComplianceOfficer, uow: UnitOfWorkDep, seq: int) -> EntryOut:
    """One entry by its sequence number."""
    return EntryOut.of(service.get_entry(db_session=uow.session, tenant=principal.tenant, seq=seq))


@router.get("/entries/{seq}/inclusion-proof", response_model=InclusionProofOut)
def inclusion_proof(
    principal: ComplianceOfficer, uow: UnitOfWorkDep, seq: int, tree_size: int | None = None
) -> InclusionProofOut:
    """The entry's audit path to a signed checkpoint (the latest unless tree_size names one)."""
    proof = service.prove_inclusion(
        db_session=uow.session, tenant=principal.tenant, seq=seq, tree_size=tree_size
    )
    return InclusionProofOut.of(proof)


@router.get("/subjects/{subject}/accesses", response_model=EntryPageOut)
def accesses(
    principal: ComplianceOfficer,
    uow: UnitOfWorkDep,
    subject: str,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> EntryPageOut:
    """Who has accessed (or was refused) this person's record, across every service."""
    page = service.accesses_to(
        db_session=uow.session, tenant=principal.tenant, subject=subject, cursor=cursor, limit=limit
    )
    return EntryPageOut.of(page)


@router.get("/checkpoints", response_model=CheckpointPageOut)
def list_checkpoints(
    principal: ComplianceOfficer, uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = 100
) -> CheckpointPageOut:
    """Signed checkpoints in order of tree size."""
    items, next_cursor = service.list_checkpoints(
        db_session=uow.session, tenant=principal.tenant, cursor=cursor, limit=limit
    )
    return CheckpointPageOut(items=[CheckpointOut.of(c) for c in items], next_cursor=next_cursor)


@router.get("/checkpoints/latest", response_model=CheckpointOut)
def latest_checkpoint(principal: ComplianceOfficer, uow: UnitOfWorkDep) -> CheckpointOut:
    """The most recent signed checkpoint."""
    return CheckpointOut.of(
        service.get_checkpoint(db_session=uow.session, tenant=principal.tenant, tree_size=None)
    )


@router.get("/checkpoints/{tree_size}", response_model=CheckpointOut)
def get_checkpoint(principal: ComplianceOfficer, uow: UnitOfWorkDep, tree_size: int) -> CheckpointOut:
    """The checkpoint of one tree size."""
    return CheckpointOut.of(
        service.get_checkpoint(db_session=uow.session, tenant=principal.tenant, tree_size=tree_size)
    )


@router.get("/consistency-proof", response_model=ConsistencyProofOut)
def consistency_proof(
    principal: ComplianceOfficer,
    uow: UnitOfWorkDep,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int, Query(ge=1)],
) -> ConsistencyProofOut:
    """The proof that checkpoint `first` is a prefix of checkpoint `second`."""
    proof = service.prove_consistency(
        db_session=uow.session, tenant=principal.tenant, first=first, second=second
    )
    return ConsistencyProofOut.of(proof)


@router.get("/export", response_class=StreamingResponse)
def export_range(
    request: Request,
    principal: ComplianceOfficer,
    uow: UnitOfWorkDep,
    start: Annotated[int, Query(alias="from", ge=0)] = 0,
    end: Annotated[int | None, Query(alias="to", ge=0)] = None,
) -> StreamingResponse:
    """Entries [from, to) as JSONL with checkpoints and proofs; `to` defaults to the latest checkpoint."""
    plan = export.plan(db_session=uow.session, tenant=principal.tenant, start=start, end=end)
    filename = f"audit-{principal.tenant}-{plan.start}-{plan.end}.jsonl"
    return StreamingResponse(
        export.export_lines(sessions=request.app.state.sessions, export=plan),
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
