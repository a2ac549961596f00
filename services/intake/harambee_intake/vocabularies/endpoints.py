"""The coded lists' routes: reading them, and a tenant replacing one."""

from __future__ import annotations

from fastapi import Response

from harambee_common.db import UnitOfWorkDep
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import AnyMember, IntakeOfficer
from harambee_intake.dependencies import IfMatch
from harambee_intake.preconditions import etag
from harambee_intake.vocabularies import service
from harambee_intake.vocabularies.schemas import VocabularyIn, VocabularyView
from harambee_intake.vocabularies.service import Vocabulary

router = tenant_router(tags=["vocabularies"])


@router.get("/vocabularies", response_model=list[VocabularyView])
def list_vocabularies(_principal: AnyMember, uow: UnitOfWorkDep) -> list[VocabularyView]:
    """The coded lists in force in the tenant: its own where it has one, else the default."""
    return [_view(v) for v in service.in_force(uow=uow).values()]


@router.get("/vocabularies/{name}", response_model=VocabularyView)
def get_vocabulary(
    name: str, _principal: AnyMember, uow: UnitOfWorkDep, response: Response
) -> VocabularyView:
    """One coded list; its ETag is what a change must send as If-Match."""
    vocabulary = service.one(uow=uow, name=name)
    response.headers["ETag"] = etag(vocabulary.version)
    return _view(vocabulary)


@router.put("/vocabularies/{name}", response_model=VocabularyView)
def put_vocabulary(
    name: str, body: VocabularyIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    response: Response, if_match: IfMatch = None,
) -> VocabularyView:
    """Replaces the tenant's list of that name (the default set is version 0)."""
    vocabulary = service.replace(
        uow=uow, principal=principal, name=name,
        entries=[e.model_dump(exclude_none=True) for e in body.entries], if_match=if_match,
    )
    response.headers["ETag"] = etag(vocabulary.version)
    return _view(vocabulary)


def _view(vocabulary: Vocabulary) -> VocabularyView:
    return VocabularyView(name=vocabulary.name, entries=list(vocabulary.entries),
                          version=vocabulary.version, overridden=vocabulary.overridden)
