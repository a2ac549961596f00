"""The demo registry: the platform, three programmes, the organisations (providers among them), the demo clients
and people.

`seed-demo` writes what it issued (secrets and passwords, fresh each time) to a file for the demo
and the end-to-end tests; the models of that file are here too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, Field

from harambee_common.components import SERVICES
from harambee_common.db import UnitOfWork
from harambee_common.permissions import SECOND_FACTOR_ROLES, Role, Scope
from harambee_gateway import agreements, clients, enrolments, organisations, people, repository, tenants
from harambee_gateway.events import PLATFORM
from harambee_gateway.schemas import (
    AgreementCreate,
    AgreementParty,
    ClientCreate,
    DataCategory,
    PersonCreate,
    Retention,
)

# Events name who made each change; the demo seeding is its own actor.
ACTOR = "seed-demo"

# slug, name, kind, the county tenants a national tenant oversees
TENANTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("platform", "Harambee platform administration", "platform", ()),
    ("ke-mombasa", "Mombasa County referral programme", "county", ()),
    ("ke-nairobi", "Nairobi County referral programme", "county", ()),
    ("ke-national", "National P/CVE programme", "national", ("ke-mombasa", "ke-nairobi")),
)
# slug, name, kind, the tenants it works in
ORGANISATIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("mombasa-youth-cso", "Mombasa Youth Empowerment CSO", "cso", ("ke-mombasa",)),
    ("mombasa-county-programme", "Mombasa County referral programme", "programme", ("ke-mombasa",)),
    # Asked by the programme for information before a panel (assessment's demo block below).
    ("mombasa-county-health", "Mombasa County health services", "agency", ("ke-mombasa",)),
)


# --- the credentials file -----------------------------------------------------------------------


class DemoClient(BaseModel):
    """One demo client's credentials, as written by `seed-demo`."""

    name: str
    client_id: str
    client_secret: str
    tenant: str
    scope: str


class DemoPerson(BaseModel):
    """One demo person's sign-in credentials, as written by `seed-demo`."""

    username: str
    password: str
    tenant: str
    roles: list[str]
    # For a role that signs in with a second factor: `POST /enrolment {"token": ...}` sets it up (once).
    enrolment_token: str | None = None


class DemoApp(BaseModel):
    """A demo public client (single-page app): people sign in through it with PKCE."""

    name: str
    client_id: str
    redirect_uri: str
    scope: str


class DemoCredentials(BaseModel):
    """The file `seed-demo` writes for the demo and the end-to-end tests."""

    gateway: str
    clients: list[DemoClient]
    people: list[DemoPerson] = Field(default_factory=list)
    apps: list[DemoApp] = Field(default_factory=list)


# --- the demo registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoClientSpec:
    """A demo client and the one grant it holds."""

    name: str
    organisation: str | None
    tenant: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]


# Monitoring and evaluation: the county programme manager who reads Mombasa's own indicators (exact), beside the
# national coordinator above, who reads them under the county's aggregates agreement.
MONITORING_CLIENTS = (
    DemoClientSpec(
        name="mombasa-programme-manager",
        organisation="mombasa-county-programme",
        tenant="ke-mombasa",
        roles=(Role.programme_manager,),
        scopes=(Scope.aggregates_read,),
    ),
)


# --- the services' own registry clients (production provisioning too: `create-service-clients`) ----------

# One per service: each loads its copy of the agreements from /registry/v1 at startup and now and then.
SERVICE_CLIENTS = tuple(
    DemoClientSpec(
        name=f"{service.name}-service",
        organisation=None,
        tenant=PLATFORM,
        roles=(Role.service,),
        scopes=(Scope.registry_read,),
    )
    for service in SERVICES
)


def ensure_service_clients(*, uow: UnitOfWork) -> list[DemoClient]:
    """Each service's registry client, with a fresh secret (a deployment's second step, after the admin)."""
    tenants.ensure_tenant(uow=uow, slug=PLATFORM, name="Harambee platform administration", kind="platform", actor=ACTOR)
    return [_issue(uow=uow, spec=spec) for spec in SERVICE_CLIENTS]


