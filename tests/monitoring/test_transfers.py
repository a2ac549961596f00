"""A case transferred between counties: the sending county keeps its history up to the transfer and counts a
`transferred_out` exit; the receiving county counts it from the month it took the case over, and follows it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.monitoring.support import Journey, deliver, manager, taken_over

SENDER, RECEIVER = "ke-mon-sender", "ke-mon-receiver"
MARCH, APRIL = datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 4, 10, 9, tzinfo=UTC)
WINDOW = "?from=2026-03&to=2026-05"


@pytest.fixture(scope="module")
def moved(monitoring):
    client, _ = monitoring
    # In the sender: one case assessed and one not yet when they went, and one that stays.
    Journey(SENDER, MARCH).screened("accept").assessed(days=10).transferred_out(RECEIVER, days=38).deliver_to(client)
    Journey(SENDER, MARCH).screened("accept").transferred_out(RECEIVER, days=40).deliver_to(client)
    Journey(SENDER, MARCH).supported().deliver_to(client)
    # In the receiver: the first is taken over in April and supported there; the second waits for assessment.
    taken_over(RECEIVER, sender=SENDER, at=APRIL).assessed(days=5).decided("adopt", days=10).consented(days=12) \
        .session(days=20).deliver_to(client)
    taken_over(RECEIVER, sender=SENDER, at=APRIL.replace(day=12)).deliver_to(client)
    return client


def indicator(client, issuer, tenant: str, name: str) -> dict:
    response = client.get(f"/v1/tenants/{tenant}/indicators/{name}{WINDOW}", headers=manager(issuer, tenant))
    assert response.status_code == 200, response.text
    return {t["name"]: {s["key"]: s for s in t["series"]} for t in response.json()["tables"]}


def test_the_sender_keeps_the_history_up_to_the_transfer_and_counts_a_transferred_out_exit(moved, issuer):
    steps = indicator(moved, issuer, SENDER, "funnel")["steps"]
    march = {k: s["values"][0] for k, s in steps.items()}
    assert {k: march[k] for k in ("referred", "accepted", "assessed", "decided", "first_session",
                                  "transferred_out", "closed")} == {
        "referred": 3, "accepted": 3, "assessed": 2, "decided": 1, "first_session": 1, "transferred_out": 2,
        "closed": 0}
    stages = indicator(moved, issuer, SENDER, "funnel")["by_stage"]
    assert stages["transferred_out_after_assessment"]["values"][0] == 1
    assert stages["transferred_out_before_assessment"]["values"][0] == 1
    assert stages["in_support"]["values"][0] == 1
    # Counted out in the month it left (April), not the month of referral.
    transfers = indicator(moved, issuer, SENDER, "transfers")
    assert transfers["by_transfer"]["out"]["values"] == [0, 2, 0]
    assert transfers["by_transfer"]["in"]["total"] == 0


def test_the_receiver_counts_a_transferred_in_case_from_the_month_it_took_it_over(moved, issuer):
    transfers = indicator(moved, issuer, RECEIVER, "transfers")
    assert transfers["by_transfer"]["in"]["values"] == [0, 2, 0]
    now = transfers["by_now"]
    assert now["in_support"]["values"][1] == 1 and now["awaiting_assessment"]["values"][1] == 1
    # Not a referral of the receiver's: its funnel of referrals is untouched.
    assert indicator(moved, issuer, RECEIVER, "funnel")["steps"]["referred"]["total"] == 0


def test_a_transfer_step_raised_in_another_county_moves_nothing(moved, issuer):
    journey = Journey(SENDER, MARCH).screened("accept").deliver_to(moved)
    # The receiver cannot close the sender's case as transferred: `case.transferred` is the sender's own step.
    forged = Journey(RECEIVER, MARCH, case_id=journey.case_id).transferred_out(RECEIVER, sender=SENDER).events[-1]
    assert deliver(moved, forged)
    steps = indicator(moved, issuer, SENDER, "funnel")["steps"]
    assert steps["transferred_out"]["total"] == 2 and steps["accepted"]["total"] == 4
