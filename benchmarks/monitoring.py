"""County and national indicators at scale: p50 of one county's funnel over a year at N cases, and of the
national funnel across many counties (each county's release decided under its agreement, suppressed, and
recorded in its log), at the same total size; and their ratio (target: at most 2).

    python benchmarks/monitoring.py            # small and quick: 20,000 cases, 47 counties of ~425
    python benchmarks/monitoring.py --full     # the issue's sizes: 1,000,000 cases; 47 counties x 20,000

The read model is filled with synthetic facts by SQL (generate_series), as the consumer would have left it;
the figures are then read through the service functions the endpoints call (no HTTP), in a fresh unit of
work each time, on an embedded PostgreSQL on loopback. Bounded: a fixed number of repeats per figure.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harambee_common.agreements import store_agreement
from harambee_common.auth import Principal, TenantPrincipal
from harambee_common.db import create_db_engine, session_factory, unit_of_work
from harambee_common.migrations import upgrade
from harambee_monitoring.disclosure import release
from harambee_monitoring.disclosure.release import Reader
from harambee_monitoring.indicators import service as indicators
from harambee_monitoring.national import service as national
from harambee_stack.postgres import Postgres

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = "ke-national"
START = datetime(2026, 1, 1, tzinfo=UTC)

FILL = """
INSERT INTO referral_facts (referral_id, tenant_id, received_at, source_type, age_band, gender, is_minor,
                            concern_types, indicators, repeat_referral, screened_at, screening_outcome)
SELECT gen_random_uuid(), :tenant, t.received, t.source, t.band, t.gender, t.band IN ('under_15', '15_17'),
       ARRAY['behaviour'], ARRAY['sudden_withdrawal'], random() < 0.08,
       CASE WHEN t.r < 0.97 THEN t.received + random() * interval '5 days' END,
       CASE WHEN t.r < 0.45 THEN 'signpost' WHEN t.r < 0.6 THEN 'no_further_action'
            WHEN t.r < 0.62 THEN 'escalate' WHEN t.r < 0.97 THEN 'accept' END
FROM (SELECT :start + random() * interval '364 days' AS received, random() AS r,
             (ARRAY['education','health','social_services','religious_leader','family_or_friend','community','cso',
                    'self','police_diversion'])[1 + floor(random() * 9)::int] AS source,
             (ARRAY['under_15','15_17','18_24','25_34','35_plus'])[1 + floor(random() * 5)::int] AS band,
             (ARRAY['female','male','other','not_stated'])[1 + floor(random() * 4)::int] AS gender
      FROM generate_series(1, :n)) t;
INSERT INTO case_facts (case_id, tenant_id, referral_id, opened_at, assessed_at, decided_at, decision, consented_at,
                        first_session_on, closed_at, exit_reason, follow_up_6)
SELECT gen_random_uuid(), tenant_id, referral_id, screened_at, screened_at + interval '10 days',
       CASE WHEN r < 0.9 THEN screened_at + interval '20 days' END,
       CASE WHEN r < 0.6 THEN 'adopt' WHEN r < 0.75 THEN 'decline' WHEN r < 0.9 THEN 'signpost' END,
       CASE WHEN r < 0.5 THEN screened_at + interval '25 days' END,
       CASE WHEN r < 0.45 THEN (screened_at + interval '30 days')::date END,
       CASE WHEN r < 0.2 THEN screened_at + interval '150 days' END,
       CASE WHEN r < 0.12 THEN 'vulnerability_removed' WHEN r < 0.2 THEN 'substantially_reduced' END,
       CASE WHEN r < 0.05 THEN 'doing_well' END
FROM (SELECT *, random() AS r FROM referral_facts WHERE tenant_id = :tenant AND screening_outcome = 'accept') f;
"""


def fill(engine: sa.Engine, tenant: str, cases: int) -> None:
    """A year of synthetic referrals of one tenant, with their cases."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(sa.text(statement), {"tenant": tenant, "n": cases, "start": START})


def agree(sessions, county: str) -> None:  # type: ignore[no-untyped-def]
    """An agreement in force that lets the national tenant read the county's aggregates (threshold 5)."""
    today = date.today()
    view = {"id": str(uuid.uuid4()), "tenant": county, "version": 1, "status": "active",
            "valid_from": (today - timedelta(days=1)).isoformat(),
            "valid_until": (today + timedelta(days=365)).isoformat(),
            "parties": [{"kind": "tenant", "id": county}, {"kind": "tenant", "id": NATIONAL}],
            "operations": ["read_aggregates"], "aggregate_suppression_threshold": 5}
    with unit_of_work(sessions, county) as uow:
        store_agreement(session=uow.session, view=view)


