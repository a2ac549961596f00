"""The pure pieces of the shared library: the CloudEvents binding, trace context, cursors."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from harambee_common.events import Event, MalformedEvent, from_message
from harambee_common.pagination import decode_cursor, encode_cursor
from harambee_common.problems import ValidationFailed
from harambee_common.tracing import new_traceparent, trace_id


def event(**overrides) -> Event:
    fields = {"type": "referral.received", "tenant": "ke-mombasa", "topic": "intake.events",
              "source": "/harambee/intake", "subject": "subject-1", "data": {"referral_id": "r-1"},
              "traceparent": new_traceparent()}
    return Event(**{**fields, **overrides})


def test_an_event_survives_the_kafka_binary_binding():
    original = event()
    decoded = from_message(original.topic, original.headers(), original.value())
    assert decoded == original
    headers = dict(original.headers())
    assert headers["ce_specversion"] == b"1.0" and headers["content-type"] == b"application/json"
    assert original.key == "ke-mombasa:subject-1"


@pytest.mark.parametrize("headers", [
    [],
    [("ce_specversion", b"0.3"), ("ce_id", b"1"), ("ce_type", b"t"), ("ce_source", b"s"), ("ce_tenant", b"x")],
    [("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_type", b"t"), ("ce_source", b"s")],
])
def test_a_message_that_is_not_our_cloudevent_is_malformed(headers):
    with pytest.raises(MalformedEvent):
        from_message("intake.events", headers, b"{}")


def test_event_data_must_be_a_json_object():
    good = event()
    with pytest.raises(MalformedEvent):
        from_message(good.topic, good.headers(), b"[1, 2]")
    with pytest.raises(MalformedEvent):
        from_message(good.topic, good.headers(), b"{not json")


def test_a_child_span_keeps_the_trace_and_a_bad_parent_starts_a_new_one():
    parent = new_traceparent()
    child = new_traceparent(parent)
    assert trace_id(child) == trace_id(parent) and child != parent
    assert trace_id(new_traceparent("garbage")) not in (None, trace_id(parent))


def test_a_cursor_round_trips_with_its_types():
    at, ident = datetime(2026, 11, 24, 12, 0, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(at, ident), datetime, uuid.UUID) == (at, ident)
    assert decode_cursor(encode_cursor(2**63 - 1), int) == (2**63 - 1,)


@pytest.mark.parametrize(("cursor", "types"), [
    ("definitely-not-ours", (datetime, str)),
    ("é", (str,)),  # not ASCII, so not base64
    (encode_cursor("2026-11-24T12:00:00+00:00", "not-a-uuid"), (datetime, uuid.UUID)),
    (encode_cursor("yesterday", str(uuid.uuid4())), (datetime, uuid.UUID)),
    (encode_cursor(2**63), (int,)),  # beyond PostgreSQL's bigint
    (encode_cursor(-1), (int,)),
    (encode_cursor(True), (int,)),
    (encode_cursor("7"), (int,)),
    (encode_cursor(1, 2), (int,)),  # the wrong number of values
    (base64.urlsafe_b64encode(b'{"a": 1}').decode(), (str,)),  # not a list
], ids=["garbage", "non-ascii", "bad-uuid", "bad-time", "bigint-overflow", "negative", "bool", "text-for-int",
        "too-many", "not-a-list"])
def test_a_cursor_the_api_did_not_issue_is_a_client_error(cursor: str, types: tuple[type, ...]):
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, *types)

