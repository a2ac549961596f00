"""Who may call the compliance API: the tenant's compliance officers, and for reading, national ones.

A compliance officer of the tenant in the path reads and reviews its log. A compliance officer of a
national tenant reads it too, but only under an agreement in force in the county that names the
national tenant and permits `read_audit_log` (harambee_common.agreements decides, and publishes the
decision); it never reviews (sign-offs and closings stay with the county's own officers). Each such
read, and each refusal, is appended to the county's log, so a county sees who looked from outside.
What any reader's request returned of the log is recorded as well, person by person (reads.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from harambee_audit import service
from harambee_audit.events import EVENTS
from harambee_common.agreements import AgreementAuthenticator, AgreementRefused
from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.catalogue.audit import LogReadByOversight
from harambee_common.db import UnitOfWorkDep, unit_of_work
from harambee_common.permissions import Role, Scope

OPERATION = "read_audit_log"


class LogReadAuthenticator(AgreementAuthenticator):
    """The tenant's compliance officers, or a national one under an agreement; a refusal is also logged.

    The agreements publish their decisions on audit.events, which this service does not consume (its
    own output), so the refusal is appended to the county's log here, in a transaction of its own:
    the request's is rolled back.
    """

    def __init__(self) -> None:
        super().__init__(scopes={Scope.audit_read}, roles={Role.compliance_officer}, operation=OPERATION,
                         across_tenants=frozenset({Role.compliance_officer}))

    async def __call__(self, request: Request, uow: UnitOfWorkDep) -> TenantPrincipal:  # type: ignore[override]
        try:
            return await super().__call__(request, uow)
        except AgreementRefused as refusal:
            await run_in_threadpool(_log_refusal, request, refusal)
            raise


def _log_refusal(request: Request, refusal: AgreementRefused) -> None:
    """Appends the refusal's decision events to the tenant's log, if the tenant has one.

    A slug the service has never heard of gets no log: any officer of any tenant may ask, and must
    not be able to start logs for made-up tenants (the outbox still carries the decision).
    """
    with unit_of_work(request.app.state.sessions, request.path_params["tenant"]) as uow:
        if not service.has_log(db_session=uow.session, tenant=uow.tenant):
            return
        for event in refusal.events:
            service.append_event(uow=uow, event=event, signer=request.app.state.signer,
                                 checkpoint_every=request.app.state.audit.checkpoint_every)


def _recorded(
    request: Request,
    principal: Annotated[TenantPrincipal, Depends(LogReadAuthenticator())],
    uow: UnitOfWorkDep,
) -> Iterator[TenantPrincipal]:
    """Appends an oversight read to the tenant's log after the route ran, before the transaction commits."""
    yield principal
    if principal.home_tenant is not None:
        route = request.scope.get("route")
        read = LogReadByOversight(
            actor=principal.actor,
            client_id=principal.principal.client_id,
            purpose="national_oversight",
            from_tenants=[principal.home_tenant],
            agreement_id=principal.agreement.id,
            agreement_version=principal.agreement.version,
            route=route.path if route else request.url.path,
            path=request.url.path,
            query=str(request.url.query),
        )
        service.append_event(
            uow=uow,
            event=EVENTS.event(read, tenant=uow.tenant, subject="log"),
            signer=request.app.state.signer,
            checkpoint_every=request.app.state.audit.checkpoint_every,
        )


# Reads: the tenant's officers, and national officers under an agreement (each read recorded).
AuditReader = Annotated[TenantPrincipal, Depends(_recorded, scope="function")]
# Reviews: the tenant's own compliance officers only; to anyone else the tenant does not exist.
ComplianceOfficer = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={Scope.audit_read}, roles={Role.compliance_officer}))
]