CLIENTS = (
    DemoClientSpec(
        name="mombasa-youth-cso-system",
        organisation="mombasa-youth-cso",
        tenant="ke-mombasa",
        roles=(Role.partner,),
        scopes=(Scope.referrals_write, Scope.referrals_read),
    ),
    # The county's intake officers' system: screens referrals (accepting one opens its case).
    DemoClientSpec(
        name="mombasa-intake-officer",
        organisation="mombasa-county-programme",
        tenant="ke-mombasa",
        roles=(Role.intake_officer,),
        scopes=(Scope.referrals_write, Scope.referrals_read, Scope.cases_read),
    ),
    DemoClientSpec(
        name="mombasa-case-worker",
        organisation="mombasa-county-programme",
        tenant="ke-mombasa",
        roles=(Role.case_worker,),
        scopes=(Scope.referrals_read, Scope.cases_read),
    ),
    DemoClientSpec(
        name="mombasa-compliance",
        organisation="mombasa-county-programme",
        tenant="ke-mombasa",
        roles=(Role.compliance_officer,),
        scopes=(Scope.audit_read,),
    ),
    # Nairobi's programme staff: receives cases that move from Mombasa under their agreement.
    DemoClientSpec(
        name="nairobi-case-worker",
        organisation=None,
        tenant="ke-nairobi",
        roles=(Role.case_worker,),
        scopes=(Scope.referrals_read, Scope.cases_read),
    ),
    # Reviews a county's audit log from the national programme, under the county's agreement.
    DemoClientSpec(
        name="national-compliance",
        organisation=None,
        tenant="ke-national",
        roles=(Role.compliance_officer,),
        scopes=(Scope.audit_read,),
    ),
    # Reads county aggregates, only where the county's agreement with the national programme allows.
    DemoClientSpec(
        name="national-coordinator",
        organisation=None,
        tenant="ke-national",
        roles=(Role.national_coordinator,),
        scopes=(Scope.aggregates_read,),
    ),
    # Manages the registry through the admin API: tenants, organisations, clients, people.
    DemoClientSpec(
        name="platform-admin",
        organisation=None,
        tenant=PLATFORM,
        roles=(Role.platform_admin,),
        scopes=(Scope.registry_admin,),
    ),
    *MONITORING_CLIENTS,
    *SERVICE_CLIENTS,
)


def ensure_platform_admin(*, uow: UnitOfWork, name: str) -> DemoClient:
    """The platform tenant and an administrator client in it, with a fresh secret (a deployment's first step)."""
    tenants.ensure_tenant(uow=uow, slug=PLATFORM, name="Harambee platform administration", kind="platform", actor=ACTOR)
    return _issue(
        uow=uow,
        spec=DemoClientSpec(
            name=name, organisation=None, tenant=PLATFORM, roles=(Role.platform_admin,), scopes=(Scope.registry_admin,)
        ),
    )


def _issue(*, uow: UnitOfWork, spec: DemoClientSpec) -> DemoClient:
    existing = repository.get_client_by_name(db_session=uow.session, name=spec.name)
    if existing is None:
        organisation = organisations.get_organisation(uow=uow, slug=spec.organisation) if spec.organisation else None
        credentials = clients.register_client(uow=uow, name=spec.name, organisation=organisation, actor=ACTOR)
    else:
        credentials = clients.rotate_client_secret(uow=uow, client=existing, actor=ACTOR)
    clients.set_grant(
        uow=uow,
        client_id=credentials.client_id,
        tenant=spec.tenant,
        roles=list(spec.roles),
        scopes=list(spec.scopes),
        actor=ACTOR,
    )
    return DemoClient(
        name=spec.name,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        tenant=spec.tenant,
        scope=" ".join(spec.scopes),
    )


