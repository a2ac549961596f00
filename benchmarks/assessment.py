"""Assessment's reads at scale: p50 of a panel agenda, a case's assessment history and the due
reassessments, at 100,000 cases in one tenant against 1,000 (target: ratio <= 1.5).

    python benchmarks/assessment.py [--small 1000] [--large 100000] [--reads 300] [--rounds 5] [--max-minutes 15]

Each size gets its own database, migrated by Alembic like the service's, with the starter frameworks
installed by the service's own code. The filler is made in SQL as the superuser (bulk INSERT ... SELECT
from generate_series): per case two assessments (one superseded, one approved) with a contribution
each; a fifth of the cases due for reassessment within a year either side of today; a panel meeting
per 20 cases, each with 20 cases on its agenda and three agencies attending.

Each read is the service call an endpoint makes, in a tenant-scoped transaction as the service's
runtime role (row-level security on), as a case worker, including its access records:
`panel.service.agenda` (50 items, each with its approved assessment), `assessments.service.history`
(20 items) and `reassessments.service.due` (50 items). The two sizes alternate in rounds, so that a
shared machine's load falls on both alike. Loopback only; bounded in reads and time.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.deadline import Deadline  # noqa: E402
from harambee_assessment.assessments import service as assessments  # noqa: E402
from harambee_assessment.frameworks import service as frameworks  # noqa: E402
from harambee_assessment.panel import service as panel  # noqa: E402
from harambee_assessment.reassessments import service as reassessments  # noqa: E402
from harambee_common.auth import Principal, TenantPrincipal  # noqa: E402
from harambee_common.db import UnitOfWork, create_db_engine, session_factory, unit_of_work  # noqa: E402
from harambee_common.migrations import upgrade  # noqa: E402
from harambee_common.pagination import Slice  # noqa: E402
from harambee_stack.postgres import Postgres  # noqa: E402

TENANT = "ke-bench"
TARGET_RATIO = 1.5
AGENDA_SIZE = 20
READER = TenantPrincipal(principal=Principal(subject="bench-reader", client_id="bench", scopes=frozenset(),
                                             tenants={TENANT: frozenset({"case_worker"})}, organisation=None),
                         tenant=TENANT)

# The filler, in one tenant. :n cases; ids derived from the row number so the reads can pick them.
FILL = """
INSERT INTO cases (id, tenant_id, subject_ref, referral_id, status, opened_at, reassessment_due_on, reassessment_reason)
SELECT md5('case' || i)::uuid, :tenant, md5('subject' || i)::uuid, md5('referral' || i)::uuid,
       (ARRAY['open', 'awaiting_consent', 'consented'])[1 + i % 3], now() - i * interval '1 minute',
       CASE WHEN i % 5 = 0 THEN current_date + (i % 730 - 365) END,
       CASE WHEN i % 5 = 0 THEN 'review_date' END
FROM generate_series(1, :n) AS i;

INSERT INTO assessments (id, tenant_id, case_id, framework_id, framework_version, status, ratings, summary,
                         management_plan, needs, started_by, started_at, submitted_by, submitted_at, approved_by,
                         approved_at, supersedes, superseded_by)
SELECT md5('assessment' || i || '-' || k)::uuid, :tenant, md5('case' || i)::uuid, :framework, 1,
       CASE WHEN k = 1 THEN 'superseded' ELSE 'approved' END,
       jsonb_build_object('engagement_group', jsonb_build_object('rating',
                            CASE WHEN k = 1 THEN 'present' ELSE 'partly_present' END, 'by', 'assessor', 'at', now()),
                          'strength_family', jsonb_build_object('rating', 'present', 'by', 'assessor', 'at', now())),
       'Summary.', 'Plan.', ARRAY['education', 'family'], 'assessor', now() - (3 - k) * interval '30 days',
       'assessor', now(), 'approver', now(), CASE WHEN k = 2 THEN md5('assessment' || i || '-1')::uuid END,
       CASE WHEN k = 1 THEN md5('assessment' || i || '-2')::uuid END
FROM generate_series(1, :n) AS i, generate_series(1, 2) AS k;

INSERT INTO assessment_contributions (id, tenant_id, assessment_id, author, organisation, ratings, note,
                                      contributed_at)
SELECT md5('contribution' || i || '-' || k)::uuid, :tenant, md5('assessment' || i || '-' || k)::uuid, 'assessor',
       NULL, '{"engagement_group": "present"}'::jsonb, 'Observed at school.', now()
FROM generate_series(1, :n) AS i, generate_series(1, 2) AS k;

INSERT INTO panel_meetings (id, tenant_id, held_on, chair, attendees, created_by, created_at)
SELECT md5('meeting' || m)::uuid, :tenant, current_date - m, 'chair',
       '[{"person": "chair", "agency": "a"}, {"person": "p2", "agency": "b"}, {"person": "p3", "agency": "c"}]',
       'secretary', now()
FROM generate_series(1, :n / 20) AS m;

INSERT INTO panel_attendance (tenant_id, meeting_id, person, agency)
SELECT :tenant, md5('meeting' || m)::uuid, p, p FROM generate_series(1, :n / 20) AS m,
       unnest(ARRAY['chair', 'p2', 'p3']) AS p;

