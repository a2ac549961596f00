"""Duplicate lookup by blind index: p50 at 1,000,000 subjects in one tenant against 10,000.

    python benchmarks/intake_duplicates.py [--small 10000] [--large 1000000] [--lookups 1500] [--max-minutes 25]

Each size gets its own database, migrated by Alembic like the service's. Subjects are synthetic
people (names from generated given- and family-name lists, so same-sounding names collide as they
would in a county) whose blind-index rows are made by the service's own code (matching.digests
with a real Vault's key) and bulk-loaded with COPY. Identities are not encrypted for the filler:
a lookup never decrypts, so the ciphertext would not change what is measured.

A lookup is the person's blind-index digests and `subjects.service.matches` in a tenant-scoped
transaction as the service's runtime role (row-level security on): the same call a submission
makes. Probes mix people already in the tenant (exact match), spelling variants of them
(candidates), and new people. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.deadline import Deadline  # noqa: E402
from harambee_common.db import create_db_engine, session_factory, unit_of_work  # noqa: E402
from harambee_common.migrations import upgrade  # noqa: E402
from harambee_intake import matching  # noqa: E402
from harambee_intake.subjects import service as subjects  # noqa: E402
from harambee_intake.vault import Vault  # noqa: E402
from harambee_stack.postgres import Postgres  # noqa: E402

TENANT = "ke-bench"
TARGET_RATIO = 1.5
SYLLABLES = ("ba", "ka", "ki", "ma", "mu", "na", "ni", "wa", "ja", "ri", "ru", "ta", "to", "sa", "si", "ha",
             "di", "do", "la", "le", "ne", "ye", "yo", "go", "ge", "mo", "me", "fa", "fu", "sh", "ch", "ny")


def names(rng: random.Random, count: int, syllables: tuple[int, int]) -> list[str]:
    """Distinct pronounceable names."""
    found: set[str] = set()
    for _ in range(count * 20):
        if len(found) >= count:
            break
        found.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(*syllables))).capitalize())
    return sorted(found)


class People:
    """Deterministic synthetic people: person(i) is the same on every call."""

    def __init__(self, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.given = names(rng, 600, (2, 3))
        self.family = names(rng, 3000, (2, 4))
        self.seed = seed

    def person(self, i: int) -> dict[str, str]:
        rng = random.Random(self.seed * 1_000_003 + i)
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(20000))
        person = {"given_name": rng.choice(self.given), "family_name": rng.choice(self.family),
                  "date_of_birth": born.isoformat()}
        if rng.random() < 0.3:
            person["other_names"] = rng.choice(self.given)
        if rng.random() < 0.6:
            person["phone"] = f"+2547{rng.randrange(10**8):08d}"
        return person


def variant(person: dict[str, str], rng: random.Random) -> dict[str, str]:
    """A spelling variant, as a second referrer might write the name."""
    name = person["family_name"]
    changed = name + "h" if rng.random() < 0.5 else name[:-1] + ("o" if name[-1] != "o" else "u")
    return {**person, "family_name": changed}


def load(admin_url: str, database_url: str, vault: Vault, people: People, size: int, deadline: Deadline) -> float:
    """Bulk-loads `size` subjects and their blind index with COPY; returns seconds taken."""
    started = time.monotonic()
    key = vault.blind_index_key(TENANT)
    url = make_url(admin_url).set(database=make_url(database_url).database)
    engine = sa.create_engine(url.render_as_string(hide_password=False))
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            # Loading as the superuser: skip per-row foreign-key triggers, build the indexes once after,
            # exactly as the migrations define them.
            cur.execute("SET session_replication_role = replica")
            cur.execute("SELECT pg_get_indexdef('subject_index_lookup'::regclass)")
            lookup_index = cur.fetchone()[0]
            cur.execute("DROP INDEX subject_index_lookup")
            cur.execute("ALTER TABLE subject_index DROP CONSTRAINT subject_index_pkey")
            with cur.copy("COPY subjects (id, tenant_id, wrapped_key, identity, key_generation, kek_id, version) "
                          "FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["uuid", "text", "bytea", "jsonb", "int4", "text", "int4"])
                for i in range(size):
                    copy.write_row((_subject_id(i), TENANT, b"\x00", "{}", 0, vault.kek_id, 1))
            index_copy = "COPY subject_index (tenant_id, subject_id, kind, digest) FROM STDIN (FORMAT BINARY)"
            with cur.copy(index_copy) as copy:
                copy.set_types(["text", "uuid", "text", "bytea"])
                for i in range(size):
                    if i % 50_000 == 0:
                        deadline.check("load")
                    subject_id = _subject_id(i)
                    for digest in matching.digests(key, people.person(i)):
                        copy.write_row((TENANT, subject_id, digest.kind, digest.value))
            cur.execute("ALTER TABLE subject_index ADD CONSTRAINT subject_index_pkey "
                        "PRIMARY KEY (subject_id, kind, digest)")
            cur.execute(lookup_index)
        conn.commit()
        # What autovacuum does in a running database: statistics, and the visibility map that lets
        # a lookup read the covering index without visiting the table.
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE subjects")
            cur.execute("VACUUM ANALYZE subject_index")
    finally:
        raw.close()
        engine.dispose()
    return time.monotonic() - started


def _subject_id(i: int) -> uuid.UUID:
    return uuid.UUID(int=(0xB0 << 120) | i)


def probes(people: People, size: int, count: int, seed: int) -> Iterator[tuple[str, dict[str, str]]]:
    """Lookups as submissions make them: half people already in the tenant, a quarter variants, a quarter new."""
    rng = random.Random(seed)
    for n in range(count):
        kind = ("existing", "existing", "variant", "new")[n % 4]
        if kind == "new":
            yield kind, people.person(size + 10_000_000 + n)
        else:
            known = people.person(rng.randrange(size))
            yield kind, known if kind == "existing" else variant(known, rng)


def measure(app_url: str, vault: Vault, people: People, size: int, lookups: int, deadline: Deadline) -> dict:
    """Times `lookups` duplicate lookups (after a warm-up); returns milliseconds and what was found."""
    engine = create_db_engine(app_url, pool_size=2)
    sessions = session_factory(engine)
    timings: list[float] = []
    found = {"existing": 0, "variant": 0, "new": 0}
    asked = {"existing": 0, "variant": 0, "new": 0}
    try:
        for phase, count in (("warm-up", max(100, lookups // 10)), ("measure", lookups)):
            for n, (kind, person) in enumerate(probes(people, size, count, seed=len(phase))):
                if n % 100 == 0:
                    deadline.check(f"lookups at {size}")
                started = time.perf_counter()
                with unit_of_work(sessions, TENANT) as uow:
                    digests = matching.digests(vault.blind_index_key(TENANT), person)
                    matches = subjects.matches(uow=uow, digests=digests,
                                               has_date_of_birth="date_of_birth" in person)
                elapsed = (time.perf_counter() - started) * 1000
                if phase == "measure":
                    timings.append(elapsed)
                    asked[kind] += 1
                    has_dob = "date_of_birth" in person
                    offered = any(matching.is_candidate(kinds, has_date_of_birth=has_dob)
                                  for root, kinds in matches.near.items() if root not in matches.exact)
                    found[kind] += bool(matches.exact) if kind == "existing" else offered
    finally:
        engine.dispose()
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "p99": timings[int(len(timings) * 0.99) - 1],
        "found": found,
        "asked": asked,
    }


def index_rows(owner_url: str) -> int:
    engine = sa.create_engine(owner_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM subject_index"))
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=1500)
    parser.add_argument("--max-minutes", type=float, default=25.0)
    args = parser.parse_args()
    deadline = Deadline(args.max_minutes)
    vault = Vault(os.urandom(32))
    people = People()
    data_dir = ROOT / ".run" / "bench" / f"pg-{uuid.uuid4().hex[:8]}"
    server = Postgres.start(data_dir=data_dir)
    databases: list[str] = []
    results = {}
    try:
        for size in (args.small, args.large):
            name = f"bench_intake_{size}_{uuid.uuid4().hex[:6]}"
            databases.append(name)
            database = server.provision("intake", database=name)
            upgrade(package="harambee_intake", url=database.owner)
            seconds = load(server.admin_url, database.owner, vault, people, size, deadline)
            rows = index_rows(database.owner)
            print(f"{size:>9,} subjects: loaded {rows:,} blind-index rows in {seconds:.0f}s", flush=True)
            results[size] = measure(database.app, vault, people, size, args.lookups, deadline)
            r = results[size]
            print(f"{size:>9,} subjects: p50 {r['p50']:.2f} ms  p95 {r['p95']:.2f} ms  p99 {r['p99']:.2f} ms  "
                  f"(exact found {r['found']['existing']}/{r['asked']['existing']}, "
                  f"variants offered a candidate {r['found']['variant']}/{r['asked']['variant']}, "
                  f"new people offered one {r['found']['new']}/{r['asked']['new']})", flush=True)
    finally:
        for name in databases:
            server.drop(name)
        server.stop()
        if server.embedded:
            shutil.rmtree(data_dir, ignore_errors=True)
    ratio = results[args.large]["p50"] / results[args.small]["p50"]
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"p50 ratio {args.large:,} / {args.small:,} = {ratio:.2f} ({verdict} the target of <= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
