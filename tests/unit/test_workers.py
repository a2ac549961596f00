"""PeriodicWorker: the one background loop every service's jobs run on."""

from __future__ import annotations

import threading
import time

from harambee_common.workers import PeriodicWorker


class Recorder(PeriodicWorker):
    """Records its passes; each answer in `script` is returned (or raised) by one pass."""

    name = "recorder"

    def __init__(self, script: list[int | Exception], **kwargs) -> None:
        super().__init__(**kwargs)
        self.script = list(script)
        self.passes: list[float] = []
        self.recovered = 0
        self.closed = False
        self.done = threading.Event()

    def run_once(self) -> int:
        self.passes.append(time.monotonic())
        if not self.script:
            self.done.set()
            return 0
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def recover(self) -> None:
        self.recovered += 1

    def close(self) -> None:
        self.closed = True


class Draining(Recorder):
    drains = True


def run(worker: Recorder, *, timeout: float = 5.0) -> Recorder:
    """Starts the worker, waits (bounded) until its script is played, and stops it."""
    started = time.monotonic()
    worker.start()
    try:
        assert worker.done.wait(timeout), "the worker did not finish its script in time"
    finally:
        worker.stop()
    worker.started = started  # type: ignore[attr-defined]
    return worker


def test_a_periodic_job_waits_an_interval_before_its_first_pass_and_between_passes():
    worker = run(Recorder([1, 1], interval=0.2))
    assert worker.passes[0] - worker.started >= 0.19  # type: ignore[attr-defined]
    gaps = [b - a for a, b in zip(worker.passes, worker.passes[1:], strict=False)]
    assert all(gap >= 0.19 for gap in gaps), gaps


def test_a_draining_worker_runs_again_at_once_while_it_finds_work():
    worker = run(Draining([5, 5, 5], interval=10.0, first_run_after=0))
    assert len(worker.passes) == 4  # three busy passes and the idle one that ends the script
    assert worker.passes[-1] - worker.passes[0] < 1.0  # no 10 s pause between busy passes


def test_a_failed_pass_is_recovered_and_retried_after_a_back_off_and_the_worker_lives_on():
    worker = run(Draining([RuntimeError("database away"), 3], interval=10.0, first_run_after=0, max_backoff=0.3))
    assert worker.recovered == 1
    assert len(worker.passes) == 3
    assert worker.passes[1] - worker.passes[0] >= 0.29  # the back-off, capped at max_backoff


def test_stop_ends_a_long_pause_at_once_and_closes_the_worker():
    worker = Recorder([], interval=60.0)
    worker.start()
    began = time.monotonic()
    worker.stop()
    assert time.monotonic() - began < 2.0
    assert worker.closed and worker.stopping and worker.passes == []


class BrokenPause(Recorder):
    """A worker whose first pause fails, as a LISTEN connection does when the database restarts."""

    def pause(self, seconds: float) -> None:
        if len(self.passes) == 1:
            raise RuntimeError("server closed the connection unexpectedly")
        super().pause(seconds)


def test_a_failed_pause_is_recovered_like_a_failed_pass_and_the_worker_lives_on():
    worker = run(BrokenPause([1, 1], interval=0.05, first_run_after=0, max_backoff=0.1))
    assert worker.recovered == 1
    assert len(worker.passes) == 3  # the passes after the broken pause still ran
