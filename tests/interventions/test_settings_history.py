"""Changes to a tenant's intervention settings and catalogue: published with the value they replaced, and kept."""

from __future__ import annotations

from tests.interventions.support import Callers
from tests.support.services import rows

TENANT = "ke-settings-history"
DEFAULTS = {"stall_days": 21, "review_interval_months": 3, "follow_up_months": [6, 12]}


def test_settings_changes_carry_the_settings_they_replaced_and_are_kept(interventions, issuer):
    client, database = interventions
    staff = Callers(issuer, TENANT).staff()
    url = f"/v1/tenants/{TENANT}/intervention-settings"
    first = {"stall_days": 14, "review_interval_months": 2, "follow_up_months": [3, 6, 12]}
    second = {"stall_days": 28, "review_interval_months": 2, "follow_up_months": [6]}
    for body in (first, second):
        assert client.put(url, headers=staff, json=body).status_code == 200

    published = [data for (data,) in rows(database.owner, "SELECT data FROM outbox WHERE tenant_id = :t AND "
                                          "type = 'intervention_settings.changed' ORDER BY seq", t=TENANT)]
    assert [d["previous"] for d in published] == [DEFAULTS, first]
    assert [{k: d[k] for k in DEFAULTS} for d in published] == [first, second]

    history = client.get(f"/v1/tenants/{TENANT}/settings/history", headers=staff, params={"kind": "settings"})
    assert history.status_code == 200, history.text
    changes = history.json()["items"]
    assert [(c["previous"], c["value"]) for c in changes] == [(first, second), (DEFAULTS, first)]  # newest first
    assert {c["changed_by"] for c in changes} == {"case-manager-1"}
    assert [c["id"] for c in changes] == [d["change_id"] for d in reversed(published)]


def test_catalogue_changes_carry_whether_the_type_was_in_use_and_keep_the_wording(interventions, issuer):
    client, database = interventions
    staff = Callers(issuer, TENANT).staff()
    url = f"/v1/tenants/{TENANT}/intervention-types"
    assert client.put(f"{url}/sports_arts", headers=staff, json={"label": "Football and drama", "active": False}
                      ).status_code == 200
    assert client.put(f"{url}/sports_arts", headers=staff, json={"label": "Football and drama"}).status_code == 200
    assert client.put(f"{url}/boda_boda_cooperative", headers=staff, json={"label": "Motorcycle-taxi cooperative"}
                      ).status_code == 200

    published = rows(database.owner, "SELECT data->>'code', data->'previous_active', data->'active' FROM outbox "
                     "WHERE tenant_id = :t AND type = 'intervention_type.changed' ORDER BY seq", t=TENANT)
    assert published == [("sports_arts", True, False), ("sports_arts", False, True),
                         ("boda_boda_cooperative", None, True)]
    assert "Football" not in str(rows(database.owner, "SELECT data FROM outbox WHERE tenant_id = :t AND "
                                      "type = 'intervention_type.changed'", t=TENANT))  # the wording stays here

    changes = client.get(f"/v1/tenants/{TENANT}/settings/history", headers=staff,
                         params={"kind": "intervention_type", "name": "sports_arts"}).json()["items"]
    assert [(c["previous"], c["value"]) for c in changes] == [
        ({"label": "Football and drama", "description": None, "active": False},
         {"label": "Football and drama", "description": None, "active": True}),
        ({"label": "Sports and arts", "description": None, "active": True},
         {"label": "Football and drama", "description": None, "active": False}),
    ]


def test_the_history_is_read_by_county_staff_and_compliance_officers_only(interventions, issuer):
    client, _ = interventions
    url = f"/v1/tenants/{TENANT}/settings/history"
    compliance = issuer.headers(tenants={TENANT: ["compliance_officer"]}, scope="audit:read", sub="compliance-1")
    assert client.get(url, headers=compliance).status_code == 200
    provider = issuer.headers(tenants={TENANT: ["partner"]}, scope="tasks:read", sub="client-x", org="provider-x")
    assert client.get(url, headers=provider).status_code == 403
    assert client.get(url, headers=Callers(issuer, TENANT).staff(), params={"kind": "colours"}).status_code == 422
