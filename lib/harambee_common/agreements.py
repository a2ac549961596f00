"""Data-sharing agreements, applied by every service on every request from another party.

Each service keeps a local copy of the registry's agreements (table `agreement_copies`), fed by the
`agreement.*` events on `registry.events` and by a bootstrap from the registry's read API. A request
from a party outside the tenant — a partner organisation's system, or another tenant — is allowed only
under an agreement in force today that names that party and permits the operation; every decision,
granted or refused, is published (with the agreement's id and version) for the audit log.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from alembic import op
from fastapi import Depends, Request
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from harambee_common import catalogue
from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.catalogue.registry import AGREEMENT_EVENT_OF_STATUS, AgreementVersion
from harambee_common.components import component
from harambee_common.db import UnitOfWork, UnitOfWorkDep
from harambee_common.event_source import EventSource
from harambee_common.events import Event
from harambee_common.permissions import PARTNER_ORGANISATION_KINDS, PARTNER_ROLES, Role, Scope
from harambee_common.problems import Forbidden

log = logging.getLogger(__name__)

# The registry's events that carry an agreement's new version (catalogue.registry), one per status.
AGREEMENT_EVENTS: tuple[type[AgreementVersion], ...] = tuple(AGREEMENT_EVENT_OF_STATUS.values())
_AGREEMENT_EVENT_OF_TYPE = {model.type: model for model in AGREEMENT_EVENTS}
# Roles a tenant grants to people and systems of other organisations: they act only under an agreement.

copies = sa.table(
    "agreement_copies",
    sa.column("agreement_id", sa.Uuid),
    sa.column("tenant_id", sa.Text),
    sa.column("version", sa.Integer),
    sa.column("status", sa.Text),
    sa.column("valid_from", sa.Date),
    sa.column("valid_until", sa.Date),
    sa.column("terms", JSONB),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Agreement:
    """One agreement as this service's copy holds it."""

    id: uuid.UUID
    tenant: str
    version: int
    status: str
    valid_from: date
    valid_until: date
    terms: dict[str, Any]

    def in_force(self, on: date) -> bool:
        """Only an active version within its dates permits anything."""
        return self.status == "active" and self.valid_from <= on <= self.valid_until

    def names(self, kind: str, party: str) -> bool:
        """Whether the party (a tenant or an organisation) is a party to this agreement."""
        return any(p["kind"] == kind and p["id"] == party for p in self.terms.get("parties", ()))

    def permits(self, operation: str) -> bool:
        """Whether the agreement lists the operation."""
        return operation in self.terms.get("operations", ())

    @property
    def fields(self) -> frozenset[str]:
        """Every field the agreement's data categories name."""
        return frozenset(f for c in self.terms.get("data_categories", ()) for f in c.get("fields", ()))

    def projected(self, data: Mapping[str, Any], names: Mapping[str, str], *,
                  always: frozenset[str] = frozenset()) -> tuple[dict[str, Any], list[str]]:
        """The data with every field the agreement does not name set to null, and the fields disclosed.

        `names` maps each key of `data` to the field name agreements use for it (a key it does not map is
        never disclosed); `always` are fields disclosed whatever the agreement says (the
        reference the party holds already). Every service that answers a party under an agreement cuts
        its view with this, and records the fields disclosed.
        """
        allowed = self.fields | always
        kept = {key: value if names.get(key) in allowed else None for key, value in data.items()}
        return kept, sorted(names[k] for k, v in kept.items() if k in names and v is not None)

    @property
    def suppression_threshold(self) -> int:
        """Aggregates below this count are suppressed."""
        return int(self.terms.get("aggregate_suppression_threshold", 5))

    @property
    def differential_privacy(self) -> dict[str, Any] | None:
        """The agreement's differential-privacy terms (catalogue.registry.DifferentialPrivacyTerms), if any."""
        return self.terms.get("differential_privacy")

    @property
    def consent_required(self) -> bool:
        """Whether a flow under the agreement needs the person's recorded consent."""
        return bool(self.terms.get("consent_required", False))


@dataclass(frozen=True)
class Party:
    """Who asks, as an agreement would name them."""

    kind: str  # "organisation" or "tenant"
    id: str


