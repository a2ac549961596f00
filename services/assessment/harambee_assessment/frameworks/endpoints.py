"""Frameworks' routes: a tenant's assessment frameworks and their versions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, status

from harambee_assessment.auth import NOT_FOUND, ProgrammeRead, ProgrammeWrite
from harambee_assessment.frameworks import service
from harambee_assessment.frameworks.schemas import (
    FrameworkCreate,
    FrameworkPage,
    FrameworkView,
    VersionContent,
    VersionList,
    VersionView,
)
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router

router = tenant_router(tags=["frameworks"], responses=problem_responses(401, 403, 404, 422, meanings=NOT_FOUND))
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
IMMUTABLE = problem_responses(409, meanings={409: "The version is published (immutable), or a draft is pending."})


@router.get("/frameworks", response_model=FrameworkPage)
def list_frameworks(_: ProgrammeRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None) -> FrameworkPage:
    """The tenant's assessment frameworks, oldest first (the two starter frameworks included)."""
    page = service.read_frameworks(uow=uow, cursor=cursor, limit=limit)
    return FrameworkPage(items=page.rows, next_cursor=page.next_cursor)


@router.post("/frameworks", response_model=FrameworkView, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409, meanings={409: "The tenant has a framework of that code."}))
def create_framework(body: FrameworkCreate, principal: ProgrammeWrite, uow: UnitOfWorkDep) -> FrameworkView:
    """Defines a new framework; its version 1 is a draft until published."""
    return service.create_framework(uow=uow, principal=principal, code=body.code, title=body.title,
                                    definition=body.definition)


@router.get("/frameworks/{framework_id}", response_model=FrameworkView)
def get_framework(framework_id: uuid.UUID, _: ProgrammeRead, uow: UnitOfWorkDep) -> FrameworkView:
    """One framework and its versions' numbers."""
    return service.read_framework(uow=uow, framework_id=framework_id)


@router.get("/frameworks/{framework_id}/versions", response_model=VersionList)
def list_versions(framework_id: uuid.UUID, _: ProgrammeRead, uow: UnitOfWorkDep) -> VersionList:
    """Every version of a framework, oldest first, with its content."""
    versions = service.read_versions(uow=uow, framework_id=framework_id)
    return VersionList(items=[VersionView.model_validate(v) for v in versions])


@router.post("/frameworks/{framework_id}/versions", response_model=VersionView, status_code=status.HTTP_201_CREATED,
             responses=IMMUTABLE)
def add_version(framework_id: uuid.UUID, body: VersionContent, principal: ProgrammeWrite,
                uow: UnitOfWorkDep) -> VersionView:
    """Starts the next version as a draft (assessments keep the version they were made with)."""
    return VersionView.model_validate(service.add_draft(uow=uow, principal=principal, framework_id=framework_id,
                                                        definition=body.definition))


@router.get("/frameworks/{framework_id}/versions/{version}", response_model=VersionView)
def get_version(framework_id: uuid.UUID, version: VersionNumber, _: ProgrammeRead, uow: UnitOfWorkDep) -> VersionView:
    """One version of a framework."""
    return VersionView.model_validate(service.read_version(uow=uow, framework_id=framework_id, version=version))


@router.put("/frameworks/{framework_id}/versions/{version}", response_model=VersionView, responses=IMMUTABLE)
def replace_version(framework_id: uuid.UUID, version: VersionNumber, body: VersionContent, _: ProgrammeWrite,
                    uow: UnitOfWorkDep) -> VersionView:
    """Replaces a draft's content; a published version is immutable (409)."""
    return VersionView.model_validate(service.replace_draft(uow=uow, framework_id=framework_id, version=version,
                                                            definition=body.definition))


@router.post("/frameworks/{framework_id}/versions/{version}/publish", response_model=VersionView,
             responses=IMMUTABLE)
def publish_version(framework_id: uuid.UUID, version: VersionNumber, principal: ProgrammeWrite,
                    uow: UnitOfWorkDep) -> VersionView:
    """Publishes a draft: assessments may use it from now on, and it never changes."""
    return VersionView.model_validate(service.publish(uow=uow, principal=principal, framework_id=framework_id,
                                                      version=version))

