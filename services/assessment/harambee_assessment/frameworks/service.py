"""Frameworks as data: a tenant's frameworks, their versions, and what an assessment may rate with them.

A framework's content lives in versions. A draft version may be replaced; publishing freezes it, and
an assessment is made with a published version, which it keeps for its life. Every tenant starts with
the two starter frameworks (starter.py), installed the first time it needs them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from harambee_assessment.events import EVENTS
from harambee_assessment.frameworks import repository
from harambee_assessment.frameworks.definition import FrameworkDefinition
from harambee_assessment.frameworks.schemas import FrameworkView
from harambee_assessment.frameworks.starter import STARTERS
from harambee_assessment.models import Framework, FrameworkVersion
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import FrameworkPublished
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found

STARTER_ACTOR = "seed"


def ensure_starters(*, uow: UnitOfWork) -> None:
    """Installs the starter frameworks the tenant does not have yet, each with version 1 published."""
    if repository.has_frameworks(session=uow.session):
        return
    now = datetime.now(UTC)
    for code, title, definition in STARTERS:
        framework = repository.add_framework_once(session=uow.session, framework=Framework(
            id=uuid.uuid4(), tenant_id=uow.tenant, code=code, title=title, created_by=STARTER_ACTOR, created_at=now))
        if framework is not None:
            version = _new_version(uow=uow, framework=framework, number=1, definition=definition,
                                   actor=STARTER_ACTOR, now=now)
            _publish(uow=uow, framework=framework, version=version, actor=STARTER_ACTOR, now=now)


def create_framework(*, uow: UnitOfWork, principal: TenantPrincipal, code: str, title: str,
                     definition: FrameworkDefinition) -> FrameworkView:
    """A new framework with a draft version 1; 409 if the tenant has one of that code."""
    ensure_starters(uow=uow)
    now = datetime.now(UTC)
    framework = repository.add_framework_once(session=uow.session, framework=Framework(
        id=uuid.uuid4(), tenant_id=uow.tenant, code=code, title=title, created_by=principal.actor, created_at=now))
    if framework is None:
        raise Conflict(f"The tenant already has a framework '{code}'.")
    _new_version(uow=uow, framework=framework, number=1, definition=definition, actor=principal.actor, now=now)
    return _view(framework, [1], None)


def read_frameworks(*, uow: UnitOfWork, cursor: str | None, limit: int) -> Slice[FrameworkView]:
    """A page of the tenant's frameworks (the starters installed first if it has none)."""
    ensure_starters(uow=uow)
    page = repository.list_frameworks(session=uow.session, cursor=cursor, limit=limit)
    versions = repository.versions_of(session=uow.session, framework_ids=[f.id for f in page.rows])
    return Slice(rows=[_view_of(f, versions) for f in page.rows], next_cursor=page.next_cursor)


def read_framework(*, uow: UnitOfWork, framework_id: uuid.UUID) -> FrameworkView:
    """One framework of the tenant."""
    framework = _framework(uow=uow, framework_id=framework_id)
    return _view_of(framework, repository.versions_of(session=uow.session, framework_ids=[framework.id]))


def read_versions(*, uow: UnitOfWork, framework_id: uuid.UUID) -> list[FrameworkVersion]:
    """Every version of one framework, oldest first."""
    framework = _framework(uow=uow, framework_id=framework_id)
    return repository.versions_of(session=uow.session, framework_ids=[framework.id])


def read_version(*, uow: UnitOfWork, framework_id: uuid.UUID, version: int) -> FrameworkVersion:
    """One version of a framework."""
    return or_not_found(repository.get_version(session=uow.session, framework_id=framework_id, version=version),
                        "No such framework version.")


def add_draft(*, uow: UnitOfWork, principal: TenantPrincipal, framework_id: uuid.UUID,
              definition: FrameworkDefinition) -> FrameworkVersion:
    """A new draft version after the latest; 409 while a draft is still unpublished."""
    framework = _framework(uow=uow, framework_id=framework_id)
    latest = repository.latest_version_number(session=uow.session, framework_id=framework.id)
    current = repository.get_version(session=uow.session, framework_id=framework.id, version=latest, for_update=True)
    if current is not None and current.status == "draft":
        raise Conflict(f"Version {latest} is still a draft: change or publish it first.")
    return _new_version(uow=uow, framework=framework, number=latest + 1, definition=definition,
                        actor=principal.actor, now=datetime.now(UTC))


def replace_draft(*, uow: UnitOfWork, framework_id: uuid.UUID, version: int,
                  definition: FrameworkDefinition) -> FrameworkVersion:
    """Replaces a draft's content; a published version is immutable (409)."""
    draft = _draft(uow=uow, framework_id=framework_id, version=version)
    draft.definition = definition.model_dump(mode="json")
    return draft


