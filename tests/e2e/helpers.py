"""What an end-to-end test does as a user would: OAuth clients against the gateway, bounded polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from authlib.integrations.httpx_client import OAuth2Client

from harambee_stack.stack import Stack

T = TypeVar("T")
TENANT = "ke-mombasa"
REFERRAL = {
    "person": {"given_name": "Juma", "family_name": "Otieno", "date_of_birth": "2007-09-12"},
    "source_type": "education",
    "concern": "Teacher reports withdrawal and new contacts urging violence.",
    "indicators": ["sharing_violent_material"],
}


def demo_client(stack: Stack, name_part: str) -> dict[str, Any]:
    """The demo client whose name contains name_part."""
    return next(c for c in stack.credentials["clients"] if name_part in c["name"].lower())


def oauth_client(stack: Stack, name_part: str, *, auth_method: str = "client_secret_basic") -> OAuth2Client:
    """An authlib OAuth2 client holding a fresh client-credentials token from the gateway."""
    creds = demo_client(stack, name_part)
    client = OAuth2Client(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        token_endpoint_auth_method=auth_method,
        base_url=stack.gateway_url,
        timeout=15,
    )
    client.fetch_token(f"{stack.gateway_url}/oauth/token", grant_type="client_credentials")
    return client


def eventually(probe: Callable[[], T | None], *, timeout: float = 60, interval: float = 0.3) -> T:
    """Polls probe until it returns something truthy, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"nothing after {timeout}s")


def case_for(case_worker: httpx.Client, referral_id: str) -> dict[str, Any] | None:
    """The case assessment opened for a referral, if it has."""
    response = case_worker.get(f"/assessment/v1/tenants/{TENANT}/cases", params={"referral_id": referral_id})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return items[0] if items else None


def audit_entries(compliance: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    """Every audit entry matching the filters (all pages, bounded)."""
    entries: list[dict[str, Any]] = []
    params: dict[str, str] = {**filters, "limit": "500"}
    for _ in range(20):
        response = compliance.get(f"/audit/v1/tenants/{TENANT}/entries", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        entries += page["items"]
        if not page["next_cursor"]:
            return entries
        params["cursor"] = page["next_cursor"]
    return entries


def accept(intake_officer: httpx.Client, referral_id: str) -> None:
    """Screens a referral as accepted for assessment (the ETag guards against a concurrent screener)."""
    url = f"/intake/v1/tenants/{TENANT}/referrals/{referral_id}"
    etag = intake_officer.get(url).headers["etag"]
    response = intake_officer.post(f"{url}/screening", json={"outcome": "accept"}, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
