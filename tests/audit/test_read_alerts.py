"""Read-volume alerts: an actor reading far above its own usual level is flagged, and an officer closes it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from harambee_audit.app import create_app
from harambee_audit.read_volume import AlertRule
from harambee_audit.read_volume_watcher import ReadVolumeWatcher
from harambee_common.consumer import EventConsumer
from harambee_common.events import Event
from tests.audit.helpers import make_event, wait_until
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]
RULE = AlertRule(factor=3, floor=10, window_days=14, timezone="Africa/Nairobi")


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers."""
    yield TestClient(create_app())


def reads(tenant: str, actor: str, count: int, at: datetime, type: str = "access.recorded") -> list[Event]:
    return [replace(make_event(tenant, type=type, actor=actor), time=at) for _ in range(count)]


def history(tenant: str, actor: str, per_day: int, now: datetime, days: int = 14) -> list[Event]:
    """per_day reads on each of the days before now's."""
    return [e for d in range(1, days + 1) for e in reads(tenant, actor, per_day, now - timedelta(days=d))]


def apply(consumer: EventConsumer, events: list[Event]) -> None:
    for i in range(0, len(events), 200):
        consumer.apply_many([(e.topic, e.headers(), e.value()) for e in events[i : i + 200]])


def watch(sessions: sessionmaker[Session], now: datetime, **options: int) -> int:
    return ReadVolumeWatcher(sessions=sessions, rule=RULE, interval=60, **options).run_once(now=now)


def alerts(api: TestClient, issuer: TokenIssuer, tenant: str, status: str = "open") -> list[dict]:
    response = api.get(f"/v1/tenants/{tenant}/read-alerts", params={"status": status},
                       headers=issuer.headers(tenants={tenant: OFFICER}))
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ([4] * 14, (12.0, 4.0)),  # usually 4 a day: more than 12 is far above
        ([], (10.0, 0.0)),  # no history: the floor
        ([9] * 6, (10.0, 0.0)),  # reads on 6 of 14 days: the median day has none
        ([20] * 8, (60.0, 20.0)),
    ],
)
def test_the_threshold_is_k_times_the_trailing_daily_median_or_the_floor(
    window: list[int], expected: tuple[float, float]
) -> None:
    assert RULE.threshold(window) == expected


def test_an_actor_far_above_its_own_usual_level_is_alerted_and_one_at_its_usual_level_is_not(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session],
    tenant: str,
) -> None:
    now = datetime.now(UTC)
    events = [
        *history(tenant, "steady", 4, now), *reads(tenant, "steady", 13, now),  # > 3 x 4
        *history(tenant, "busy", 10, now), *reads(tenant, "busy", 25, now),  # < 3 x 10
        *reads(tenant, "busy", 40, now, type="agreement.applied"),  # not reads: not counted
        *reads(tenant, "newcomer", 10, now),  # no history: at the floor, not above it
        *reads(tenant, "stranger", 11, now),  # no history: above the floor
        *reads(f"{tenant}-other", "busy", 200, now),  # another tenant's reads are its own
    ]
    apply(consumer(), events)

    watch(sessions, now)

    found = {a["actor"]: a for a in alerts(api, issuer, tenant)}
    assert set(found) == {"steady", "stranger"}
    steady = found["steady"]
    assert (steady["count"], steady["baseline"], steady["threshold"]) == (13, 4.0, 12.0)
    assert steady["day"] == RULE.today(now).isoformat()
    assert (steady["status"], steady["closed_by"]) == ("open", None)
    assert (found["stranger"]["count"], found["stranger"]["threshold"]) == (11, 10.0)


def test_counting_resumes_where_it_stopped_counts_each_read_once_and_updates_the_open_alert(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session],
    owner: sa.Engine, tenant: str,
) -> None:
    now = datetime.now(UTC)
    audit = consumer()
    apply(audit, [*history(tenant, "steady", 2, now, days=3), *reads(tenant, "steady", 11, now)])

    for _ in range(10):  # 17 entries, at most 5 a pass
        watch(sessions, now, max_entries=5)
    watch(sessions, now)
    with owner.connect() as conn:
        counts = dict(conn.execute(
            sa.text("SELECT day, count FROM read_counts WHERE tenant_id = :t AND actor = 'steady'"), {"t": tenant}
        ).all())
    assert sorted(counts.values()) == [2, 2, 2, 11]
    [alert] = alerts(api, issuer, tenant)
    assert alert["count"] == 11

    apply(audit, reads(tenant, "steady", 4, now))
    watch(sessions, now)

    [again] = alerts(api, issuer, tenant)
    assert (again["id"], again["count"]) == (alert["id"], 15)


def test_a_spike_on_an_old_day_does_not_raise_an_alert_today(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session],
    tenant: str,
) -> None:
    now = datetime.now(UTC)
    apply(consumer(), reads(tenant, "last-month", 500, now - timedelta(days=30)))

    watch(sessions, now)

    assert alerts(api, issuer, tenant) == []


