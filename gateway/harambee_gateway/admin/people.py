"""People who sign in: their accounts, roles, passwords and second factors."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from harambee_common.pagination import Cursor, Limit, Page
from harambee_gateway import people
from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import PersonCreate, PersonCreated, PersonPassword, PersonView, RoleGrant, SecondFactor
from harambee_gateway.secret_box import SecretBox
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()


def _totp_secrets(request: Request) -> SecretBox:
    return request.app.state.totp_secrets


TotpSecrets = Annotated[SecretBox, Depends(_totp_secrets)]


@router.post("/people", status_code=status.HTTP_201_CREATED)
def create_person(body: PersonCreate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> PersonCreated:
    """Creates a person; a generated password is in this response and nowhere else."""
    person, generated = people.create_person(uow=uow, data=body, actor=admin.subject)
    return PersonCreated.of(person, initial_password=generated)


@router.get("/people")
def list_people(uow: RegistryUnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None) -> Page[PersonView]:
    """Lists people with their current roles, oldest first."""
    found = people.list_people(uow=uow, cursor=cursor, limit=limit)
    return Page[PersonView](items=[PersonView.of(p) for p in found.rows], next_cursor=found.next_cursor)


@router.get("/people/{person_id}")
def get_person(person_id: uuid.UUID, uow: RegistryUnitOfWorkDep) -> PersonView:
    """Gets one person."""
    return PersonView.of(people.get_person(uow=uow, person_id=person_id))


@router.post("/people/{person_id}/password")
def reset_password(person_id: uuid.UUID, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> PersonPassword:
    """Gives a person a new generated password, in this response and nowhere else."""
    password = people.reset_password(uow=uow, person_id=person_id, actor=admin.subject)
    return PersonPassword(person_id=person_id, password=password)


@router.post("/people/{person_id}/second-factor")
def enrol_second_factor(
    person_id: uuid.UUID, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep, box: TotpSecrets
) -> SecondFactor:
    """Sets up a TOTP second factor; hand the secret (or its URI as a QR code) to the person once."""
    secret, uri = people.enrol_second_factor(uow=uow, box=box, person_id=person_id, actor=admin.subject)
    return SecondFactor(secret=secret, otpauth_uri=uri)


@router.post("/people/{person_id}/roles", status_code=status.HTTP_201_CREATED)
def grant_role(person_id: uuid.UUID, body: RoleGrant, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> PersonView:
    """Gives a person a role in a tenant."""
    person = people.grant_role(uow=uow, person_id=person_id, tenant=body.tenant, role=body.role, actor=admin.subject,
                               override=body.staff_role_override)
    return PersonView.of(person)


@router.delete("/people/{person_id}/roles/{tenant}/{role}")
def revoke_role(
    person_id: uuid.UUID, tenant: str, role: str, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> PersonView:
    """Takes a role in a tenant away from a person."""
    person = people.revoke_role(uow=uow, person_id=person_id, tenant=tenant, role=role, actor=admin.subject)
    return PersonView.of(person)
