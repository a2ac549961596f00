"""People who sign in: their accounts and roles, and one-time enrolments for their passwords and second factors.

Nobody here receives another person's password or second factor: a reset is an enrolment sent to the
person (enrolments.py). That holds for the client-credentials admin client too, which is for provisioning.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from harambee_common.pagination import Cursor, Limit, Page
from harambee_common.problems import problem_responses
from harambee_gateway import enrolments, people
from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import (
    EnrolmentIssued,
    EnrolmentRequest,
    PersonCreate,
    PersonCreated,
    PersonView,
    RoleGrant,
)
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()


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


@router.post("/people/{person_id}/enrolments", status_code=status.HTTP_201_CREATED,
             responses=problem_responses(404, meanings={404: "No such person."}))
def issue_enrolment(
    person_id: uuid.UUID, body: EnrolmentRequest, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep, request: Request
) -> EnrolmentIssued:
    """Resets a person's password and/or second factor the only way there is: a one-time enrolment link for them.

    Their current password and factor keep working until they use the link; a newer enrolment replaces
    this one. Deliver the link to the person alone.
    """
    issued = enrolments.issue(uow=uow, person_id=person_id, password=body.password,
                              second_factor=body.second_factor, actor=admin.subject)
    return EnrolmentIssued(
        id=issued.enrolment.id, person_id=person_id, password=body.password, second_factor=body.second_factor,
        expires_at=issued.enrolment.expires_at,
        enrolment_url=enrolments.link(issuer=request.app.state.settings.issuer, token=issued.token))


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
