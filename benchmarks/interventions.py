"""Intervention tracking at scale: the stalled-plan check's run time and a provider's task list p50, with
100,000 open plans in one tenant against 1,000 in another (the ratio of the p50s is the figure to watch).

    python benchmarks/interventions.py [--large 100000] [--small 1000] [--providers 50] [--requests 200]

Both tenants live in one database, as they would. Each plan has one open task, given to one of the
tenant's providers in turn; one task in twenty has had no session for 25 days (over the default 21), the
rest had one two days ago. The check runs twice per tenant: the first raises the stalled tasks' flags
(with their events), the second finds nothing new (the steady state of an hourly job). The task list is
`GET /v1/tenants/{tenant}/tasks` through the app in this process (token verification, the agreement
decision and its audit event, the keyset query and an access record per task), for providers chosen at
random. PostgreSQL on loopback only; every loop is bounded by its count.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harambee_common.agreements import store_agreement
from harambee_common.db import create_db_engine, session_factory, unit_of_work
from harambee_common.migrations import upgrade
from harambee_interventions.flags import checks
from harambee_stack.postgres import Postgres
from tests.support.agreements import agreement_view
from tests.support.tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ["read_intervention_tasks", "record_intervention_sessions"]

LOAD = [
    """INSERT INTO providers (provider_id, tenant_id, organisation, registered_at, registered_by)
       SELECT gen_random_uuid(), :t, :t || '-provider-' || i, now(), 'bench' FROM generate_series(1, :providers) i""",
    """INSERT INTO vettings (tenant_id, provider_id, intervention_type, vetted_on, expires_on, recorded_at, recorded_by)
       SELECT tenant_id, provider_id, 'mentoring', current_date - 30, current_date + 700, now(), 'bench'
       FROM providers WHERE tenant_id = :t""",
    """INSERT INTO plans (plan_id, tenant_id, case_id, subject_ref, version, status, created_at, updated_at,
                          next_review_on)
       SELECT gen_random_uuid(), :t, gen_random_uuid(), gen_random_uuid(), 1, 'active',
              now() - interval '30 days', now() - interval '30 days', current_date + 60
       FROM generate_series(1, :plans)""",
    """WITH providers AS (SELECT array_agg(provider_id ORDER BY organisation) AS ids, count(*) AS n
                          FROM providers WHERE tenant_id = :t),
            numbered AS (SELECT p.*, row_number() OVER () AS i FROM plans p WHERE p.tenant_id = :t)
       INSERT INTO tasks (task_id, tenant_id, plan_id, case_id, subject_ref, reference, need, goal,
                          intervention_type, provider_id, starts_on, expected_end_on, status, created_at,
                          last_session_on)
       SELECT gen_random_uuid(), n.tenant_id, n.plan_id, n.case_id, n.subject_ref, gen_random_uuid(), 'education',
              'Back in a vocational course by the next intake', 'mentoring', pr.ids[1 + n.i % pr.n],
              current_date - 30, current_date + 60, 'open', now() - interval '30 days' + n.i * interval '1 second',
              CASE WHEN n.i % 20 = 0 THEN current_date - 25 ELSE current_date - 2 END
       FROM numbered n CROSS JOIN providers pr""",
]


def load(owner: sa.Engine, tenant: str, *, plans: int, providers: int) -> list[str]:
    """Loads a tenant's providers, plans and tasks; returns its providers' organisations."""
    with owner.begin() as conn:
        conn.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
        for statement in LOAD:
            conn.execute(sa.text(statement), {"t": tenant, "plans": plans, "providers": providers})
        organisations = list(conn.scalars(sa.text("SELECT organisation FROM providers WHERE tenant_id = :t"),
                                          {"t": tenant}))
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))
    return organisations


def check_times(app_url: str, tenant: str) -> tuple[float, int, float, int]:
    """The flag check in one tenant: (first run seconds, flags raised, second run seconds, flags raised)."""
    engine = create_db_engine(app_url, pool_size=1)
    sessions = session_factory(engine)
    timings = []
    try:
        for _ in range(2):
            started = time.perf_counter()
            with unit_of_work(sessions, tenant) as uow:
                raised = checks.check_tenant(uow=uow, now=datetime.now(UTC))
            timings += [time.perf_counter() - started, raised]
    finally:
        engine.dispose()
    return tuple(timings)  # type: ignore[return-value]


def task_list_p50s(client: TestClient, issuer: TokenIssuer, organisations: dict[str, list[str]], requests: int,
                   page: int) -> dict[str, tuple[float, float]]:
    """Per tenant, the p50 and p95 of a provider's first page of tasks (full in both tenants), in milliseconds.

    The tenants' requests alternate, so that whatever else the machine is doing weighs on both alike.
    """
    rng = random.Random(11)
    headers = {(tenant, org): issuer.headers(tenants={tenant: ["partner"]}, scope="tasks:read", org=org,
                                             sub=f"client-{org}", lifetime=3600)
               for tenant, orgs in organisations.items() for org in orgs}
    for tenant, org in list(headers)[:10]:  # warm the token cache and the connection pool
        client.get(f"/v1/tenants/{tenant}/tasks", headers=headers[tenant, org])
    samples: dict[str, list[float]] = {tenant: [] for tenant in organisations}
    for _ in range(requests):
        for tenant, orgs in organisations.items():
            org = rng.choice(orgs)
            started = time.perf_counter()
            response = client.get(f"/v1/tenants/{tenant}/tasks", headers=headers[tenant, org], params={"limit": page})
            samples[tenant].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.json()["items"]) == page, response.text
    return {tenant: (statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1])
            for tenant, times in samples.items()}


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=100_000, help="open plans in the large tenant")
    parser.add_argument("--small", type=int, default=1_000, help="open plans in the small tenant")
    parser.add_argument("--providers", type=int, default=50, help="providers per tenant")
    parser.add_argument("--requests", type=int, default=200, help="task-list requests per tenant")
    args = parser.parse_args()
    data_dir = ROOT / ".run" / f"bench-interventions-{uuid.uuid4().hex[:8]}"
    postgres = Postgres.start(data_dir=data_dir)
    name = f"bench_interventions_{uuid.uuid4().hex[:8]}"
    tenants = {"ke-bench-small": args.small, "ke-bench-large": args.large}
    try:
        database = postgres.provision("interventions", database=name)
        upgrade(package="harambee_interventions", url=database.owner)
        owner = sa.create_engine(database.owner)
        started = time.perf_counter()
        organisations = {t: load(owner, t, plans=n, providers=args.providers) for t, n in tenants.items()}
        owner.dispose()
        print(f"loaded {sum(tenants.values()):,} open plans in {time.perf_counter() - started:.1f}s")
        app_engine = create_db_engine(database.app, pool_size=2)
        for tenant in tenants:
            with unit_of_work(session_factory(app_engine), tenant) as uow:
                for org in organisations[tenant]:
                    store_agreement(session=uow.session, view=agreement_view(
                        tenant=tenant, parties=[("organisation", org)], operations=OPERATIONS))
        app_engine.dispose()

        # The same page size in both tenants, each page full: what grows is the tenant, not the answer.
        page = max(1, min(50, args.small // args.providers))
        print(f"task lists: pages of {page} tasks (each task read is recorded)")
        for tenant, plans in tenants.items():
            first, raised, second, again = check_times(database.app, tenant)
            print(f"{plans:>9,} open plans: flag check {first * 1000:8.1f} ms (raised {raised:,} flags), "
                  f"again {second * 1000:7.1f} ms (raised {again})")
        with TokenIssuer() as issuer:
            os.environ.update({**database.env(), **issuer.env(), "RUN_RELAY": "0"})
            from harambee_interventions.app import create_app

            client = TestClient(create_app())  # no lifespan: no relay, consumer or scheduled check
            results = task_list_p50s(client, issuer, organisations, args.requests, page)
        for tenant, plans in tenants.items():
            p50, p95 = results[tenant]
            print(f"{plans:>9,} open plans: provider task list p50 {p50:6.2f} ms, p95 {p95:6.2f} ms")
        ratio = results["ke-bench-large"][0] / results["ke-bench-small"][0]
        verdict = "within" if ratio <= 1.5 else "OVER"
        print(f"task list p50 ratio {args.large:,} / {args.small:,} plans: {ratio:.2f} ({verdict} the 1.5 bound)")
    finally:
        postgres.drop(name)
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
