"""What a provider is given under its data-sharing agreement: the fields the agreement names.

A provider (its organisation's system, or one of its practitioners) reads its tasks and their sessions
under the agreement its request was allowed under (`auth.TasksRead`). The agreement's data categories
name fields; a field of the view the agreement does not name is sent as null (`Agreement.projected`),
and the access record lists the fields actually disclosed. The task's id (the reference the provider was
given and addresses the task by) and its status (whether it may still record on it; a stopped task shows
nothing else) are always sent; so are a session's id and task.

Consent. Where the agreement says `consent_required`, a task is disclosed to the provider only while the
person has a consent in force (not withdrawn, not expired) that names the provider's organisation among its
recipients (`consents/`, from intake's `consent.recorded`), as intake does for a partner's referrals: the
plan is the county's decision, but what the provider is given is the person's data flowing onward. Without
such consent a request about the task (reading it or its sessions, recording on it) is refused with a 403
problem (`consent-required`) and an `agreement.refused` decision; a list leaves the task out. A stopped task
shows its id and status only, which the provider was given already, and is always listed.

Field names, as agreements spell them:
- a task: `task_id`, `status`, `reference`, `goal`, `intervention_type`, `practitioner_id`, `starts_on`,
  `expected_end_on`, `last_session_on`;
- a session: `session_id`, `task_id`, `held_on`, `duration_minutes`, `attended`, `note`, `recorded_at`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from harambee_common.agreements import Agreement, consent_refusal
from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_interventions.consents import repository as consents
from harambee_interventions.events import EVENTS
from harambee_interventions.models import Task

TASK_ALWAYS = frozenset({"task_id", "status"})
SESSION_ALWAYS = frozenset({"session_id", "task_id"})
# A view's keys are the agreement's field names: each maps to itself.
TASK_FIELDS = {name: name for name in ("task_id", "status", "reference", "goal", "intervention_type",
                                        "practitioner_id", "starts_on", "expected_end_on", "last_session_on")}
SESSION_FIELDS = {name: name for name in ("session_id", "task_id", "held_on", "duration_minutes", "attended",
                                           "note", "recorded_at")}


def projected(agreement: Agreement | None, data: Mapping[str, Any], names: Mapping[str, str],
              always: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
    """The view cut to the fields the agreement names (Agreement.projected), and the fields disclosed.

    A provider always acts under an agreement (TasksRead refuses it otherwise); without one nothing is
    disclosed beyond `always`.
    """
    if agreement is None:
        kept = {key: value if names.get(key) in always else None for key, value in data.items()}
        return kept, sorted(names[k] for k, v in kept.items() if k in names and v is not None)
    return agreement.projected(data, names, always=always)


def consent_needed_from(principal: TenantPrincipal) -> str | None:
    """The organisation a person's consent must name for the caller to be given a task (None: no consent needed)."""
    agreement = principal.agreement
    if agreement is None or not agreement.consent_required:
        return None
    return principal.organisation or "(none)"  # an external role without an organisation is named by no consent


def require_consent(*, uow: UnitOfWork, principal: TenantPrincipal, task: Task, operation: str, at: datetime) -> None:
    """Refuses a provider a task whose person has not consented to its organisation, where its agreement asks it."""
    organisation = consent_needed_from(principal)
    if organisation is None or task.status == "stopped" or consents.names(
            session=uow.session, subject_ref=task.subject_ref, organisation=organisation, at=at):
        return
    raise consent_refusal(principal=principal, agreement=principal.agreement, organisation=organisation,
                          operation=operation, source=EVENTS)