def demo_agreements(*, on: date) -> list[AgreementCreate]:
    """One agreement of each kind: a partner CSO with its county, and a county with the nation."""
    validity = {
        "valid_from": on,
        "valid_until": on + timedelta(days=730),
        "review_date": on + timedelta(days=365),
    }
    return [
        AgreementCreate(
            reference="ke-mombasa-mombasa-youth-cso-referrals",
            title="Referrals from Mombasa Youth Empowerment CSO",
            purpose=(
                "The CSO refers young people it is concerned about to the county programme and "
                "follows the status of its own referrals; it sees nothing of assessments or plans."
            ),
            parties=[
                AgreementParty(kind="tenant", id="ke-mombasa", role="controller", lawful_basis="public_interest"),
                AgreementParty(
                    kind="organisation", id="mombasa-youth-cso", role="processor", lawful_basis="legitimate_interests"
                ),
            ],
            data_categories=[
                DataCategory(
                    name="referral",
                    sensitive=True,
                    fields=[
                        "referral_id",
                        "person.name",
                        "person.date_of_birth",
                        "person.contact",
                        "concern.summary",
                        "concern.indicators",
                        "referrer.role",
                        "referrer.source_type",
                    ],
                ),
                DataCategory(name="referral_status", sensitive=False,
                             fields=["referral_id", "status", "received_at", "previous_status", "updated_at"]),
            ],
            operations=["submit_referrals", "read_referral_status"],
            consent_required=False,
            retention=Retention(days=365, then="delete"),
            **validity,
        ),
        AgreementCreate(
            reference="ke-mombasa-ke-national-aggregates",
            title="Mombasa programme indicators for the national programme",
            purpose="National oversight of the county programme through aggregate indicators only.",
            parties=[
                AgreementParty(kind="tenant", id="ke-mombasa", role="controller", lawful_basis="public_interest"),
                AgreementParty(kind="tenant", id="ke-national", role="recipient", lawful_basis="public_interest"),
            ],
            data_categories=[
                DataCategory(
                    name="programme_indicators",
                    sensitive=False,
                    fields=[
                        "referrals_by_source",
                        "referrals_by_age_band",
                        "referrals_by_gender",
                        "screening_outcomes",
                        "time_to_decision",
                        "plans_completed",
                    ],
                )
            ],
            operations=["read_aggregates"],
            consent_required=False,
            retention=Retention(days=1825, then="delete"),
            aggregate_suppression_threshold=5,
            **validity,
        ),
        AgreementCreate(
            reference="ke-mombasa-ke-national-audit-oversight",
            title="National compliance review of Mombasa's audit log",
            purpose="The national programme's compliance officers review who accessed what in the county's log.",
            parties=[
                AgreementParty(kind="tenant", id="ke-mombasa", role="controller", lawful_basis="public_interest"),
                AgreementParty(kind="tenant", id="ke-national", role="recipient", lawful_basis="legal_obligation"),
            ],
            data_categories=[
                DataCategory(name="audit_log", sensitive=False,
                             fields=["seq", "type", "time", "subject_ref", "actor", "client_id", "agreement_id"]),
            ],
            operations=["read_audit_log"],
            consent_required=False,
            retention=Retention(days=365, then="delete"),
            **validity,
        ),
        AgreementCreate(
            reference="ke-mombasa-ke-nairobi-case-transfers",
            title="Transfer of cases from Mombasa to Nairobi when a person moves",
            purpose="Continuity of support for a person who relocates from Mombasa to Nairobi.",
            parties=[
                AgreementParty(kind="tenant", id="ke-mombasa", role="controller", lawful_basis="public_interest"),
                AgreementParty(kind="tenant", id="ke-nairobi", role="recipient", lawful_basis="public_interest"),
            ],
            data_categories=[
                # `plan`: the support plan moves with the case (needs and goals; providers stay behind).
                DataCategory(name="case", sensitive=True,
                             fields=["case_id", "subject_ref", "status", "opened_at", "plan"]),
            ],
            operations=["transfer_cases"],
            consent_required=True,
            retention=Retention(days=365, then="delete"),
            **validity,
        ),
    ]


@dataclass(frozen=True)
class DemoPersonSpec:
    """A demo person and the roles they hold in one tenant."""

    username: str
    tenant: str
    roles: tuple[str, ...]


PEOPLE = (
    DemoPersonSpec(username="mombasa.caseworker", tenant="ke-mombasa", roles=(Role.case_worker,)),
    DemoPersonSpec(username="mombasa.intake", tenant="ke-mombasa", roles=(Role.intake_officer,)),
    DemoPersonSpec(username="national.coordinator", tenant="ke-national", roles=(Role.national_coordinator,)),
)
APP = (
    "harambee-web",
    "http://127.0.0.1:5173/callback",
    (Scope.referrals_read, Scope.referrals_write, Scope.cases_read,
     # Assessment and the panel (issue 10): what assessors, case workers and panel members do through the app.
     Scope.cases_write, Scope.panel_read, Scope.panel_write),
)


