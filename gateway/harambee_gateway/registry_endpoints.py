"""The registry's read API for Harambee's services, `/registry/v1/...`.

A service loads its local copy of the agreements here at startup, then follows
`registry.events`. It authenticates like any client (scope `registry:read`): the gateway is the
public edge, so an "internal" route on it would be public too, and nothing here trusts the network.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from harambee_common.pagination import Cursor, Limit, Page
from harambee_gateway import agreements
from harambee_gateway.admin.agreements import StatusFilter
from harambee_gateway.auth import registry_reader
from harambee_gateway.schemas import AgreementView
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter(prefix="/registry/v1", tags=["registry"], dependencies=[Depends(registry_reader)])


@router.get("/agreements")
def list_agreements(
    uow: RegistryUnitOfWorkDep,
    party: str | None = None,
    agreement_status: StatusFilter = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[AgreementView]:
    """Agreements in their current version (every status, so a copy learns of suspensions too)."""
    found = agreements.list_agreements(uow=uow, party=party, status=agreement_status, cursor=cursor, limit=limit)
    return Page[AgreementView](items=found.rows, next_cursor=found.next_cursor)
