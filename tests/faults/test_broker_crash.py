"""The embedded broker SIGKILLed mid-load and restarted empty: nothing lost, nothing applied twice.

The embedded broker keeps its topics in memory, so a crash loses every event published but not yet
consumed, and consumers hold positions past the reborn, empty logs. Relays notice the new topics and
publish their outbox's retained window again; consumers read a reborn topic from its beginning; the
idempotent consumers absorb the repeats.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from harambee_common.components import ASSESSMENT, AUDIT, COMPONENTS, INTAKE
from harambee_stack.stack import Stack, free_ports
from tests.faults.load import owner_engine, scalar, submit_at_rate

# The figures; FAULT_REFERRALS and FAULT_RATE make a quicker local run.
REFERRALS = int(os.environ.get("FAULT_REFERRALS", "10000"))
RATE = float(os.environ.get("FAULT_RATE", "100"))
ACCEPT_EVERY = 10
DOWN_SECONDS = 10
# Consumers SIGKILLed mid-batch at a tenth of the load, before the broker, and restarted with it: what
# was published meanwhile existed only in the broker's memory when it died.
LAGGING = (ASSESSMENT.name, AUDIT.name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of this module's own: its broker is killed."""
    with Stack(state_dir=tmp_path_factory.mktemp("crash"), ports=free_ports(), ephemeral=True) as own:
        yield own


def wait_for(predicate: Callable[[], bool], *, timeout: float, describe: Callable[[], str]) -> float:
    """Seconds until predicate() held; fails after timeout, saying where things stood."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(1.0)
    raise AssertionError(f"not reached within {timeout:.0f}s: {describe()}")


def published_events(stack: Stack) -> set[str]:
    """The ids of the events the components other than audit published."""
    published: set[str] = set()
    for each in COMPONENTS:
        if each.name == AUDIT.name:
            continue
        engine = owner_engine(stack, each.name)
        try:
            with engine.connect() as conn:
                published.update(conn.execute(sa.text("SELECT id::text FROM outbox")).scalars())
        finally:
            engine.dispose()
    return published


def test_broker_killed_mid_load_loses_nothing_and_repeats_nothing(stack):
    crash_at = REFERRALS * 3 // 10
    times: dict[str, float] = {}
    moments: dict[str, datetime] = {}
    intake = owner_engine(stack, INTAKE.name)
    only_in_broker: set[str] = set()  # events intake had sent that the killed consumers never read

    behind_at = REFERRALS // 10

    def on_progress(n: int) -> None:
        # From the submitting thread: a child process dies with the thread that started it (PDEATHSIG).
        if n == behind_at:
            # Two consumers crash mid-batch first, so that the broker holds events they never read.
            for name in LAGGING:
                stack.kill_component(name)
            moments["behind"] = datetime.now(UTC)
        elif n >= crash_at and "killed" not in times and time.monotonic() - times.get("looked", 0) > 0.5:
            # Once relays have sent a good number of events that the killed consumers never read (relays lag
            # on a busy machine, and an event still in an outbox would survive anyway).
            times["looked"] = time.monotonic()
            with intake.connect() as conn:
                sent = set(conn.execute(sa.text("SELECT id::text FROM outbox WHERE published_at > :t"),
                                        {"t": moments["behind"]}).scalars())
            if len(sent) >= 50:
                only_in_broker.update(sent)  # read before the kill: the republish stamps them anew
                stack.kill_broker()
                times["killed"] = time.monotonic()
        elif "killed" in times and "restarted" not in times and time.monotonic() - times["killed"] >= DOWN_SECONDS:
            stack.start_broker()
            times["restarted"] = time.monotonic()
            for name in LAGGING:
                stack.start_component(name)

    started = time.monotonic()
    submitted = submit_at_rate(stack, count=REFERRALS, per_second=RATE, accept_every=ACCEPT_EVERY,
                               on_progress=on_progress)
    print(f"\nsubmitted {len(submitted.referrals)} referrals ({len(submitted.accepted)} accepted) in "
          f"{time.monotonic() - started:.0f}s at {RATE:.0f}/s; {', '.join(LAGGING)} killed after {behind_at}, "
          f"the broker after {crash_at} or later, down {DOWN_SECONDS}s")
    assert not submitted.failures, submitted.failures[:5]
    assert "restarted" in times, "the load ended before the broker was killed and restarted"
    assert len(submitted.referrals) == REFERRALS

    assessment, audit = (owner_engine(stack, c.name) for c in (ASSESSMENT, AUDIT))
    try:
        assert scalar(intake, "SELECT count(*) FROM referrals") == REFERRALS
        accepted = set(submitted.accepted)
        case_wait = wait_for(lambda: scalar(assessment, "SELECT count(*) FROM cases") >= len(accepted),
                             timeout=300, describe=lambda: f"{scalar(assessment, 'SELECT count(*) FROM cases')} "
                                                           f"cases for {len(accepted)} accepted referrals")
        with assessment.connect() as conn:
            opened = [str(r) for r in conn.execute(sa.text("SELECT referral_id FROM cases")).scalars()]
        assert len(opened) == len(set(opened)), "a referral got two cases"
        assert set(opened) == accepted

        published = published_events(stack)
        # The test's premise: audit never read these before the broker lost them.
        assert only_in_broker, "no event was sent while audit was down: the test proves nothing"
        audit_wait = wait_for(lambda: scalar(audit, "SELECT count(*) FROM entries") >= len(published),
                              timeout=600, describe=lambda: f"{scalar(audit, 'SELECT count(*) FROM entries')} "
                                                            f"audit entries for {len(published)} events")
        with audit.connect() as conn:
            logged = list(conn.execute(sa.text("SELECT event_id FROM entries")).scalars())
        assert only_in_broker <= set(logged)
        missing = set(published) - set(logged)
        assert not missing, f"{len(missing)} events never reached the audit log, e.g. {sorted(missing)[:3]}"
        assert len(logged) == len(set(logged)), "an event was logged twice"
        recovery = time.monotonic() - times["restarted"]
        print(f"{len(only_in_broker)} events were sent while audit was down, and lost with the broker; "
              f"cases {len(opened)} (all there {case_wait:.0f}s after the load), audit entries {len(logged)} for "
              f"{len(published)} published events (all there {audit_wait:.0f}s later); {recovery:.0f}s from the "
              f"broker's restart to everything consumed")
    finally:
        for engine in (intake, assessment, audit):
            engine.dispose()