def create_agreement_copies(component: str) -> None:
    """Migration step: the local copy of the registry's agreements."""
    op.create_table(
        "agreement_copies",
        sa.Column("agreement_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("terms", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("agreement_copies_tenant", "agreement_copies", ["tenant_id"])
    from harambee_common.migrations import protect_tenant_table

    protect_tenant_table("agreement_copies", component=component, privileges="SELECT, INSERT, UPDATE")


def store_agreement(*, session: Session, view: dict[str, Any]) -> bool:
    """Stores an agreement version unless the copy already holds it or a later one; returns whether it did."""
    terms = {k: v for k, v in view.items() if k not in ("id", "tenant", "version", "status")}
    stored = session.scalar(
        insert(copies)
        .values(
            agreement_id=uuid.UUID(str(view["id"])),
            tenant_id=view["tenant"],
            version=int(view["version"]),
            status=view["status"],
            valid_from=date.fromisoformat(str(view["valid_from"])),
            valid_until=date.fromisoformat(str(view["valid_until"])),
            terms=terms,
            updated_at=datetime.now(UTC),
        )
        .on_conflict_do_update(
            index_elements=["agreement_id"],
            set_={
                "version": sa.text("excluded.version"),
                "status": sa.text("excluded.status"),
                "valid_from": sa.text("excluded.valid_from"),
                "valid_until": sa.text("excluded.valid_until"),
                "terms": sa.text("excluded.terms"),
                "updated_at": sa.text("excluded.updated_at"),
            },
            # Events of one agreement arrive in order, but a bootstrap may race them: never go back.
            where=sa.text("agreement_copies.version < excluded.version"),
        )
        .returning(copies.c.agreement_id)
    )
    return stored is not None


class VersionGaps:
    """Tells the process's agreement syncs that an event skipped versions, so they ask the registry now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        """Calls listener on every gap from now on."""
        with self._lock:
            self._listeners.append(listener)

    def forget(self, listener: Callable[[], None]) -> None:
        """Stops calling listener."""
        with self._lock:
            self._listeners = [each for each in self._listeners if each != listener]

    def report(self) -> None:
        """A gap was seen: wake every listener."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


version_gaps = VersionGaps()


def on_agreement_event(uow: UnitOfWork, event: Event) -> None:
    """Consumer handler: an agreement changed in the registry; bring the copy up to date.

    The registry makes versions one at a time, so the copy takes only the next one from an event. An
    event further ahead (a version the registry did not make, or one after an event this service missed)
    is confirmed against the registry's read API first: it wakes the agreement sync, which stores what the
    registry answers. A forged version 10⁹ would otherwise freeze the agreement, and the version guard
    would then refuse the real suspension.
    """
    data = _AGREEMENT_EVENT_OF_TYPE[event.type].of(event)
    held = uow.session.scalar(sa.select(copies.c.version).where(copies.c.agreement_id == data.id))
    if data.version > (held or 0) + 1:
        log.warning("agreement %s: event %s carries version %d, the copy holds %s: confirming with the registry",
                    data.id, event.id, data.version, held)
        version_gaps.report()
        return
    store_agreement(session=uow.session, view=data.dump())


AGREEMENT_HANDLERS = dict.fromkeys(AGREEMENT_EVENTS, on_agreement_event)


_AGREEMENTS = sa.select(copies.c.agreement_id, copies.c.tenant_id, copies.c.version, copies.c.status,
                        copies.c.valid_from, copies.c.valid_until, copies.c.terms)


def agreements_of(*, session: Session) -> list[Agreement]:
    """Every agreement of the transaction's tenant (row-level security scopes the query)."""
    rows = session.execute(_AGREEMENTS).all()
    return [Agreement(*row) for row in rows]


@dataclass(frozen=True)
class Decision:
    """The outcome of applying the agreements to one request."""

    granted: bool
    operation: str
    party: Party
    agreement: Agreement | None
    reason: str


def decide(*, session: Session, party: Party, operation: str, on: date) -> Decision:
    """Finds the agreement in force that lets party perform operation in the session's tenant."""
    named = [a for a in agreements_of(session=session) if a.names(party.kind, party.id)]
    permitting = [a for a in named if a.permits(operation)]
    in_force = [a for a in permitting if a.in_force(on)]
    if in_force:
        chosen = max(in_force, key=lambda a: (a.valid_until, a.version))
        return Decision(True, operation, party, chosen, "in force")
    if permitting:
        latest = max(permitting, key=lambda a: a.version)
        return Decision(False, operation, party, latest, f"agreement is {latest.status} or out of its dates")
    return Decision(False, operation, party, None, "no agreement permits this")


def decision_event(*, decision: Decision, principal: TenantPrincipal, source: EventSource) -> Event:
    """The event that records a decision for the audit log."""
    return recorded_decision(decision=decision, tenant=principal.tenant, actor=principal.actor,
                             client_id=principal.principal.client_id, source=source)


def recorded_decision(*, decision: Decision, tenant: str, actor: str, client_id: str, source: EventSource) -> Event:
    """The event that records a decision, also one a service takes on its own (e.g. before a webhook delivery)."""
    agreement = decision.agreement
    model = catalogue.AgreementApplied if decision.granted else catalogue.AgreementRefused
    data = model(
        actor=actor,
        client_id=client_id,
        party=catalogue.Party(kind=decision.party.kind, id=decision.party.id),
        operation=decision.operation,
        agreement_id=agreement.id if agreement else None,
        agreement_version=agreement.version if agreement else None,
        reason=decision.reason,
    )
    subject = str(agreement.id) if agreement else f"{decision.party.kind}:{decision.party.id}"
    return source.event(data, tenant=tenant, subject=subject)


def party_of(principal: TenantPrincipal) -> Party | None:
    """The outside party a principal acts for, or None for the tenant's own staff.

    A partner organisation's client or person is an outside party whatever roles it holds: an administrator's
    override may give it a staff role, never a way around the agreements. Without the organisation's kind (a
    token from before the gateway wrote it) the roles decide.
    """
    if principal.home_tenant is not None:
        return Party("tenant", principal.home_tenant)
    partner_organisation = principal.principal.organisation_kind in PARTNER_ORGANISATION_KINDS
    if partner_organisation or principal.roles & PARTNER_ROLES or not principal.roles:
        if principal.organisation:
            return Party("organisation", principal.organisation)
        return Party("organisation", "(none)")  # an external role without an organisation matches nothing
    return None


class AgreementRefused(Forbidden):
    slug, title = "no-agreement", "No data-sharing agreement in force permits this"


class ConsentRequired(Forbidden):
    slug, title = "consent-required", "The agreement requires the person's consent, and none is recorded"


def consent_refusal(*, principal: TenantPrincipal, agreement: Agreement | None, organisation: str, operation: str,
                    source: EventSource) -> ConsentRequired:
    """The 403 for a disclosure its agreement holds until the person consents, with its decision to publish."""
    decision = Decision(False, operation, Party("organisation", organisation), agreement,
                        "consent required and not recorded")
    refusal = ConsentRequired("The agreement requires the person's consent to this disclosure, and the programme "
                              f"has recorded none naming '{organisation}'.")
    refusal.events.append(decision_event(decision=decision, principal=principal, source=source))
    return refusal


def require_agreement(*, uow: UnitOfWork, principal: TenantPrincipal, operation: str,
                      source: EventSource) -> TenantPrincipal:
    """Lets an outside party through only under an agreement in force; records the decision either way."""
    party = party_of(principal)
    if party is None:
        return principal  # the tenant's own staff: the tenant is the controller of its data
    decision = decide(session=uow.session, party=party, operation=operation, on=datetime.now(UTC).date())
    event = decision_event(decision=decision, principal=principal, source=source)
    if not decision.granted:
        refusal = AgreementRefused(f"No agreement in force lets {party.kind} '{party.id}' {operation} here.")
        refusal.events.append(event)
        raise refusal
    uow.publish(event)
    return replace(principal, agreement=decision.agreement)


class AgreementAuthenticator(Authenticator):
    """An Authenticator that also applies the agreements, in the request's own unit of work."""

    def __init__(self, *, scopes: set[Scope], roles: set[Role] | None, operation: str,
                 across_tenants: frozenset[Role] = frozenset()) -> None:
        super().__init__(scopes=scopes, roles=roles)
        self.operation = operation
        self.across_tenants = across_tenants

    async def __call__(self, request: Request, uow: UnitOfWorkDep) -> TenantPrincipal:  # type: ignore[override]
        principal = await super().__call__(request)
        source = EventSource.of(component(request.app.state.settings.component))
        return await run_in_threadpool(
            require_agreement, uow=uow, principal=principal, operation=self.operation, source=source,
        )


# The operation an agreement lists to let another tenant (the national programme) read a county's aggregates.
READ_AGGREGATES = "read_aggregates"

# Who reads a county's aggregate figures, wherever a service serves them (assessment's case counts, monitoring's
# indicators): the county's programme manager its own, exact; a national coordinator from its own tenant (a
# tenant where it holds no role) only under the county's agreement in force that names it and permits
# read_aggregates, and then protected (suppressed or noisy) by the service.
AggregatesRead = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.aggregates_read},
                                   roles={Role.programme_manager, Role.national_coordinator},
                                   operation=READ_AGGREGATES, across_tenants=frozenset({Role.national_coordinator}))),
]
