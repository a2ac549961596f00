"""The steps of a case's way through assessment, as the service's clients take them (for its tests)."""

from __future__ import annotations

from typing import Any

from tests.assessment.support import deliver, referral_accepted
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows

TENANT = "ke-mombasa"
AGENCY = "mombasa-health-agency"


def staff(issuer, sub: str, *roles: str, tenant: str = TENANT) -> dict[str, str]:
    """A county person's token: cases read and write."""
    return issuer.headers(tenants={tenant: list(roles or ("case_worker",))}, scope="cases:read cases:write",
                          sub=sub, client_id="county-console")


def panel_member(issuer, sub: str, *, write: bool = False) -> dict[str, str]:
    """A panel member's token (the chair's can record decisions)."""
    return issuer.headers(tenants={TENANT: ["panel_member"]}, scope="panel:read panel:write" if write else "panel:read",
                          sub=sub, client_id="panel-console")


def agency(issuer, org: str = AGENCY) -> dict[str, str]:
    """A partner agency's system."""
    return issuer.headers(tenants={TENANT: ["partner"]}, scope="information_requests:answer", sub=f"{org}-system",
                          client_id=f"{org}-system", org=org)


def compliance(issuer) -> dict[str, str]:
    """The county's compliance officer."""
    return issuer.headers(tenants={TENANT: ["compliance_officer"]}, scope="audit:read", sub="compliance-1")


def open_case(client, database) -> dict[str, Any]:
    """A case opened from an accepted referral: its id and subject."""
    event = referral_accepted(TENANT)
    assert deliver(client, event)
    [case] = rows(database.owner, "SELECT id, subject_ref FROM cases WHERE referral_id = :r",
                  r=event.data["referral_id"])
    return {"id": str(case.id), "subject_ref": str(case.subject_ref)}


# The fields the demo seed's information-request agreement names (gateway/harambee_gateway/seed.py).
REQUEST_FIELDS = ("question", "shares_concern", "knowledge", "attachments")


def information_agreement(client, org: str = AGENCY, *, categories: tuple[str, ...] = ("health_contacts",),
                          operations: tuple[str, ...] = ("information_requests",),
                          fields: tuple[str, ...] = REQUEST_FIELDS, consent_required: bool = False) -> str:
    """An agreement in force with an agency that lets it receive information requests; returns its id."""
    view = agreement_view(tenant=TENANT, parties=[("organisation", org)], operations=list(operations))
    view["data_categories"] = [{"name": c, "sensitive": True, "fields": list(fields)} for c in categories]
    view["consent_required"] = consent_required
    assert deliver(client, agreement_event(view))
    return view["id"]


def framework(client, headers, code: str) -> dict[str, Any]:
    """The tenant's framework of a code (the starters are installed on first use)."""
    response = client.get(f"/v1/tenants/{TENANT}/frameworks", headers=headers)
    assert response.status_code == 200, response.text
    return next(f for f in response.json()["items"] if f["code"] == code)


def approved_assessment(client, issuer, case_id: str, *, ratings: dict[str, str] | None = None,
                        needs: tuple[str, ...] = ("education", "family")) -> dict[str, Any]:
    """An assessment started, contributed to by two assessors, submitted and approved by a third person."""
    first, second = staff(issuer, "assessor-a"), staff(issuer, "assessor-b")
    chosen = framework(client, first, "concerns-and-strengths")
    started = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/assessments", headers=first,
                          json={"framework_id": chosen["id"]})
    assert started.status_code == 201, started.text
    assessment = started.json()["id"]
    for headers, given in ((first, ratings or {"engagement_group": "present"}),
                           (second, {"strength_family": "partly_present"})):
        response = client.post(f"/v1/tenants/{TENANT}/assessments/{assessment}/contributions", headers=headers,
                               json={"ratings": given, "note": "Seen at school twice this term."})
        assert response.status_code == 201, response.text
    submitted = client.post(f"/v1/tenants/{TENANT}/assessments/{assessment}/submit", headers=first,
                            json={"summary": "Concern shared by school and family.", "needs": list(needs),
                                  "management_plan": "Mentoring and family support; review in three months."})
    assert submitted.status_code == 200, submitted.text
    approved = client.post(f"/v1/tenants/{TENANT}/assessments/{assessment}/approve",
                           headers=staff(issuer, "senior-worker"))
    assert approved.status_code == 200, approved.text
    return approved.json()


def quorate_meeting(client, issuer, case_ids: list[str], *, agencies: int = 3) -> dict[str, Any]:
    """A meeting with the chair and members from `agencies` agencies, the cases on its agenda."""
    attendees = [{"person": f"member-{i}", "agency": f"agency-{i}"} for i in range(agencies)]
    response = client.post(f"/v1/tenants/{TENANT}/panel-meetings", headers=staff(issuer, "panel-secretary"),
                           json={"held_on": "2026-12-10", "chair": "member-0", "attendees": attendees,
                                 "agenda": case_ids})
    assert response.status_code == 201, response.text
    return response.json()


def outbox(database, event_type: str, **data: str) -> list[Any]:
    """The service's outbox rows of a type whose data holds these values."""
    where = "".join(f" AND data->>'{k}' = :{k}" for k in data)
    return rows(database.owner, f"SELECT data FROM outbox WHERE type = :t{where}", t=event_type, **data)
