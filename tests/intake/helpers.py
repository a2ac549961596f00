"""What the intake tests share: the tenant, callers' tokens, referral bodies."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

import sqlalchemy

from harambee_intake.vault import WrappedKey
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows

TENANT = "ke-mombasa"
OTHER_TENANT = "ke-kwale"
BASE = f"/v1/tenants/{TENANT}"

FULL_REFERRAL: dict[str, Any] = {
    "person": {
        "given_name": "Halima", "family_name": "Odhiambo", "other_names": "Achieng",
        "date_of_birth": "2009-07-14", "gender": "female", "phone": "+254711000222",
        "email": "halima.o@example.org", "address": "Plot 17, Majengo Road",
        "guardians": [{"name": "Rehema Odhiambo", "relationship": "mother", "phone": "+254722333444"}],
    },
    "source_type": "education",
    "referrer": {"role": "class teacher", "name": "Peter Mwangi", "phone": "+254733111000"},
    "concern": "Since March she has been missing lessons and talks about joining a group abroad.",
    "indicators": ["plans_to_travel", "sudden_withdrawal", "grievance_or_injustice"],
    "observed_behaviour": "Asked classmates how to get a passport without her parents knowing.",
    "online_activity": {"platforms": ["messaging_apps"],
                        "description": "Joined a channel sharing recruiter videos."},
    "concerning_contacts": "An older man who waits for her outside the school gate.",
    "intent_to_harm": {"expressed": False},
    "needs": {"codes": ["learning_disability"], "description": "Dyslexia; reads slowly."},
    "safeguarding": {"family": ["bereavement"], "peers": ["bullying"],
                     "description": "Father died last year."},
    "discussed": {"with_person": True, "with_guardians": False,
                  "summary": "Spoke with her once after class."},
    "referrer_fears": "That she will leave the country in the school holidays.",
    "external_document": {"system": "School welfare register", "reference": "SWR-2024-118"},
}

NARRATIVE = (
    "missing lessons", "passport without her parents", "recruiter videos", "outside the school gate",
    "Dyslexia", "Father died", "Spoke with her once", "school holidays", "Peter Mwangi", "SWR-2024-118",
)
IDENTITY = ("Halima", "Odhiambo", "Achieng", "2009-07-14", "+254711000222", "halima.o@example.org",
            "Majengo", "Rehema")


# Partner organisations the tests act for; each test tenant has an agreement in force naming them.
ORGANISATIONS = (
    "mombasa-youth-cso", "another-cso", "paging-cso", "cso-a", "cso-b", "cso-one", "cso-two", "school-cso",
    "health-cso", "own-cso", "other-cso", "slow-cso", "flaky-cso", "rotated-cso", "careful-cso", "signed-cso",
)
PARTNER_OPERATIONS = ("submit_referrals", "read_referral_status")
# What a partner is given of its referrals, as an agreement names the fields.
PARTNER_FIELDS = ("referral_id", "status", "received_at", "previous_status")


def agree(client, tenant: str, *organisations: str, operations: tuple[str, ...] = PARTNER_OPERATIONS,
          fields: tuple[str, ...] = PARTNER_FIELDS, consent_required: bool = False, **view: Any) -> dict[str, Any]:
    """An agreement between the tenant and organisations, handed to intake's consumer as the registry
    would publish it; returns the agreement as published."""
    published = {
        **agreement_view(tenant=tenant, parties=[("organisation", o) for o in organisations or ORGANISATIONS],
                         operations=list(operations), **view),
        "data_categories": [{"name": "referral_status", "sensitive": False, "fields": list(fields)}],
        "consent_required": consent_required,
    }
    event = agreement_event(published)
    consumer(client).apply(event.topic, event.headers(), event.value())
    return published


def consumer(client):
    """Intake's running event consumer."""
    return next(w for w in client.app.state.workers if getattr(w, "subscription", None)
                and w.subscription.name == "intake")


W = TypeVar("W")


def worker(client, kind: type[W]) -> W:
    """The app's running background worker of a kind (the webhook dispatcher, the retention scheduler)."""
    return next(w for w in client.app.state.workers if isinstance(w, kind))


@contextmanager
def exporting_to(client, sources: dict[str, str]) -> Iterator[None]:
    """Intake configured, for the block, to gather access requests' parts from these services."""
    state = client.app.state
    configured = state.intake_config
    state.intake_config = replace(configured, export_sources=sources)
    try:
        yield
    finally:
        state.intake_config = configured


def referral(**changes: Any) -> dict[str, Any]:
    """The full referral with some top-level fields changed (None removes one)."""
    body = copy.deepcopy(FULL_REFERRAL)
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def person(given: str, family: str, dob: str | None = "2001-02-03", **more: Any) -> dict[str, Any]:
    """A person part of a referral."""
    return {"given_name": given, "family_name": family, **({"date_of_birth": dob} if dob else {}), **more}


def partner(issuer, org: str = "mombasa-youth-cso", tenant: str = TENANT) -> dict[str, str]:
    return issuer.headers(tenants={tenant: ["partner"]}, scope="referrals:write referrals:read", org=org,
                          client_id=f"{org}-system", sub=f"{org}-system")


