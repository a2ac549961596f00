"""The entry encoding: its one time format and its canonical JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from harambee_audit.entries import canonical_json, rfc3339


def test_times_are_utc_with_microseconds_and_a_z_whatever_their_offset() -> None:
    nairobi = timezone(timedelta(hours=3))
    assert rfc3339(datetime(2025, 3, 1, 2, 30, 0, 120, tzinfo=nairobi)) == "2025-02-28T23:30:00.000120Z"
    assert rfc3339(datetime(2025, 3, 1, 2, 30, tzinfo=UTC)) == "2025-03-01T02:30:00.000000Z"
    assert rfc3339(datetime(2025, 3, 1, 2, 30, 5, 999999)) == "2025-03-01T02:30:05.999999Z"  # naive: UTC


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8() -> None:
    value = {"b": [1, {"d": None, "c": True}], "a": "Murang\u2019a"}
    encoded = canonical_json(value)
    assert encoded == '{"a":"Murang\u2019a","b":[1,{"c":true,"d":null}]}'.encode()
    assert json.loads(encoded) == value
