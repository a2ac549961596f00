"""People who sign in: their accounts, roles per tenant, passwords and second factors.

Events name a person by id only: never a username, name or contact detail. Functions here never
commit; the caller's unit of work does.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.permissions import Role
from harambee_common.problems import Conflict, ValidationFailed, or_not_found
from harambee_gateway import partners, passwords, repository
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.models import Person, PersonRole
from harambee_gateway.organisations import get_organisation_or_invalid
from harambee_gateway.schemas import PersonCreate, StaffRoleOverride


def get_person(*, uow: UnitOfWork, person_id: uuid.UUID) -> Person:
    """The person; NotFound when there is none."""
    return or_not_found(repository.get_person(db_session=uow.session, person_id=person_id), "No such person.")


def list_people(*, uow: UnitOfWork, cursor: str | None, limit: int) -> Slice[Person]:
    """A page of people with their current roles, oldest first."""
    return repository.list_people(db_session=uow.session, cursor=cursor, limit=limit)


def create_person(*, uow: UnitOfWork, data: PersonCreate, actor: str) -> tuple[Person, str | None]:
    """Creates a person; returns them with the generated password when none was given."""
    if repository.get_person_by_username(db_session=uow.session, username=data.username) is not None:
        raise Conflict("That username is taken.")
    organisation_id = None
    if data.organisation is not None:
        organisation_id = get_organisation_or_invalid(uow=uow, slug=data.organisation).id
    generated = None if data.password else secrets.token_urlsafe(18)
    person = Person(
        id=uuid.uuid4(),
        username=data.username,
        display_name=data.display_name,
        password_hash=passwords.hash_password(password=data.password or generated or ""),
        organisation_id=organisation_id,
    )
    repository.add(db_session=uow.session, row=person)
    publish(uow, catalogue.PersonCreated(person_id=person.id, organisation=data.organisation, actor=actor),
            tenant=PLATFORM, subject=str(person.id))
    uow.session.expire_all()
    return get_person(uow=uow, person_id=person.id), generated


def grant_role(
    *, uow: UnitOfWork, person_id: uuid.UUID, tenant: str, role: str, actor: str,
    override: StaffRoleOverride | None = None,
) -> Person:
    """Gives a person a role in a tenant (a partner organisation's person a staff role only by an override)."""
    person = get_person(uow=uow, person_id=person_id)
    found = repository.get_tenant(db_session=uow.session, slug=tenant)
    if found is None:
        raise ValidationFailed(f"Unknown tenant {tenant!r}.")
    if (found.kind == "platform") != (role == Role.platform_admin):
        raise ValidationFailed("platform_admin is held in the platform tenant, and only it is.")
    if role == Role.national_coordinator and found.kind != "national":
        raise ValidationFailed("national_coordinator is a role in a national tenant.")
    partners.check_roles(organisation=person.organisation, roles=[role], override=override)
    if repository.get_current_role(db_session=uow.session, person_id=person_id, tenant=tenant, role=role):
        raise Conflict("The person holds that role in that tenant already.")
    repository.add(db_session=uow.session, row=PersonRole(person_id=person.id, tenant=tenant, role=role))
    publish(uow, catalogue.RoleGranted(person_id=person_id, tenant=tenant, role=role, actor=actor),
            tenant=tenant, subject=str(person_id))
    partners.record_override(uow=uow, organisation=person.organisation, tenant=tenant, roles=[role],
                             override=override, actor=actor, person_id=person.id)
    uow.session.expire_all()
    return get_person(uow=uow, person_id=person_id)


def revoke_role(*, uow: UnitOfWork, person_id: uuid.UUID, tenant: str, role: str, actor: str) -> Person:
    """Takes a role in a tenant away from a person."""
    get_person(uow=uow, person_id=person_id)
    held = repository.get_current_role(db_session=uow.session, person_id=person_id, tenant=tenant, role=role)
    held = or_not_found(held, "The person does not hold that role in that tenant.")
    held.revoked_at = datetime.now(UTC)
    uow.session.flush()
    publish(uow, catalogue.RoleRevoked(person_id=person_id, tenant=tenant, role=role, actor=actor),
            tenant=tenant, subject=str(person_id))
    uow.session.expire_all()
    return get_person(uow=uow, person_id=person_id)


def reset_password(*, uow: UnitOfWork, person_id: uuid.UUID, actor: str) -> str:
    """Gives a person a fresh generated password (returned once) and clears any lockout.

    For the demo seed only: through the API a reset is a one-time enrolment for the person (enrolments.py).
    """
    person = get_person(uow=uow, person_id=person_id)
    password = secrets.token_urlsafe(18)
    person.password_hash = passwords.hash_password(password=password)
    person.failed_sign_ins = 0
    person.locked_until = None
    uow.session.flush()
    publish(uow, catalogue.PersonPasswordReset(person_id=person_id, actor=actor), tenant=PLATFORM,
            subject=str(person_id))
    return password


