"""Subjects' and the vault's routes: a person's history, merges, candidates, re-identification, key rotation."""

from __future__ import annotations

import uuid

from fastapi import Response

from harambee_common.db import UnitOfWorkDep
from harambee_common.openapi_contract import responses_for
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, StaffRead
from harambee_intake.dependencies import VaultDep
from harambee_intake.preconditions import etag
from harambee_intake.problems import InvalidState
from harambee_intake.schema_types import ReasonIn
from harambee_intake.subjects import service
from harambee_intake.subjects.schemas import IdentityView, MergeIn, ReidentificationIn, RotationView, SubjectView
from harambee_intake.subjects.views import subject_view

router = tenant_router()


@router.get("/subjects/{subject_ref}", response_model=SubjectView, tags=["subjects"])
def get_subject(
    subject_ref: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, response: Response
) -> SubjectView:
    """A person's referrals (with any subjects merged into theirs) and open duplicate candidates.

    The ETag is this subject's version, for rectification.
    """
    history = service.read_history(uow=uow, principal=principal, subject_id=subject_ref)
    response.headers["ETag"] = etag(history.version)
    return subject_view(history)


@router.post("/subjects/{subject_ref}/merge", response_model=SubjectView, tags=["subjects"],
             responses=responses_for(InvalidState))
def merge_subject(
    subject_ref: uuid.UUID, body: MergeIn, principal: IntakeOfficer, uow: UnitOfWorkDep, vault: VaultDep
) -> SubjectView:
    """Records that this subject is the same person as `into`; audited, and undone by un-merge."""
    return subject_view(service.merge(uow=uow, vault=vault, principal=principal, source_id=subject_ref,
                                      target_id=body.into, reason=body.reason))


@router.post("/subjects/{subject_ref}/unmerge", response_model=SubjectView, tags=["subjects"],
             responses=responses_for(InvalidState))
def unmerge_subject(
    subject_ref: uuid.UUID, body: ReasonIn, principal: IntakeOfficer, uow: UnitOfWorkDep, vault: VaultDep
) -> SubjectView:
    """Undoes the merge of this subject into another; audited."""
    return subject_view(service.unmerge(uow=uow, vault=vault, principal=principal, subject_id=subject_ref,
                                        reason=body.reason))


@router.post("/subjects/{subject_ref}/candidates/{candidate_ref}/dismissal", response_model=SubjectView,
             tags=["subjects"])
def dismiss_candidate(
    subject_ref: uuid.UUID, candidate_ref: uuid.UUID, principal: IntakeOfficer,
    uow: UnitOfWorkDep,
) -> SubjectView:
    """Records that a candidate is not the same person, so it is not offered again."""
    return subject_view(service.dismiss_candidate(uow=uow, principal=principal, subject_id=subject_ref,
                                                  candidate_id=candidate_ref))


@router.post("/subjects/{subject_ref}/re-identification", response_model=IdentityView, tags=["subjects"],
             responses=responses_for(InvalidState))
def reidentify_subject(
    subject_ref: uuid.UUID, body: ReidentificationIn, principal: IntakeOfficer,
    uow: UnitOfWorkDep, vault: VaultDep,
) -> IdentityView:
    """Decrypts a person's identity for a stated purpose and reason; recorded before it is returned."""
    found = service.reidentify(uow=uow, vault=vault, principal=principal, subject_id=subject_ref,
                               purpose=body.purpose.value, reason=body.reason)
    return IdentityView(subject_ref=found.subject_ref, reidentification_id=found.reidentification_id,
                        identity=found.identity, as_referred=found.as_referred)


@router.post("/vault/rotation", response_model=RotationView, tags=["vault"])
def rotate_tenant_key(principal: IntakeOfficer, uow: UnitOfWorkDep, vault: VaultDep) -> RotationView:
    """Rotates the tenant key: re-wraps every person's data key under a new random one, never re-encrypting
    their fields.

    Bounded per call; call again while `remaining` is above zero. The call that finds nothing left destroys
    the older generations (see the README's "Erasure and backups").
    """
    rotation = service.rotate(uow=uow, vault=vault, principal=principal)
    return RotationView(generation=rotation.generation, kek_id=rotation.kek_id, started=rotation.started,
                        rewrapped=rotation.rewrapped, remaining=rotation.remaining,
                        destroyed_generations=rotation.destroyed_generations)
