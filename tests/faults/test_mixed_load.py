"""The mixed load of `benchmarks/mixed_load.py`, short and at a low rate over a few counties: every operation is
exercised and answered as the contract says (no 5xx, no error of any kind), and no process's memory climbs.

The full run (47 counties, ten minutes) is a benchmark a person starts (README, "Load"); this is its core,
bounded to about two minutes of load, so that a change that breaks the script or the platform under a realistic
mix fails here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from benchmarks.mixed_load import DEFAULT_MIX, Gateway, Identity, Processes, print_report, provision, run_load
from harambee_stack.stack import Stack, free_ports

COUNTIES = int(os.environ.get("MIXED_LOAD_COUNTIES", "3"))
RATE = float(os.environ.get("MIXED_LOAD_RATE", "4"))
WARM_UP_S = 20.0
LOAD_S = float(os.environ.get("MIXED_LOAD_SECONDS", "75"))
# Memory may settle after the warm-up (allocator arenas, pools reaching their size), but a leak proportional to
# the work would pass these only at a rate far below one worth finding. PostgreSQL is printed, not bounded here:
# its share grows with the backends the services' pools open as concurrency peaks, and with its buffer cache.
GROWTH_RATIO, GROWTH_MB = 1.25, 48


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of this module's own: it provisions counties in the registry."""
    with Stack(state_dir=tmp_path_factory.mktemp("mixed"), ports=free_ports(), ephemeral=True) as own:
        yield own


def identity(stack: Stack, name: str) -> Identity:
    found = next(c for c in stack.credentials["clients"] if c["name"] == name)
    return Identity(name, found["client_id"], found["client_secret"])


def test_a_mixed_load_over_counties_is_answered_and_memory_stays_flat(stack):
    gateway = Gateway(stack.gateway_url, connections=32)
    try:
        world = provision(gateway, identity(stack, "platform-admin"), identity(stack, "national-coordinator"),
                          counties=COUNTIES, cases_per_county=1, seed=7)
        assert all(len(c.tasks) == 2 for c in world.counties), "a county's planned case has no provider tasks"
        processes = Processes.of_stack(stack)
        assert {"gateway", "intake", "intake-relay", "audit", "broker", "postgresql"} <= set(processes.pids)
        # Pools, caches and the interpreter's arenas fill first; the baseline is taken after.
        run_load(world, rate=RATE, duration=WARM_UP_S, mix=DEFAULT_MIX, seed=1, max_in_flight=32)
        before = processes.sample(at=0.0)
        report = run_load(world, rate=RATE, duration=LOAD_S, mix=DEFAULT_MIX, seed=2, max_in_flight=32,
                          on_tick=lambda t: processes.sample(at=t) if int(t) % 15 == 0 else None)
        after = processes.sample(at=report.seconds)
        print_report(report, before, after, processes)
    finally:
        gateway.close()

    assert report.server_errors == 0, {n: s.statuses for n, s in report.ops.items()}
    for name, ops in report.ops.items():
        assert ops.latencies, f"{name} was never exercised"
        assert ops.errors == 0, f"{name}: {dict(ops.statuses)}"
    assert report.dropped <= report.scheduled // 20, f"{report.dropped} of {report.scheduled} operations dropped"
    grew = {name: (before[name].rss, after[name].rss) for name in before
            if name in after and name != "postgresql"
            and after[name].rss > max(before[name].rss * GROWTH_RATIO, before[name].rss + GROWTH_MB * 2**20)}
    assert not grew, {n: f"{b / 2**20:.0f} -> {a / 2**20:.0f} MB" for n, (b, a) in grew.items()}
