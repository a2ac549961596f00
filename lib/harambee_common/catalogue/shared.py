"""Events every service publishes on its own topic: reads of personal data, and agreement decisions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from harambee_common.catalogue.base import EventData, event_type

if TYPE_CHECKING:  # the catalogue is data: it does not load token verification to be imported
    from harambee_common.auth import TenantPrincipal


@event_type("access.recorded", topic=None)
class AccessRecorded(EventData):
    """Someone read personal or case data: who, what (resource and fields), and for what purpose."""

    actor: str
    """The token's subject: a person's or a client's reference."""
    client_id: str
    """The client the request came through."""
    organisation: str | None
    """The organisation the caller acts for, if any."""
    roles: list[str]
    """The caller's roles in the tenant."""
    resource: str
    """What was read, e.g. `referral:<id>`."""
    fields: list[str]
    """Which fields of it were returned."""
    purpose: str
    """Why: the operation's purpose code."""
    emergency: Literal[True] | None = None
    """Present only on a read under an emergency ("break the glass"): audit queues it for review."""
    reason: str | None = None
    """The emergency's stated reason (present only with `emergency`)."""

    @classmethod
    def by(
        cls,
        principal: TenantPrincipal,
        *,
        resource: str,
        fields: Iterable[str],
        purpose: str,
        emergency_reason: str | None = None,
    ) -> AccessRecorded:
        """A read by the principal, as the request checked it; `emergency_reason` marks a break-the-glass read."""
        return cls(
            actor=principal.actor,
            client_id=principal.principal.client_id,
            organisation=principal.organisation,
            roles=sorted(principal.roles),
            resource=resource,
            fields=sorted(fields),
            purpose=purpose,
            emergency=True if emergency_reason is not None else None,
            reason=emergency_reason,
        )

    def dump(self) -> dict[str, Any]:
        """The data, with the emergency fields only on an emergency read."""
        data = super().dump()
        if self.emergency is None:
            del data["emergency"], data["reason"]
        return data


class Party(BaseModel):
    """The other party of an agreement decision: an organisation or a tenant."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    kind: Literal["organisation", "tenant"]
    """An organisation in the registry, or another tenant."""
    id: str
    """Its id (organisation) or slug (tenant)."""


class _AgreementDecision(EventData):
    """A request from outside the tenant, decided under the data-sharing agreements."""

    actor: str
    """The token's subject."""
    client_id: str
    """The client the request came through."""
    party: Party
    """Who asked from outside the tenant."""
    operation: str
    """The operation asked for, as agreements name it (e.g. `submit_referrals`)."""
    agreement_id: uuid.UUID | None
    """The agreement decided under (on a refusal, the latest candidate, if any)."""
    agreement_version: int | None
    """That agreement's version."""
    reason: str
    """Why it was allowed or refused, as a short code-like phrase."""


@event_type("agreement.applied", topic=None)
class AgreementApplied(_AgreementDecision):
    """A request was allowed under the agreement named."""


@event_type("agreement.refused", topic=None)
class AgreementRefused(_AgreementDecision):
    """A request was refused: no agreement in force permits it (the latest candidate, if any, is named)."""
