"""The intervention catalogue: the default types in every tenant, edited type by type, per tenant."""

from __future__ import annotations

from tests.interventions.support import Callers, consented_case, item, today, vetted_provider
from tests.support.services import rows

DEFAULT_TYPES = {"mentoring", "psychosocial_support", "mental_health", "education_career", "vocational_livelihoods",
                 "family_support", "theological_mentoring", "sports_arts", "online_safety"}


def catalogue(client, tenant, headers) -> dict[str, dict]:
    response = client.get(f"/v1/tenants/{tenant}/intervention-types", headers=headers)
    assert response.status_code == 200, response.text
    return {t["code"]: t for t in response.json()["items"]}


def test_every_tenant_starts_with_the_default_catalogue(interventions, issuer):
    client, _ = interventions
    types = catalogue(client, "ke-catalogue-a", Callers(issuer, "ke-catalogue-a").staff(write=False))
    assert set(types) == DEFAULT_TYPES
    assert all(t["active"] and not t["edited"] for t in types.values())


def test_a_tenant_edits_adds_and_retires_types_for_itself_only(interventions, issuer):
    client, database = interventions
    staff = Callers(issuer, "ke-catalogue-b").staff()
    url = "/v1/tenants/ke-catalogue-b/intervention-types"
    added = client.put(f"{url}/boda_boda_cooperative", headers=staff,
                       json={"label": "Motorcycle-taxi cooperative apprenticeship", "description": "Livelihoods"})
    assert added.status_code == 200 and added.json()["edited"] is True
    assert client.put(f"{url}/theological_mentoring", headers=staff,
                      json={"label": "Theological mentoring", "active": False}).status_code == 200
    types = catalogue(client, "ke-catalogue-b", staff)
    assert types["boda_boda_cooperative"]["active"] and not types["theological_mentoring"]["active"]
    assert "boda_boda_cooperative" not in catalogue(client, "ke-catalogue-a",
                                                    Callers(issuer, "ke-catalogue-a").staff())

    # A retired type takes no new plan item; an added one does.
    provider_id, _ = vetted_provider(client, staff, "ke-catalogue-b", types=("boda_boda_cooperative",))
    case_id, _, _ = consented_case(client, "ke-catalogue-b", needs=["livelihood"])
    plan_url = f"/v1/tenants/ke-catalogue-b/cases/{case_id}/plan"
    retired = client.post(plan_url, headers=staff, json={"items": [
        item(provider_id, need="livelihood", intervention_type="theological_mentoring", starts_on=today(client))]})
    assert retired.status_code == 422
    made = client.post(plan_url, headers=staff, json={"items": [
        item(provider_id, need="livelihood", intervention_type="boda_boda_cooperative", starts_on=today(client))]})
    assert made.status_code == 201, made.text
    assert client.put(f"{url}/theological_mentoring/../../x", headers=staff, json={"label": "x"}).status_code in (
        404, 422)
    for code, body in (("Bad Code", {"label": "x"}), ("fine_code", {"label": ""}), ("fine_code", {}),
                       ("fine_code", {"label": "x", "colour": "red"})):
        response = client.put(f"{url}/{code}", headers=staff, json=body)
        assert response.status_code == 422, (code, body, response.text)
    assert rows(database.owner, "SELECT data->>'code', data->>'active' FROM outbox WHERE tenant_id = :t "
                "AND type = 'intervention_type.changed' ORDER BY seq", t="ke-catalogue-b") == [
        ("boda_boda_cooperative", "true"), ("theological_mentoring", "false")]
    reader = Callers(issuer, "ke-catalogue-b").staff(write=False)
    assert client.put(f"{url}/mentoring", headers=reader, json={"label": "Mentors"}).status_code == 403
