"""A person as a pseudonymous subject: history, candidates, merges, re-identification, key rotation."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from harambee_intake.schema_types import Reason, Strict


class PriorReferral(BaseModel):
    """Another referral of the same person, as a screener sees it."""

    id: uuid.UUID
    received_at: datetime
    status: str
    outcome: str | None = None
    source_type: str
    organisation: str | None


class CandidateView(BaseModel):
    """A subject that may be the same person (never merged without a screener's decision)."""

    subject_ref: uuid.UUID
    score: int
    signals: list[str] = Field(description="Which blind indexes matched, e.g. phonetic_dob, phone")
    referrals: int
    statuses: list[str]
    outcomes: list[str] = Field(default_factory=list)


class SubjectView(BaseModel):
    """A person as a pseudonymous subject: the referrals and candidates, never the identity."""

    subject_ref: uuid.UUID
    merged_subjects: list[uuid.UUID]
    referrals: list[PriorReferral]
    duplicate_candidates: list[CandidateView]


class MergeIn(Strict):
    """Two subjects are one person: this one joins `into`."""

    into: uuid.UUID
    reason: Reason


class ReidentificationPurpose(StrEnum):
    contact_person = "contact_person"
    safeguarding = "safeguarding"
    duplicate_review = "duplicate_review"
    rights_request = "rights_request"
    rectification = "rectification"


class ReidentificationIn(Strict):
    """Why an identity is needed in clear."""

    purpose: ReidentificationPurpose
    reason: Reason


class IdentityView(BaseModel):
    """A subject's identity, decrypted for an audited reason."""

    subject_ref: uuid.UUID
    reidentification_id: uuid.UUID
    identity: dict[str, Any]
    as_referred: list[dict[str, Any]] = Field(description="The person as each referral described them")


class RotationView(BaseModel):
    """Progress of a tenant key rotation: call again while `remaining` is above zero."""

    generation: int
    kek_id: str
    started: bool
    rewrapped: int
    remaining: int
    destroyed_generations: list[int] = Field(
        default_factory=list, description="older tenant key generations crypto-shredded by this call")


class MatchingPolicy(Strict):
    """How a referral finds the person it is about (the tenant setting `matching`).

    An exact blind-index match (the same names and date of birth) is a duplicate candidate of the highest
    score, signal `exact`, which a screener confirms by merging or dismisses: two people are not joined
    without a human decision. A tenant may opt in to linking an exact match at once instead.
    """

    link_exact_matches: bool = False
