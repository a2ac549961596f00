"""The injectable clock: moved in process by advance(), across processes by the offset file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harambee_common.clock import Clock, move_clock_file


def test_a_clock_without_an_offset_is_the_systems():
    assert abs(Clock().now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_advance_moves_only_that_clock():
    moved, other = Clock(), Clock()
    moved.advance(timedelta(days=22))
    assert timedelta(days=21, hours=23) < moved.now() - other.now() < timedelta(days=22, hours=1)


def test_every_clock_reading_the_offset_file_moves_with_it(tmp_path):
    path = tmp_path / "clock-offset"
    first, second = Clock(offset_file=path), Clock(offset_file=path)
    assert abs(first.now() - datetime.now(UTC)) < timedelta(seconds=5)  # no file yet: the system's time
    move_clock_file(path, timedelta(days=30))
    move_clock_file(path, timedelta(days=-8))
    for clock in (first, second):
        assert timedelta(days=21, hours=23) < clock.now() - datetime.now(UTC) < timedelta(days=22, hours=1)
    path.write_text("not a number")
    assert abs(first.now() - datetime.now(UTC)) < timedelta(seconds=5)