def officer(issuer, sub: str = "officer-1", tenant: str = TENANT) -> dict[str, str]:
    return issuer.headers(tenants={tenant: ["intake_officer"]}, scope="referrals:write referrals:read",
                          sub=sub, client_id="intake-console")


def case_worker(issuer, tenant: str = TENANT) -> dict[str, str]:
    return issuer.headers(tenants={tenant: ["case_worker"]}, scope="referrals:read cases:read",
                          sub="worker-1", client_id="case-console")


def submit(client, headers: dict[str, str], body: dict[str, Any] | None = None, tenant: str = TENANT,
           **extra_headers: str) -> dict[str, Any]:
    """Submits a referral and returns the 201 body."""
    response = client.post(f"/v1/tenants/{tenant}/referrals", json=body or FULL_REFERRAL,
                           headers={**headers, **extra_headers})
    assert response.status_code == 201, response.text
    return response.json()


def dump(url: str, *tables: str) -> str:
    """Every row of the tables, as the owner role sees them, as one string."""
    return json.dumps([[str(v) for v in row] for t in tables for row in rows(url, f"SELECT * FROM {t}")])


def outbox(url: str, type_: str, **data: str) -> list[Any]:
    """The outbox events of a type whose data has these values."""
    where = "".join(f" AND data->>'{k}' = :{k}" for k in data)
    return rows(url, f"SELECT type, subject, data FROM outbox WHERE type = :t{where} ORDER BY seq",
                t=type_, **data)


class Desk:
    """One tenant's intake, as the tests drive it: a fresh tenant per test keeps tests apart."""

    def __init__(self, client, issuer, tenant: str | None = None) -> None:
        self.client = client
        self.issuer = issuer
        self.tenant = tenant or f"ke-test-{uuid.uuid4().hex[:8]}"
        self.base = f"/v1/tenants/{self.tenant}"
        if tenant is None:
            agree(client, self.tenant)

    def partner(self, org: str = "mombasa-youth-cso") -> dict[str, str]:
        return partner(self.issuer, org=org, tenant=self.tenant)

    def officer(self, sub: str = "officer-1") -> dict[str, str]:
        return officer(self.issuer, sub=sub, tenant=self.tenant)

    def case_worker(self) -> dict[str, str]:
        return case_worker(self.issuer, tenant=self.tenant)

    def submit(self, who: dict[str, Any], *, org: str = "mombasa-youth-cso", **fields: Any) -> dict[str, Any]:
        """Submits a referral about a person; returns the 201 body."""
        body = {"person": who, "source_type": "community", "concern": "Worried about them.",
                "indicators": ["threats_of_violence"], **fields}
        return submit(self.client, self.partner(org), body, tenant=self.tenant)

    def referral(self, referral_id: str) -> dict[str, Any]:
        """An officer's view of a referral."""
        response = self.client.get(f"{self.base}/referrals/{referral_id}", headers=self.officer())
        assert response.status_code == 200, response.text
        return response.json()

    def subject_of(self, referral_id: str) -> str:
        return self.referral(referral_id)["subject_ref"]

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any):
        return self.client.get(f"{self.base}{path}", params=params, headers=headers or self.officer())

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self.client.post(f"{self.base}{path}", json=body, headers=headers or self.officer())

    def link_exact_matches(self) -> None:
        """Opts the tenant in to linking an exact blind-index match at once (by default a screener decides)."""
        etag = self.get("/settings/matching").headers["etag"]
        response = self.client.put(f"{self.base}/settings/matching", json={"link_exact_matches": True},
                                   headers={**self.officer(), "If-Match": etag})
        assert response.status_code == 200, response.text

    def patch(self, path: str, body: Any, etag: str | None, headers: dict[str, str] | None = None):
        extra = {"If-Match": etag} if etag is not None else {}
        return self.client.patch(f"{self.base}{path}", json=body, headers={**(headers or self.officer()), **extra})


def execute(url: str, statement: str, *, tenant: str | None = None, **params: Any) -> int:
    """Runs a statement that returns no rows, as the role in url; returns the row count."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            if tenant is not None:
                conn.execute(sqlalchemy.select(sqlalchemy.func.set_config("app.tenant_id", tenant, True)))
            return conn.execute(sqlalchemy.text(statement), params).rowcount
    finally:
        engine.dispose()


def unsealed(client, url: str, *, tenant: str, subject: str, sealed: dict[str, str], context: str) -> dict[str, Any]:
    """Fields as stored sealed under a person's key, opened with the key as stored, as only intake could."""
    [row] = rows(url, "SELECT wrapped_key, key_generation, kek_id FROM subjects WHERE id = :s", s=subject)
    wrapped = WrappedKey(bytes(row.wrapped_key), row.key_generation, row.kek_id)
    key = client.app.state.vault.data_key(tenant=tenant, subject=subject, wrapped=wrapped)
    return key.open(sealed, context=context)
