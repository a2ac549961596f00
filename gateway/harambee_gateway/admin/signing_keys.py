"""The keys that sign access tokens: which are published, and rotation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import SigningKeyView
from harambee_gateway.signing import KeyRing
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()


def _key_ring(request: Request) -> KeyRing:
    return request.app.state.signing_key


Ring = Annotated[KeyRing, Depends(_key_ring)]


@router.get("/signing-keys")
def list_signing_keys(ring: Ring) -> list[SigningKeyView]:
    """The published signing keys: the one signing, those waiting to sign, those retiring."""
    return [SigningKeyView(**k) for k in ring.describe()]


@router.post("/signing-keys", status_code=status.HTTP_201_CREATED)
def rotate_signing_key(
    request: Request, ring: Ring, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> SigningKeyView:
    """Makes a new signing key: published now, signing after the publication lead time."""
    lead = request.app.state.settings.signing_key_publish_lead_seconds
    made = ring.rotate(uow=uow, publish_lead_seconds=lead, actor=admin.subject)
    return SigningKeyView(kid=made.key.kid, signs_from=made.signs_from, state="pending")
