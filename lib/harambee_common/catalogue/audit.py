"""Events of the audit service, on `audit.events`.

`checkpoint.signed` is published through the outbox. The others record a compliance officer's (or a
national oversight reader's) own work on the log: they are appended to the tenant's log itself, in
the transaction that does the work, and not published. An officer's note (their words) is not in
these events: it stays in the audit service's own table, found from the event by its references.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from harambee_common.catalogue.base import EventData, event_type

TOPIC = "audit.events"


@event_type("checkpoint.signed", topic=TOPIC)
class CheckpointSigned(EventData):
    """A signed checkpoint of a tenant's log: copies outside the audit service make a rewritten history detectable."""

    tree_size: int
    """How many entries the checkpoint covers."""
    root_hash: str
    """The Merkle tree's root hash over those entries, in hex."""
    signed_at: datetime
    """When it was signed."""
    key_id: str
    """The signing key's id (see the audit service's signing keys)."""
    note: str
    """The signed note: what the signature covers, and the authority over the fields above."""


class _OfficersWork(EventData):
    """Something a compliance officer did on the log, by the token that did it."""

    actor: str
    """The officer: the token's subject."""
    client_id: str
    """The client the request came through."""


@event_type("audit_log.read_by_oversight", topic=TOPIC)
class LogReadByOversight(_OfficersWork):
    """A national compliance officer read the tenant's log under a data-sharing agreement."""

    purpose: Literal["national_oversight"]
    """Why: always national oversight."""
    from_tenants: list[str]
    """The national tenant(s) the reader acts for."""
    agreement_id: uuid.UUID
    """The agreement the read was allowed under."""
    agreement_version: int
    """That agreement's version."""
    route: str
    """The API route read, as a template (`/v1/tenants/{tenant}/entries`)."""
    path: str
    """The path as requested."""
    query: str
    """The query string as requested (filters are references: subjects, actors, types)."""


@event_type("read_alert.closed", topic=TOPIC)
class ReadAlertClosed(_OfficersWork):
    """An officer closed a read-volume alert (an actor's reads on a day far above their usual level)."""

    purpose: Literal["read_volume_review"]
    """Why: always the review of read volumes."""
    alert_id: uuid.UUID
    """The alert closed."""
    alerted_actor: str
    """The actor whose reads raised it."""
    day: date
    """The local day of those reads."""
    count: int
    """How many reads the actor made that day."""
    threshold: float
    """The count above which the day alerted."""
    baseline: float
    """The actor's median daily reads over the trailing window."""


class _EmergencyAccessDecision(_OfficersWork):
    """An officer's decision on a read made under an emergency ("break the glass"), once per access."""

    purpose: Literal["emergency_access_review"]
    """Why: always the review of emergency accesses."""
    reviewed_seq: int
    """The log entry (seq) of the emergency access reviewed."""
    reviewed_event_id: str
    """That access's event id."""
    reviewed_actor: str | None
    """Who made the emergency access."""


@event_type("emergency_access.signed_off", topic=TOPIC)
class EmergencyAccessSignedOff(_EmergencyAccessDecision):
    """An officer signed off an emergency access: it was justified."""

    decision: Literal["signed_off"]
    """The decision (as in the type)."""


@event_type("emergency_access.flagged", topic=TOPIC)
class EmergencyAccessFlagged(_EmergencyAccessDecision):
    """An officer flagged an emergency access for follow-up."""

    decision: Literal["flagged"]
    """The decision (as in the type)."""