def p50(runs: int, read) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """The median and the first of `runs` timed reads, and the median CPU time of this process (the service's own
    work, PostgreSQL's aside: on a shared machine it varies far less with the load than the elapsed time), in s."""
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        read()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), times[0], statistics.median(cpu)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,000,000 cases; 47 counties of 20,000")
    parser.add_argument("--counties", type=int, default=47)
    parser.add_argument("--per-county", type=int, default=None, help="cases per county (default 425, full 20,000)")
    parser.add_argument("--county-cases", type=int, default=None, help="cases of the one county (default: the "
                        "national total, full 1,000,000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", nargs="?", const="cumulative", choices=("cumulative", "tottime"),
                        help="profile the first reads and a repeated national read instead, sorted so")
    args = parser.parse_args()
    per_county = args.per_county or (20_000 if args.full else 425)
    county_cases = args.county_cases or (1_000_000 if args.full else args.counties * per_county)
    data_dir = ROOT / ".run" / f"bench-monitoring-{uuid.uuid4().hex[:8]}"
    postgres = Postgres.start(data_dir=data_dir)
    name = f"bench_monitoring_{uuid.uuid4().hex[:8]}"
    try:
        database = postgres.provision("monitoring", database=name)
        upgrade(package="harambee_monitoring", url=database.owner)
        owner = sa.create_engine(database.owner)
        started = time.perf_counter()
        fill(owner, "ke-big", county_cases)
        counties = [f"ke-county-{i:02d}" for i in range(args.counties)]
        for county in counties:
            fill(owner, county, per_county)
        with owner.begin() as conn:  # committed: statistics rolled back are lost
            conn.execute(sa.text("ANALYZE"))
        owner.dispose()
        print(f"loaded {county_cases:,} cases in one county and {args.counties} x {per_county:,} "
              f"in {time.perf_counter() - started:.1f}s")

        engine = create_db_engine(database.app, pool_size=4)
        sessions = session_factory(engine)
        for county in counties:
            agree(sessions, county)
        period = indicators.Period.of("2026-01", "2026-12")
        manager = Reader(actor="bench")

        def county_read() -> None:
            with unit_of_work(sessions, "ke-big") as uow:
                indicators.county_indicator(uow=uow, period=period, indicator="funnel", reader=manager)

        principal = TenantPrincipal(principal=Principal(
            subject="bench-coordinator", client_id="bench", scopes=frozenset({"aggregates:read"}),
            tenants={NATIONAL: frozenset({"national_coordinator"})}, organisation=None), tenant=NATIONAL)

        def national_read() -> None:
            with unit_of_work(sessions, NATIONAL) as uow:
                view = national.national_indicator(uow=uow, principal=principal, period=period, indicator="funnel")
                assert len(view.counties or []) == args.counties

        if args.profile:
            import cProfile
            import pstats

            # The first national read solves every county's suppression; a repeated one reuses the answers.
            for title, code in (("first reads", "county_read(); national_read()"), ("repeated national read",
                                                                                    "national_read()")):
                print(f"--- {title}")
                profile = data_dir / "monitoring.prof"
                cProfile.runctx(code, globals(), locals(), str(profile))
                pstats.Stats(str(profile)).sort_stats(args.profile).print_stats(30)
            return
        county_p50, county_first, county_cpu = p50(args.runs, county_read)
        national_p50, national_first, national_cpu = p50(args.runs, national_read)
        total = args.counties * per_county
        print(f"county funnel, {county_cases:,} cases, 12 months: p50 {county_p50 * 1000:,.0f} ms "
              f"(first {county_first * 1000:,.0f} ms; CPU of this process p50 {county_cpu * 1000:,.0f} ms)")
        print(f"national funnel, {args.counties} counties x {per_county:,} = {total:,} cases: "
              f"p50 {national_p50 * 1000:,.0f} ms (first {national_first * 1000:,.0f} ms; CPU of this process p50 "
              f"{national_cpu * 1000:,.0f} ms)")
        print(f"ratio national / county: {national_p50 / county_p50:.2f} (target <= 2)")
        # The reads above reuse each county's suppression answer while its figures and history are unchanged
        # (release.ANSWERS); this is the national read when every county's protection is solved again.
        def solving_read() -> None:
            release.ANSWERS.clear()
            national_read()

        solved_p50, _, solved_cpu = p50(args.runs, solving_read)
        print(f"national funnel, suppression solved again in each county at each read: p50 {solved_p50 * 1000:,.0f} ms "
              f"(ratio {solved_p50 / county_p50:.2f}; CPU p50 {solved_cpu * 1000:,.0f} ms)")
        engine.dispose()
    finally:
        postgres.drop(name)
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
