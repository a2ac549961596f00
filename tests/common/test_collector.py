"""A service's process keeps what start-up made out of the garbage collector's full collections."""

from __future__ import annotations

import gc
import sys
import tempfile
from pathlib import Path

import uvicorn

from harambee_common import cli
from tests.support.services import component_keys, patched_env, service_env


def test_serve_freezes_what_start_up_made_before_it_serves(postgres, issuer, monkeypatch):
    """Unfrozen, a full collection scans every object start-up made (about 170,000 in intake): about 0.1 s of
    CPU holding the interpreter lock, which every request in flight waits for (benchmarks/RESULTS.md, (e))."""
    database = postgres.provision("intake")
    frozen_when_served: list[int] = []
    # The server itself is not what is tested: it records how much was frozen when it would have started.
    monkeypatch.setattr(uvicorn, "run", lambda _app, **_: frozen_when_served.append(gc.get_freeze_count()))
    monkeypatch.setattr(sys, "argv", ["harambee_intake", "serve"])
    env = service_env(database=database, bootstrap="127.0.0.1:9", issuer=issuer)
    before = gc.get_freeze_count()
    try:
        with tempfile.TemporaryDirectory() as keys, patched_env({**env, **component_keys("intake", Path(keys))}):
            cli.main("intake")
        assert frozen_when_served, "serve did not start the server"
        assert frozen_when_served[0] - before > 50_000
    finally:
        gc.unfreeze()  # this test process goes on to other tests: its objects are collectable again