def test_days_are_the_programmes_local_days(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], owner: sa.Engine, tenant: str
) -> None:
    local = ZoneInfo("Africa/Nairobi")
    midnight = datetime.combine(date(2025, 6, 2), datetime.min.time(), tzinfo=local)
    apply(consumer(), reads(tenant, "night-shift", 1, midnight + timedelta(minutes=30)))  # 21:30 UTC on June 1

    watch(sessions, datetime.now(UTC))

    with owner.connect() as conn:
        days = list(conn.scalars(sa.text("SELECT day FROM read_counts WHERE tenant_id = :t"), {"t": tenant}))
    assert days == [date(2025, 6, 2)]


def test_an_officer_closes_an_alert_with_a_note_recorded_in_the_log_once(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session],
    owner: sa.Engine, tenant: str,
) -> None:
    now = datetime.now(UTC)
    apply(consumer(), reads(tenant, "worker-5", 30, now))
    watch(sessions, now)
    [alert] = alerts(api, issuer, tenant)
    url = f"/v1/tenants/{tenant}/read-alerts/{alert['id']}/close"
    headers = issuer.headers(tenants={tenant: OFFICER}, sub="officer-3")

    own = api.post(url, headers=issuer.headers(tenants={tenant: OFFICER}, sub="worker-5"), json={"note": "fine"})
    closed = api.post(url, headers=headers, json={"note": "Backlog clearance agreed with the manager, ref 77."})
    again = api.post(url, headers=headers, json={"note": "again"})

    assert own.status_code == 403 and own.json()["type"].endswith("/own-alert")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    # After the 30 reads, the officer's own read of the alert (recorded under it), then its closing.
    assert (body["status"], body["closed_by"], body["log_seq"]) == ("closed", "officer-3", 31)
    assert again.status_code == 409 and again.json()["type"].endswith("/already-closed")
    with owner.connect() as conn:
        read, canonical = conn.execute(sa.text("SELECT canonical FROM entries WHERE tenant_id = :t AND seq IN (30, 31) "
                                               "ORDER BY seq"), {"t": tenant}).scalars()
    read = json.loads(read)
    assert (read["type"], read["subject"], read["data"]["resource"]) == (
        "access.recorded", f"read_alert/{alert['id']}", f"read-alerts/{alert['id']}")
    entry = json.loads(canonical)
    assert (entry["type"], entry["actor"]) == ("read_alert.closed", "officer-3")
    assert entry["data"]["alerted_actor"] == "worker-5"
    assert entry["data"]["alert_id"] == alert["id"]
    assert "note" not in entry["data"] and b"ref 77" not in bytes(canonical)  # the officer's words stay out of the log
    assert alerts(api, issuer, tenant) == []
    assert [a["note"] for a in alerts(api, issuer, tenant, status="closed")] == [
        "Backlog clearance agreed with the manager, ref 77."
    ]

    # More reads the same day update the count the officer sees, but do not reopen what was closed.
    apply(consumer(), reads(tenant, "worker-5", 5, now))
    watch(sessions, now)
    assert [(a["status"], a["count"]) for a in alerts(api, issuer, tenant, status="all")] == [("closed", 35)]


def test_the_app_role_cannot_reopen_a_closed_alert(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session],
    tenant: str,
) -> None:
    now = datetime.now(UTC)
    apply(consumer(), reads(tenant, "worker-6", 30, now))
    watch(sessions, now)
    [alert] = alerts(api, issuer, tenant)
    api.post(f"/v1/tenants/{tenant}/read-alerts/{alert['id']}/close",
             headers=issuer.headers(tenants={tenant: OFFICER}), json={"note": "ok"})

    with pytest.raises(sa.exc.DBAPIError, match="not reopened"), sessions() as session, session.begin():
        session.execute(sa.select(sa.func.set_config("app.tenant_id", tenant, True)))
        session.execute(sa.text("UPDATE read_alerts SET status = 'open'"))


def test_unknown_alerts_and_other_roles_are_refused(api: TestClient, issuer: TokenIssuer, tenant: str) -> None:
    officer = issuer.headers(tenants={tenant: OFFICER})
    worker = issuer.headers(tenants={tenant: ["case_worker"]})
    unknown = f"/v1/tenants/{tenant}/read-alerts/00000000-0000-0000-0000-000000000000"

    assert api.get(unknown, headers=officer).status_code == 404
    assert api.post(f"{unknown}/close", headers=officer, json={"note": "x"}).status_code == 404
    assert api.get(f"/v1/tenants/{tenant}/read-alerts", headers=worker).status_code == 403
    assert api.get(f"/v1/tenants/{tenant}/read-alerts", params={"status": "maybe"}, headers=officer).status_code == 422


def test_the_running_service_raises_alerts_in_the_background(
    audit_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, issuer: TokenIssuer,
    consumer: Callable[..., EventConsumer], tenant: str,
) -> None:
    monkeypatch.setenv("AUDIT_ALERT_INTERVAL_SECONDS", "0.2")
    monkeypatch.setenv("AUDIT_ALERT_FLOOR", "5")
    apply(consumer(), reads(tenant, "night-reader", 12, datetime.now(UTC)))

    with TestClient(create_app()) as api:
        found = wait_until(lambda: alerts(api, issuer, tenant), seconds=30)

    assert [(a["actor"], a["count"], a["threshold"]) for a in found] == [("night-reader", 12, 5.0)]