@dataclass(frozen=True)
class SeededDemo:
    """What `seed-demo` hands out: client secrets, people's passwords, the demo app's client id."""

    clients: list[DemoClient]
    people: list[DemoPerson]
    apps: list[DemoApp]


# --- assessment and the multi-agency panel (issue 10) -----------------------------------------------
# The county health agency (in ORGANISATIONS) is asked for information; the county's assessors, a case
# manager who approves assessments and runs the panel's paperwork, the panel's chair; and the agency's
# own system, which answers the information requests addressed to it.

ASSESSMENT_CLIENTS = (
    DemoClientSpec(name="mombasa-assessor", organisation="mombasa-county-programme", tenant="ke-mombasa",
                   roles=(Role.assessor,), scopes=(Scope.cases_read, Scope.cases_write)),
    # Sends information requests, assigns assessors, approves assessments (never ones they wrote).
    # ... and, once the case is consented, plans, reviews and closes its support (interventions' plans:write).
    DemoClientSpec(name="mombasa-case-manager", organisation="mombasa-county-programme", tenant="ke-mombasa",
                   roles=(Role.case_worker,), scopes=(Scope.cases_read, Scope.cases_write, Scope.plans_write)),
    DemoClientSpec(name="mombasa-panel-chair", organisation="mombasa-county-programme", tenant="ke-mombasa",
                   roles=(Role.panel_member,), scopes=(Scope.panel_read, Scope.panel_write)),
    DemoClientSpec(name="mombasa-health-agency-system", organisation="mombasa-county-health", tenant="ke-mombasa",
                   roles=(Role.partner,), scopes=(Scope.information_requests_answer,)),
)
ASSESSMENT_PEOPLE = (
    DemoPersonSpec(username="mombasa.assessor", tenant="ke-mombasa", roles=(Role.assessor,)),
    DemoPersonSpec(username="mombasa.panel.chair", tenant="ke-mombasa", roles=(Role.panel_member,)),
)


def assessment_agreements(*, on: date) -> list[AgreementCreate]:
    """The county health agency receives the programme's information requests and answers them."""
    return [AgreementCreate(
        reference="ke-mombasa-mombasa-county-health-information-requests",
        title="Information requests between the Mombasa programme and county health services",
        purpose=("Before a panel decides, the programme asks the health services whether they share a concern "
                 "about a person and what they know that bears on it; the answer stays with the programme."),
        parties=[
            AgreementParty(kind="tenant", id="ke-mombasa", role="controller", lawful_basis="public_interest"),
            AgreementParty(kind="organisation", id="mombasa-county-health", role="recipient",
                           lawful_basis="public_interest"),
        ],
        data_categories=[DataCategory(name="safeguarding_concern", sensitive=True,
                                      fields=["question", "shares_concern", "knowledge", "attachments"])],
        operations=["information_requests"],
        consent_required=False,
        retention=Retention(days=365, then="delete"),
        valid_from=on, valid_until=on + timedelta(days=730), review_date=on + timedelta(days=365),
    )]


def seed_demo(*, uow: UnitOfWork) -> SeededDemo:
    """Creates or updates the demo registry; every demo client and person gets a fresh secret."""
    for slug, name, kind, oversees in TENANTS:
        tenants.ensure_tenant(uow=uow, slug=slug, name=name, kind=kind, oversees=oversees, actor=ACTOR)
    for slug, name, kind, works_in in ORGANISATIONS:
        organisations.ensure_organisation(uow=uow, slug=slug, name=name, kind=kind, tenants=works_in, actor=ACTOR)
    issued = [_issue(uow=uow, spec=spec) for spec in (*CLIENTS, *ASSESSMENT_CLIENTS)]
    _ensure_agreements(uow=uow, drafts=[*demo_agreements(on=agreements.today()),
                                        *assessment_agreements(on=agreements.today())])
    providers = seed_intervention_providers(uow=uow)
    return SeededDemo(clients=issued + providers.clients, people=_seed_people(uow=uow) + providers.people,
                      apps=[_seed_app(uow=uow)])


