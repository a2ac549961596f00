"""Lists page by cursor, filter and sort; updates need the ETag the caller read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harambee_common.pagination import encode_cursor
from tests.intake.helpers import BASE, TENANT, agree, officer, partner, person, submit
from tests.support.services import running_service


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        for tenant in (TENANT,):
            agree(running[0], tenant)
        yield running


def body(source: str = "education") -> dict:
    return {"person": person("Musa", "Kombo"), "source_type": source, "concern": "c",
            "indicators": ["threats_of_violence"]}


def listing(client, headers, **params) -> list[dict]:
    """Every item of a list, following cursors (at most 50 pages)."""
    items: list[dict] = []
    params = {"limit": 2, **params}
    for _ in range(50):
        response = client.get(f"{BASE}/referrals", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params["cursor"] = page["next_cursor"]
    raise AssertionError("the list did not end")


def since() -> str:
    return datetime.now(UTC).isoformat()


def test_filters_by_source_and_date_range_across_pages(intake, issuer):
    client, _ = intake
    start = since()
    health = [submit(client, partner(issuer), body("health"))["id"] for _ in range(3)]
    submit(client, partner(issuer), body("community"))
    items = listing(client, officer(issuer), source_type="health", received_from=start)
    assert [i["id"] for i in items] == health[::-1]
    both = listing(client, officer(issuer), source_type=["health", "community"], received_from=start)
    assert len(both) == 4
    before = listing(client, officer(issuer), source_type="health", received_from=start,
                     received_to=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert before == []


def test_sorts_oldest_first_and_by_last_change(intake, issuer):
    client, _ = intake
    start = since()
    ids = [submit(client, partner(issuer), body("cso"))["id"] for _ in range(3)]
    oldest_first = listing(client, officer(issuer), received_from=start, sort="received_at")
    assert [i["id"] for i in oldest_first] == ids
    touched = client.get(f"{BASE}/referrals/{ids[0]}", headers=officer(issuer))
    assert client.patch(f"{BASE}/referrals/{ids[0]}", json={"priority": "urgent"},
                        headers={**officer(issuer), "If-Match": touched.headers["etag"]}).status_code == 200
    by_change = listing(client, officer(issuer), received_from=start, sort="-updated_at")
    assert by_change[0]["id"] == ids[0]


def test_filters_by_status_and_screener(intake, issuer):
    client, _ = intake
    start = since()
    mine, theirs, nobody = (submit(client, partner(issuer), body())["id"] for _ in range(3))
    for referral_id, screener in ((mine, "me"), (theirs, "officer-2")):
        etag = client.get(f"{BASE}/referrals/{referral_id}", headers=officer(issuer)).headers["etag"]
        response = client.patch(f"{BASE}/referrals/{referral_id}", json={"screener": screener},
                                headers={**officer(issuer), "If-Match": etag})
        assert response.status_code == 200, response.text
    assert [i["id"] for i in listing(client, officer(issuer), screener="me", received_from=start)] == [mine]
    assert [i["id"] for i in listing(client, officer(issuer), screener="officer-2",
                                     received_from=start)] == [theirs]
    screening = listing(client, officer(issuer), status="screening", received_from=start)
    assert {i["id"] for i in screening} == {mine, theirs}
    assert [i["id"] for i in listing(client, officer(issuer), status="received",
                                     received_from=start)] == [nobody]


def test_a_partners_filtered_list_holds_only_its_own_referrals(intake, issuer):
    client, _ = intake
    start = since()
    own = submit(client, partner(issuer, org="cso-one"), body("health"))["id"]
    submit(client, partner(issuer, org="cso-two"), body("health"))
    items = listing(client, partner(issuer, org="cso-one"), source_type="health", received_from=start)
    assert [i["id"] for i in items] == [own]
    assert set(items[0]) == {"id", "status", "received_at"}
    response = client.get(f"{BASE}/referrals", params={"screener": "officer-1"},
                          headers=partner(issuer, org="cso-one"))
    assert response.status_code == 403


@pytest.mark.parametrize("params", [
    {"status": "lost"}, {"sort": "name"}, {"received_from": "yesterday"}, {"source_type": "rumour"},
    {"cursor": "not-a-cursor"}, {"limit": 0},
])
def test_bad_list_parameters_are_problems(intake, issuer, params):
    client, _ = intake
    response = client.get(f"{BASE}/referrals", params=params, headers=officer(issuer))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_cursor_does_not_carry_over_to_another_sort(intake, issuer):
    client, _ = intake
    for _ in range(3):
        submit(client, partner(issuer), body())
    page = client.get(f"{BASE}/referrals", params={"limit": 1}, headers=officer(issuer)).json()
    response = client.get(f"{BASE}/referrals", params={"limit": 1, "sort": "received_at",
                                                       "cursor": page["next_cursor"]},
                          headers=officer(issuer))
    assert response.status_code == 422 and "sort" in response.json()["detail"]


@pytest.mark.parametrize("cursor", [
    encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), "not-a-uuid", "-received_at"),  # an id that is no UUID
    encode_cursor("yesterday", "00000000-0000-0000-0000-000000000001", "-received_at"),  # a time that is none
    encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), "-received_at|not-a-uuid"),  # the wrong shape
    encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), 7, "-received_at"),
    "eyJub3QiOiAiYSBsaXN0In0",  # JSON, but not a list
    "%%%",
])
def test_a_cursor_this_api_did_not_issue_is_a_problem_not_an_error(intake, issuer, cursor):
    client, _ = intake
    response = client.get(f"{BASE}/referrals", params={"cursor": cursor}, headers=officer(issuer))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_two_screeners_cannot_silently_overwrite_each_other(intake, issuer):
    client, _ = intake
    referral_id = submit(client, partner(issuer), body())["id"]
    url = f"{BASE}/referrals/{referral_id}"
    first = officer(issuer, sub="officer-a")
    second = officer(issuer, sub="officer-b")
    etag_a = client.get(url, headers=first).headers["etag"]
    etag_b = client.get(url, headers=second).headers["etag"]
    assert etag_a == etag_b == '"1"'
    won = client.patch(url, json={"screener": "me"}, headers={**first, "If-Match": etag_a})
    assert won.status_code == 200 and won.headers["etag"] == '"2"' and won.json()["screener"] == "officer-a"
    lost = client.patch(url, json={"screener": "me"}, headers={**second, "If-Match": etag_b})
    assert lost.status_code == 412
    assert lost.json()["type"].endswith("/precondition-failed") and lost.json()["current_etag"] == '"2"'
    assert client.get(url, headers=first).json()["screener"] == "officer-a"


def test_an_update_without_if_match_is_refused(intake, issuer):
    client, _ = intake
    referral_id = submit(client, partner(issuer), body())["id"]
    for headers in ({}, {"If-Match": "*"}):
        response = client.patch(f"{BASE}/referrals/{referral_id}", json={"priority": "urgent"},
                                headers={**officer(issuer), **headers})
        assert response.status_code == 428
        assert response.json()["type"].endswith("/precondition-required")


def test_only_officers_amend_and_unknown_referrals_are_not_found(intake, issuer):
    client, _ = intake
    referral_id = submit(client, partner(issuer), body())["id"]
    forbidden = client.patch(f"{BASE}/referrals/{referral_id}", json={"priority": "urgent"},
                             headers={**partner(issuer), "If-Match": '"1"'})
    assert forbidden.status_code == 403
    missing = client.patch(f"{BASE}/referrals/00000000-0000-0000-0000-000000000000",
                           json={"priority": "urgent"}, headers={**officer(issuer), "If-Match": '"1"'})
    assert missing.status_code == 404
    empty = client.patch(f"{BASE}/referrals/{referral_id}", json={},
                         headers={**officer(issuer), "If-Match": '"1"'})
    assert empty.status_code == 422


def test_vocabulary_changes_need_the_current_etag(intake, issuer):
    client, _ = intake
    url = f"{BASE}/vocabularies/needs"
    entries = {"entries": [{"code": "wheelchair_user", "label": "Uses a wheelchair"}]}
    assert client.put(url, json=entries, headers=officer(issuer)).status_code == 428
    assert client.put(url, json=entries, headers={**officer(issuer), "If-Match": '"0"'}).status_code == 200
    stale = client.put(url, json=entries, headers={**officer(issuer), "If-Match": '"0"'})
    assert stale.status_code == 412