def publish(*, uow: UnitOfWork, principal: TenantPrincipal, framework_id: uuid.UUID, version: int) -> FrameworkVersion:
    """Publishes a draft: from now on assessments may use it, and it never changes."""
    framework = _framework(uow=uow, framework_id=framework_id)
    draft = _draft(uow=uow, framework_id=framework.id, version=version)
    _publish(uow=uow, framework=framework, version=draft, actor=principal.actor, now=datetime.now(UTC))
    return draft


def published_definition(*, uow: UnitOfWork, framework_id: uuid.UUID, version: int | None
                         ) -> tuple[FrameworkVersion, FrameworkDefinition]:
    """A published version of one of the tenant's frameworks (the latest if none is named), for an assessment.

    Another tenant's framework, an unknown one or a draft is a 422 that names it.
    """
    number = version or _latest_published_number(uow=uow, framework_id=framework_id)
    found = repository.get_version(session=uow.session, framework_id=framework_id, version=number) if number else None
    if found is None or found.status != "published":
        raise ValidationFailed("The framework is not one of this tenant's published frameworks.",
                               errors=[{"framework_id": str(framework_id), "version": version,
                                        "message": "No published version of this framework in this tenant."}])
    return found, FrameworkDefinition.model_validate(found.definition)


# Published versions never change, so their parsed content is kept (bounded) once read; the key holds
# the tenant, and the first read of each went through row-level security in that tenant.
_PUBLISHED: dict[tuple[str, uuid.UUID, int], FrameworkDefinition] = {}
_PUBLISHED_KEPT = 1000


def definition_of(*, uow: UnitOfWork, framework_id: uuid.UUID, version: int) -> FrameworkDefinition:
    """The content of a version an assessment was made with (assessments use published versions only)."""
    key = (uow.tenant, framework_id, version)
    if key in _PUBLISHED:
        return _PUBLISHED[key]
    found = or_not_found(repository.get_version(session=uow.session, framework_id=framework_id, version=version),
                         "No such framework version.")
    definition = FrameworkDefinition.model_validate(found.definition)
    if found.status == "published":
        if len(_PUBLISHED) >= _PUBLISHED_KEPT:
            _PUBLISHED.clear()
        _PUBLISHED[key] = definition
    return definition


def need_codes(*, uow: UnitOfWork) -> frozenset[str]:
    """The needs an assessment may name: the needs items of the latest published version of each framework."""
    return frozenset().union(*(FrameworkDefinition.model_validate(v.definition).need_codes()
                               for v in repository.latest_published(session=uow.session)))


def _latest_published_number(*, uow: UnitOfWork, framework_id: uuid.UUID) -> int | None:
    return next((v.version for v in repository.latest_published(session=uow.session)
                 if v.framework_id == framework_id), None)


def _framework(*, uow: UnitOfWork, framework_id: uuid.UUID) -> Framework:
    return or_not_found(repository.get_framework(session=uow.session, framework_id=framework_id),
                        "No such framework.")


def _draft(*, uow: UnitOfWork, framework_id: uuid.UUID, version: int) -> FrameworkVersion:
    found = or_not_found(repository.get_version(session=uow.session, framework_id=framework_id, version=version,
                                                for_update=True), "No such framework version.")
    if found.status != "draft":
        raise Conflict(f"Version {version} is published: a published version never changes. Add a new version.")
    return found


def _new_version(*, uow: UnitOfWork, framework: Framework, number: int, definition: FrameworkDefinition,
                 actor: str, now: datetime) -> FrameworkVersion:
    version = FrameworkVersion(tenant_id=uow.tenant, framework_id=framework.id, version=number, status="draft",
                               definition=definition.model_dump(mode="json"), created_by=actor, created_at=now,
                               published_at=None)
    repository.add_version(session=uow.session, version=version)
    return version


def _publish(*, uow: UnitOfWork, framework: Framework, version: FrameworkVersion, actor: str, now: datetime) -> None:
    version.status, version.published_at = "published", now
    items = len(FrameworkDefinition.model_validate(version.definition).items())
    EVENTS.publish(uow, FrameworkPublished(framework_id=framework.id, code=framework.code, version=version.version,
                                           items=items, actor=actor), subject=f"framework/{framework.id}")


def _view_of(framework: Framework, versions: list[FrameworkVersion]) -> FrameworkView:
    own = [v for v in versions if v.framework_id == framework.id]
    published = [v.version for v in own if v.status == "published"]
    return _view(framework, [v.version for v in own], max(published) if published else None)


def _view(framework: Framework, versions: list[int], latest_published: int | None) -> FrameworkView:
    return FrameworkView(id=framework.id, code=framework.code, title=framework.title, created_at=framework.created_at,
                         versions=versions, latest_published=latest_published)