def _ensure_agreements(*, uow: UnitOfWork, drafts: list[AgreementCreate]) -> None:
    """Creates and activates each agreement not yet in the registry (by reference)."""
    for agreement in drafts:
        if repository.get_agreement_by_reference(db_session=uow.session, reference=agreement.reference):
            continue
        created = agreements.create_agreement(uow=uow, data=agreement, actor=ACTOR)
        agreements.change_status(uow=uow, agreement_id=created.id, status="active", actor=ACTOR, reason=None)


def _seed_people(*, uow: UnitOfWork, specs: tuple[DemoPersonSpec, ...] | None = None) -> list[DemoPerson]:
    seeded = []
    for spec in (*PEOPLE, *ASSESSMENT_PEOPLE) if specs is None else specs:
        person = repository.get_person_by_username(db_session=uow.session, username=spec.username)
        if person is None:
            person, _ = people.create_person(uow=uow, data=PersonCreate(username=spec.username), actor=ACTOR)
        password = people.reset_password(uow=uow, person_id=person.id, actor=ACTOR)
        for role in spec.roles:
            held = repository.get_current_role(
                db_session=uow.session, person_id=person.id, tenant=spec.tenant, role=role
            )
            if held is None:
                people.grant_role(uow=uow, person_id=person.id, tenant=spec.tenant, role=role, actor=ACTOR)
        seeded.append(DemoPerson(username=spec.username, password=password, tenant=spec.tenant, roles=list(spec.roles),
                                 enrolment_token=_second_factor_enrolment(uow=uow, person_id=person.id, spec=spec)))
    return seeded


# --- demo people's second factors (keys) ---------------------------------------------------------


def _second_factor_enrolment(*, uow: UnitOfWork, person_id: uuid.UUID, spec: DemoPersonSpec) -> str | None:
    """A one-time enrolment for a demo person whose role signs in with a second factor; None for others.

    The seed never sets a factor itself: like any administrator it cannot, and it holds no key to seal one.
    """
    if not SECOND_FACTOR_ROLES & set(spec.roles):
        return None
    return enrolments.issue(uow=uow, person_id=person_id, password=False, second_factor=True, actor=ACTOR).token


def _seed_app(*, uow: UnitOfWork) -> DemoApp:
    name, redirect_uri, scopes = APP
    client = repository.get_client_by_name(db_session=uow.session, name=name)
    if client is None:
        client, _ = clients.create_client(
            uow=uow,
            data=ClientCreate(
                name=name, client_type="public", redirect_uris=[redirect_uri], allowed_scopes=list(scopes)
            ),
            actor=ACTOR,
        )
    return DemoApp(name=name, client_id=client.client_id, redirect_uri=redirect_uri, scope=" ".join(scopes))


# --- the console (gateway/harambee_gateway/console) ----------------------------------------------

CONSOLE_PEOPLE = (
    DemoPersonSpec(username="mombasa.manager", tenant="ke-mombasa", roles=(Role.programme_manager,)),
    DemoPersonSpec(username="mombasa.compliance", tenant="ke-mombasa", roles=(Role.compliance_officer,)),
    DemoPersonSpec(username="national.compliance", tenant="ke-national", roles=(Role.compliance_officer,)),
)


def seed_console(*, uow: UnitOfWork, gateway_url: str) -> tuple[DemoApp, list[DemoPerson]]:
    """The console's public client (returning to `<gateway>/console/callback`) and the people who use it."""
    from harambee_gateway.console.config import CALLBACK_PATH, CLIENT_NAME, SCOPES

    redirect_uri = gateway_url.rstrip("/") + CALLBACK_PATH
    client = repository.get_client_by_name(db_session=uow.session, name=CLIENT_NAME)
    if client is None:
        client, _ = clients.create_client(
            uow=uow,
            data=ClientCreate(name=CLIENT_NAME, client_type="public", redirect_uris=[redirect_uri],
                              allowed_scopes=list(SCOPES)),
            actor=ACTOR,
        )
    app = DemoApp(name=CLIENT_NAME, client_id=client.client_id, redirect_uri=client.redirect_uris[0],
                  scope=" ".join(SCOPES))
    return app, _seed_people(uow=uow, specs=CONSOLE_PEOPLE)


