"""What a provider is given under its data-sharing agreement: the fields the agreement names.

A provider (its organisation's system, or one of its practitioners) reads its tasks and their sessions
under the agreement its request was allowed under (`auth.TasksRead`). The agreement's data categories
name fields; a field of the view the agreement does not name is sent as null (`Agreement.projected`),
and the access record lists the fields actually disclosed. The task's id (the reference the provider was
given and addresses the task by) and its status (whether it may still record on it; a stopped task shows
nothing else) are always sent; so are a session's id and task.

Field names, as agreements spell them:
- a task: `task_id`, `status`, `reference`, `goal`, `intervention_type`, `practitioner_id`, `starts_on`,
  `expected_end_on`, `last_session_on`;
- a session: `session_id`, `task_id`, `held_on`, `duration_minutes`, `attended`, `note`, `recorded_at`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harambee_common.agreements import Agreement

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
