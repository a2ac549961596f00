"""The demo seed: a month of activity in each demo county, through the consumer's own recording code, once."""

from __future__ import annotations

from datetime import UTC, datetime

from harambee_monitoring import demo
from tests.monitoring.support import manager

TENANTS = {"ke-mon-demo-a": (60, 15, 1, 500_000), "ke-mon-demo-b": (30, 10, 2, 800_000)}


def test_the_demo_month_fills_every_indicator_once(monitoring, issuer):
    client, _ = monitoring
    now = datetime.now(UTC)
    done = demo.seed(sessions=client.app.state.sessions, now=now, tenants=TENANTS)
    assert all("events" in what for what in done.values())
    headers = manager(issuer, "ke-mon-demo-a")
    url = "/v1/tenants/ke-mon-demo-a/indicators"
    funnel = {s["key"]: s["total"] for s in client.get(f"{url}/funnel", headers=headers).json()["tables"][0]["series"]}
    assert funnel["referred"] >= 60 and 0 < funnel["screened"] <= funnel["referred"]
    assert 0 < funnel["first_session"] < funnel["accepted"] and funnel["closed"] > 0
    change = client.get(f"{url}/change", headers=headers).json()
    assert sum(s["total"] for s in change["tables"][0]["series"] if s["key"] == "total") > 0
    disparity = client.get(f"{url}/disparity", headers=headers).json()
    assert ("age_band_gender", "18_24:male") in {(g["dimension"], g["group"]) for g in disparity["flagged"]}
    again = demo.seed(sessions=client.app.state.sessions, now=now, tenants=TENANTS)
    assert set(again.values()) == {"already seeded"}
