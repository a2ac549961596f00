"""Assessment's reads at scale: p50 of a panel agenda, a case's assessment history and the due
reassessments, at 100,000 cases in one tenant against 1,000 (target: ratio <= 1.5).

    python benchmarks/assessment.py [--small 1000] [--large 100000] [--reads 300] [--max-minutes 15]

Each size gets its own database, migrated by Alembic like the service's, with the starter frameworks
installed by the service's own code. The filler is made in SQL as the superuser (bulk INSERT ... SELECT
from generate_series): per case two assessments (one superseded, one approved) with a contribution
each; a fifth of the cases due for reassessment within a year either side of today; a panel meeting
per 20 cases, each with 20 cases on its agenda and three agencies attending.

Each read is the service call an endpoint makes, in a tenant-scoped transaction as the service's
runtime role (row-level security on), as a case worker, including its access records:
`panel.service.agenda` (50 items, each with its approved assessment), `assessments.service.history`
(20 items) and `reassessments.service.due` (50 items). Loopback only; bounded in reads and time.
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

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harambee_assessment.assessments import service as assessments  # noqa: E402
from harambee_assessment.frameworks import service as frameworks  # noqa: E402
from harambee_assessment.panel import service as panel  # noqa: E402
from harambee_assessment.reassessments import service as reassessments  # noqa: E402
from harambee_common.auth import Principal, TenantPrincipal  # noqa: E402
from harambee_common.db import create_db_engine, session_factory, unit_of_work  # noqa: E402
from harambee_common.migrations import upgrade  # noqa: E402
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


class Deadline:
    """The whole run's time budget; every phase checks it."""

    def __init__(self, minutes: float) -> None:
        self.end = time.monotonic() + minutes * 60

    def check(self, phase: str) -> None:
        if time.monotonic() > self.end:
            raise SystemExit(f"time budget exhausted during {phase}")


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


def measure(app_url: str, size: int, reads: int, deadline: Deadline) -> dict[str, float]:
    """p50 (ms) of each read, after a warm-up, at one size."""
    engine = create_db_engine(app_url, pool_size=2)
    sessions = session_factory(engine)
    rng = random.Random(size)
    meetings = size // AGENDA_SIZE
    today = datetime.now(UTC).date()
    calls: dict[str, Callable[..., object]] = {
        "panel agenda": lambda uow: panel.agenda(uow=uow, principal=READER,
                                                 meeting_id=meeting_id(rng.randint(1, meetings)), cursor=None,
                                                 limit=50),
        "assessment history": lambda uow: assessments.history(uow=uow, principal=READER,
                                                              case_id=case_id(rng.randint(1, size)), cursor=None,
                                                              limit=20),
        "due reassessments": lambda uow: reassessments.due(uow=uow, principal=READER, by=today + timedelta(days=14),
                                                           overdue_on=None, cursor=None, limit=50),
    }
    results = {}
    try:
        for name, call in calls.items():
            timings = []
            for n in range(reads + reads // 10):
                if n % 50 == 0:
                    deadline.check(f"{name} at {size}")
                started = time.perf_counter()
                with unit_of_work(sessions, TENANT) as uow:
                    page = call(uow)
                    assert page.rows, f"{name} read nothing"
                if n >= reads // 10:  # the first tenth warms the caches
                    timings.append((time.perf_counter() - started) * 1000)
            results[name] = statistics.median(timings)
    finally:
        engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--max-minutes", type=float, default=15.0)
    args = parser.parse_args()
    if args.reads < 10 or args.small < AGENDA_SIZE or args.large < AGENDA_SIZE:
        raise SystemExit("need at least 10 reads and 20 cases per size")
    deadline = Deadline(args.max_minutes)
    data_dir = ROOT / ".run" / "bench" / f"pg-{uuid.uuid4().hex[:8]}"
    server = Postgres.start(data_dir=data_dir)
    databases: list[str] = []
    results = {}
    try:
        for size in (args.small, args.large):
            name = f"bench_assessment_{size}_{uuid.uuid4().hex[:6]}"
            databases.append(name)
            database = server.provision("assessment", database=name)
            upgrade(package="harambee_assessment", url=database.owner)
            seconds = load(server.admin_url, database.owner, database.app, size)
            print(f"{size:>9,} cases: loaded (with {2 * size:,} assessments) in {seconds:.0f}s", flush=True)
            results[size] = measure(database.app, size, args.reads, deadline)
            print(f"{size:>9,} cases: " + "  ".join(f"{k} p50 {v:.2f} ms" for k, v in results[size].items()),
                  flush=True)
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
