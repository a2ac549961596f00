"""Agreement events as the registry publishes them, for service-level tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from harambee_common.events import Event


def agreement_view(*, tenant: str, parties: list[tuple[str, str]], operations: list[str], status: str = "active",
                   version: int = 1, agreement_id: str | None = None, threshold: int = 5,
                   valid_from: date | None = None, valid_until: date | None = None,
                   data_categories: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One version of an agreement, shaped like the registry's `agreement.*` event data."""
    today = datetime.now(UTC).date()
    return {
        "id": agreement_id or str(uuid.uuid4()),
        "reference": f"test-{uuid.uuid4().hex[:6]}",
        "tenant": tenant,
        "version": version,
        "status": status,
        "title": "Test agreement",
        "purpose": "Testing",
        "parties": [{"kind": kind, "id": ident, "role": "recipient", "lawful_basis": "public_interest"}
                    for kind, ident in [("tenant", tenant), *parties]],
        "data_categories": data_categories
        or [{"name": "indicators", "sensitive": False, "fields": ["cases_by_status"]}],
        "operations": operations,
        "consent_required": False,
        "valid_from": (valid_from or today - timedelta(days=1)).isoformat(),
        "valid_until": (valid_until or today + timedelta(days=365)).isoformat(),
        "review_date": (today + timedelta(days=180)).isoformat(),
        "retention": {"days": 365, "then": "delete"},
        "aggregate_suppression_threshold": threshold,
        "actor": "registry-admin",
        "reason": None,
        "changed_at": datetime.now(UTC).isoformat(),
        "onward_sharing": {"allowed": False, "to": [], "conditions": None},
        "reidentification_allowed": False,
        "data_subject_rights": "Through the county programme's data protection officer.",
    }


def agreement_event(view: dict[str, Any]) -> Event:
    """The registry event carrying that version."""
    types = {"draft": "agreement.created", "active": "agreement.activated", "suspended": "agreement.suspended",
             "terminated": "agreement.terminated", "expired": "agreement.expired"}
    return Event(type=types[view["status"]], tenant=view["tenant"], topic="registry.events",
                 source="/gateway/registry", subject=view["id"], data=view)
