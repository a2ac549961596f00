"""OAuth2 clients: machine clients with their grants and secrets, and single-page apps."""

from __future__ import annotations

from fastapi import APIRouter, status

from harambee_common.pagination import Cursor, Limit, Page
from harambee_common.problems import ValidationFailed
from harambee_gateway import clients
from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import ClientCreate, ClientCreated, ClientSecret, ClientView, GrantIn, SecretRotation
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()


@router.post("/clients", status_code=status.HTTP_201_CREATED)
def create_client(body: ClientCreate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> ClientCreated:
    """Registers a machine client; its secret is in this response and nowhere else."""
    client, secret = clients.create_client(uow=uow, data=body, actor=admin.subject)
    return ClientCreated.of(client, client_secret=secret)


@router.get("/clients")
def list_clients(uow: RegistryUnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None) -> Page[ClientView]:
    """Lists clients, oldest first."""
    found = clients.list_clients(uow=uow, cursor=cursor, limit=limit)
    return Page[ClientView](items=[ClientView.of(c) for c in found.rows], next_cursor=found.next_cursor)


@router.get("/clients/{client_id}")
def get_client(client_id: str, uow: RegistryUnitOfWorkDep) -> ClientView:
    """Gets one client."""
    return ClientView.of(clients.get_client(uow=uow, client_id=client_id))


@router.put("/clients/{client_id}/grants/{tenant}")
def set_client_grant(
    client_id: str, tenant: str, body: GrantIn, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> ClientView:
    """Sets the roles and scopes a client holds in a tenant (the body names the same tenant)."""
    if body.tenant != tenant:
        raise ValidationFailed("The body names another tenant than the path.")
    return ClientView.of(clients.set_client_grant(uow=uow, client_id=client_id, grant=body, actor=admin.subject))


@router.post("/clients/{client_id}/secret/rotate")
def rotate_client_secret(
    client_id: str, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep, body: SecretRotation | None = None
) -> ClientSecret:
    """Issues a new secret; the old one keeps working until `finish` or its expiry, whichever is first."""
    body = body or SecretRotation()
    secret, until = clients.start_secret_rotation(
        uow=uow, client_id=client_id, previous_valid_for_seconds=body.previous_valid_for_seconds, actor=admin.subject
    )
    return ClientSecret(client_id=client_id, client_secret=secret, previous_secret_valid_until=until)


@router.post("/clients/{client_id}/secret/finish")
def finish_secret_rotation(client_id: str, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> ClientView:
    """Ends a rotation: the previous secret stops working now."""
    return ClientView.of(clients.finish_secret_rotation(uow=uow, client_id=client_id, actor=admin.subject))


@router.post("/clients/{client_id}/revoke")
def revoke_client(client_id: str, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> ClientView:
    """Revokes a client at once; its tokens already issued expire on their own (they are short)."""
    return ClientView.of(clients.revoke_client(uow=uow, client_id=client_id, actor=admin.subject))