INSERT INTO panel_agenda_items (tenant_id, meeting_id, case_id, added_at)
SELECT :tenant, md5('meeting' || (1 + (i - 1) / 20))::uuid, md5('case' || i)::uuid, now() - i * interval '1 second'
FROM generate_series(1, (:n / 20) * 20) AS i;
"""


def case_id(i: int) -> uuid.UUID:
    """The id FILL gives case i."""
    return uuid.UUID(hashlib.md5(f"case{i}".encode()).hexdigest())


def meeting_id(m: int) -> uuid.UUID:
    """The id FILL gives meeting m."""
    return uuid.UUID(hashlib.md5(f"meeting{m}".encode()).hexdigest())


def load(admin_url: str, database_url: str, app_url: str, size: int) -> float:
    """Installs the starter frameworks through the service, then the filler in SQL; returns seconds taken."""
    started = time.monotonic()
    engine = create_db_engine(app_url, pool_size=1)
    try:
        with unit_of_work(session_factory(engine), TENANT) as uow:
            frameworks.ensure_starters(uow=uow)
    finally:
        engine.dispose()
    url = make_url(admin_url).set(database=make_url(database_url).database)
    admin = sa.create_engine(url.render_as_string(hide_password=False))
    try:
        with admin.begin() as conn:
            framework = conn.scalar(sa.text("SELECT id FROM frameworks WHERE code = 'concerns-and-strengths'"))
            for statement in filter(str.strip, FILL.split(";\n")):
                conn.execute(sa.text(statement), {"tenant": TENANT, "n": size, "framework": framework})
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    finally:
        admin.dispose()
    return time.monotonic() - started


def reads_of(size: int, rng: random.Random) -> dict[str, Callable[[UnitOfWork], Slice[Any]]]:
    """The three reads at one size, each on a random meeting or case of it."""
    today = datetime.now(UTC).date()
    return {
        "panel agenda": lambda uow: panel.agenda(uow=uow, principal=READER,
                                                 meeting_id=meeting_id(rng.randint(1, size // AGENDA_SIZE)),
                                                 cursor=None, limit=50),
        "assessment history": lambda uow: assessments.history(uow=uow, principal=READER,
                                                              case_id=case_id(rng.randint(1, size)), cursor=None,
                                                              limit=20),
        "due reassessments": lambda uow: reassessments.due(uow=uow, principal=READER, by=today + timedelta(days=14),
                                                           overdue_on=None, cursor=None, limit=50),
    }


def timed(sessions: sessionmaker[Session], call: Callable[[UnitOfWork], Slice[Any]], count: int) -> list[float]:
    """Milliseconds of `count` calls, each in its own tenant-scoped transaction (with its access records)."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        with unit_of_work(sessions, TENANT) as uow:
            assert call(uow).rows, "a read found nothing"
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure(app_urls: dict[int, str], reads: int, rounds: int, deadline: Deadline) -> dict[int, dict[str, float]]:
    """p50 (ms) of each read at each size, the sizes alternating in rounds so that both see the same load."""
    engines = {size: create_db_engine(url, pool_size=2) for size, url in app_urls.items()}
    try:
        sessions = {size: session_factory(engine) for size, engine in engines.items()}
        calls = {size: reads_of(size, random.Random(size)) for size in app_urls}
        for size in app_urls:  # warm-up: caches, statement plans
            for call in calls[size].values():
                timed(sessions[size], call, max(5, reads // 10))
        timings: dict[int, dict[str, list[float]]] = {size: {name: [] for name in calls[size]} for size in app_urls}
        for round_ in range(rounds):
            for size in app_urls:
                deadline.check(f"round {round_ + 1} at {size}")
                for name, call in calls[size].items():
                    timings[size][name] += timed(sessions[size], call, max(1, reads // rounds))
        return {size: {name: statistics.median(t) for name, t in by_read.items()} for size, by_read in timings.items()}
    finally:
        for engine in engines.values():
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-minutes", type=float, default=15.0)
    args = parser.parse_args()
    if args.reads < 10 or args.rounds < 1 or args.small < AGENDA_SIZE or args.large < AGENDA_SIZE:
        raise SystemExit("need at least 10 reads, one round and 20 cases per size")
    deadline = Deadline(args.max_minutes)
    data_dir = ROOT / ".run" / "bench" / f"pg-{uuid.uuid4().hex[:8]}"
    server = Postgres.start(data_dir=data_dir)
    databases: list[str] = []
    try:
        app_urls = {}
        for size in (args.small, args.large):
            name = f"bench_assessment_{size}_{uuid.uuid4().hex[:6]}"
            databases.append(name)
            database = server.provision("assessment", database=name)
            upgrade(package="harambee_assessment", url=database.owner)
            seconds = load(server.admin_url, database.owner, database.app, size)
            print(f"{size:>9,} cases: loaded (with {2 * size:,} assessments) in {seconds:.0f}s", flush=True)
            app_urls[size] = database.app
        results = measure(app_urls, args.reads, args.rounds, deadline)
        for size, by_read in results.items():
            print(f"{size:>9,} cases: " + "  ".join(f"{k} p50 {v:.2f} ms" for k, v in by_read.items()), flush=True)
    finally:
        for name in databases:
            server.drop(name)
        server.stop()
        if server.embedded:
            shutil.rmtree(data_dir, ignore_errors=True)
    for read in results[args.small]:
        ratio = results[args.large][read] / results[args.small][read]
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"{read}: p50 ratio {args.large:,} / {args.small:,} = {ratio:.2f} ({verdict} the target of <= "
              f"{TARGET_RATIO})")


if __name__ == "__main__":
    main()