# --- intervention providers (issue 11) ------------------------------------------------------------
# Two provider organisations in Mombasa, each with its system (a partner client that sees its own tasks
# only) and one named practitioner; the county's case manager (assessment's block) plans support. The interventions
# service registers and vets providers itself (through its API); the registry holds who they are.

PROVIDER_ORGANISATIONS: tuple[tuple[str, str], ...] = (
    ("coast-youth-mentors", "Coast Youth Mentors"),
    ("mombasa-family-counselling", "Mombasa Family Counselling Centre"),
)
INTERVENTION_CLIENTS = tuple(
    DemoClientSpec(name=f"{slug}-system", organisation=slug, tenant="ke-mombasa", roles=(Role.partner,),
                   scopes=(Scope.tasks_read, Scope.tasks_write))
    for slug, _ in PROVIDER_ORGANISATIONS
)
# username, organisation: a mentor who signs in and sees the tasks given to them by name.
PRACTITIONERS: tuple[tuple[str, str], ...] = (("coast.mentor", "coast-youth-mentors"),)


def provider_agreements(*, on: date) -> list[AgreementCreate]:
    """Per provider organisation: its tasks and what it records on them, nothing of assessments or referrals."""
    return [
        AgreementCreate(
            reference=f"ke-mombasa-{slug}-interventions",
            title=f"Intervention tasks delivered by {name}",
            purpose=(
                "The provider delivers the support the county plans: it sees its own tasks (a goal and a "
                "pseudonymous reference) and records sessions and progress; never assessments or referrals."
            ),
            parties=[
                AgreementParty(kind="tenant", id="ke-mombasa", role="controller", lawful_basis="public_interest"),
                AgreementParty(kind="organisation", id=slug, role="processor", lawful_basis="consent"),
            ],
            data_categories=[
                DataCategory(name="intervention_task", sensitive=True,
                             fields=["task_id", "reference", "goal", "intervention_type", "starts_on",
                                     "expected_end_on", "status"]),
                DataCategory(name="delivery_record", sensitive=True,
                             fields=["held_on", "duration_minutes", "attended", "note", "rating"]),
            ],
            operations=["read_intervention_tasks", "record_intervention_sessions"],
            consent_required=True,
            retention=Retention(days=730, then="delete"),
            valid_from=on,
            valid_until=on + timedelta(days=730),
            review_date=on + timedelta(days=365),
        )
        for slug, name in PROVIDER_ORGANISATIONS
    ]


def seed_intervention_providers(*, uow: UnitOfWork) -> SeededDemo:
    """The provider organisations, their clients and agreements, and the practitioner."""
    for slug, name in PROVIDER_ORGANISATIONS:
        organisations.ensure_organisation(uow=uow, slug=slug, name=name, kind="provider", tenants=("ke-mombasa",),
                                          actor=ACTOR)
    issued = [_issue(uow=uow, spec=spec) for spec in INTERVENTION_CLIENTS]
    _ensure_agreements(uow=uow, drafts=provider_agreements(on=agreements.today()))
    seeded = []
    for username, organisation in PRACTITIONERS:
        person = repository.get_person_by_username(db_session=uow.session, username=username)
        if person is None:
            person, _ = people.create_person(uow=uow, data=PersonCreate(username=username, organisation=organisation),
                                             actor=ACTOR)
        password = people.reset_password(uow=uow, person_id=person.id, actor=ACTOR)
        if repository.get_current_role(db_session=uow.session, person_id=person.id, tenant="ke-mombasa",
                                       role=Role.intervention_provider) is None:
            people.grant_role(uow=uow, person_id=person.id, tenant="ke-mombasa", role=Role.intervention_provider,
                              actor=ACTOR)
        seeded.append(DemoPerson(username=username, password=password, tenant="ke-mombasa",
                                 roles=[Role.intervention_provider]))
    return SeededDemo(clients=issued, people=seeded, apps=[])
