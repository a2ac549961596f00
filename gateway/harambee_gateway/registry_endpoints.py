"""The registry's read API for Harambee's services, `/registry/v1/...`.

A service loads its local copy of the agreements here at startup, then follows
`registry.events`. It authenticates like any client (scope `registry:read`): the gateway is the
public edge, so an "internal" route on it would be public too, and nothing here trusts the network.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from harambee_common.pagination import Limit
from harambee_gateway.admin_endpoints import agreement_page
from harambee_gateway.auth import RegistryReader, RegistrySession
from harambee_gateway.schemas import AgreementStatus, AgreementView, Page

router = APIRouter(prefix="/registry/v1", tags=["registry"])


@router.get("/agreements")
def list_agreements(
    reader: RegistryReader,
    db_session: RegistrySession,
    party: str | None = None,
    agreement_status: Annotated[AgreementStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Page[AgreementView]:
    """Agreements in their current version (every status, so a copy learns of suspensions too)."""
    return agreement_page(db_session=db_session, party=party, status=agreement_status, limit=limit, cursor=cursor)
