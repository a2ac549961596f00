"""A person as staff see them: their referrals and candidates, never their identity."""

from __future__ import annotations

from harambee_intake.models import Referral
from harambee_intake.subjects.schemas import CandidateView, PriorReferral, SubjectView
from harambee_intake.subjects.service import CandidateSummary, History


def prior_view(referral: Referral) -> PriorReferral:
    """One of the person's referrals, as a screener sees it beside another."""
    return PriorReferral(id=referral.id, received_at=referral.received_at, status=referral.status,
                         outcome=referral.outcome, source_type=referral.source_type,
                         organisation=referral.organisation)


def candidate_view(candidate: CandidateSummary) -> CandidateView:
    """A subject that may be the same person."""
    return CandidateView(subject_ref=candidate.subject_ref, score=candidate.score, signals=candidate.signals,
                         referrals=candidate.referrals, statuses=candidate.statuses, outcomes=candidate.outcomes)


def subject_view(history: History) -> SubjectView:
    """A subject with everything merged into it."""
    return SubjectView(
        subject_ref=history.subject_ref,
        merged_subjects=[m for m in history.members if m != history.subject_ref],
        referrals=[prior_view(r) for r in history.referrals],
        duplicate_candidates=[candidate_view(c) for c in history.candidates],
    )
