"""Every query of the indicators: one scan of the tenant's facts per question, grouped in the database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Where a case is now (or ended), once opened. A case transferred to another county ends here: the county
# keeps its history up to the transfer (assessment transfers only cases the panel has not decided on, so that
# history is whether it was assessed), and the receiving county follows it from then on.
CASE_STAGE = """
  WHEN c.transferred_out_at IS NOT NULL AND c.assessed_at IS NULL THEN 'transferred_out_before_assessment'
  WHEN c.transferred_out_at IS NOT NULL THEN 'transferred_out_after_assessment'
  WHEN c.closed_at IS NOT NULL AND c.first_session_on IS NULL THEN 'closed_before_support'
  WHEN c.closed_at IS NOT NULL THEN 'closed_' || c.exit_reason
  WHEN c.withdrawn_at IS NOT NULL THEN 'withdrawn'
  WHEN c.first_session_on IS NOT NULL THEN 'in_support'
  WHEN c.consented_at IS NOT NULL THEN 'consented_awaiting_session'
  WHEN c.decision = 'adopt' THEN 'adopted_awaiting_consent'
  WHEN c.decision IS NOT NULL THEN 'panel_' || c.decision
  WHEN c.assessed_at IS NOT NULL THEN 'assessed_awaiting_panel'"""
# Where a referral is now (or ended): exactly one stage each, so that the stages partition the referrals
# and every funnel step is a sum of stages (disclosure control needs additive tables). The order is the
# lifecycle's (DOMAIN.md); `closed_before_support` is a case closed before any session was held.
STAGE = f"""
CASE {CASE_STAGE}
  WHEN r.screening_outcome = 'accept' THEN 'accepted_awaiting_assessment'
  WHEN r.screening_outcome IS NOT NULL THEN 'screened_' || r.screening_outcome
  ELSE 'awaiting_screening'
END"""

# Each partition of the referrals, by the expression that gives a referral's category (NULL: not in it).
PARTITIONS: dict[str, str] = {
    "stage": STAGE,
    "source_type": "coalesce(r.source_type, 'unknown')",
    "age_band": "coalesce(r.age_band, 'unknown')",
    "gender": "coalesce(r.gender, 'unknown')",
    "minor": "CASE r.is_minor WHEN true THEN 'minor' WHEN false THEN 'adult' ELSE 'unknown' END",
    "concern_type": """CASE WHEN 'behaviour' = ANY(r.concern_types) THEN 'behaviour'
                            WHEN 'context' = ANY(r.concern_types) THEN 'context'
                            WHEN 'belief' = ANY(r.concern_types) THEN 'belief'
                            ELSE 'none' END""",
    "repeat": "CASE WHEN r.repeat_referral THEN 'repeat' ELSE 'first' END",
    # Of the closed cases only: the follow-up recorded at 6 and 12 months, or `not_yet`.
    "follow_up_6": "CASE WHEN c.closed_at IS NOT NULL THEN coalesce(c.follow_up_6, 'not_yet') END",
    "follow_up_12": "CASE WHEN c.closed_at IS NOT NULL THEN coalesce(c.follow_up_12, 'not_yet') END",
}

# The tenant is named as well as enforced by row-level security: the planner cannot estimate a policy's
# current_setting(), and without the constant it joins a million referrals to their cases one by one.
_FACTS = """
FROM referral_facts r LEFT JOIN case_facts c ON c.referral_id = r.referral_id AND c.tenant_id = :tenant
WHERE r.tenant_id = :tenant AND r.received_at >= :start AND r.received_at < :end
"""
MONTH_START = "date_trunc('month', r.received_at AT TIME ZONE 'UTC')"
MONTH = f"to_char({MONTH_START}, 'YYYY-MM')"


@dataclass(frozen=True)
class Window:
    """The referrals counted: those received from `start` (inclusive) to `end` (exclusive), by month."""

    start: datetime
    end: datetime


def _bounds(session: Session, window: Window) -> dict[str, object]:
    """The query parameters of a window, in the transaction's tenant."""
    tenant = session.scalar(sa.text("SELECT current_setting('app.tenant_id', true)"))
    return {"start": window.start, "end": window.end, "tenant": tenant}


def partition_counts(*, session: Session, window: Window, partitions: tuple[str, ...]) -> Iterator[tuple]:
    """(partition, month, category, count) for each partition named: one scan, grouped per partition."""
    return _grouped(session, window, {p: PARTITIONS[p] for p in partitions}, month_start=MONTH_START, source=_FACTS)


def _grouped(session: Session, window: Window, expressions: dict[str, str], *, month_start: str,
             source: str) -> Iterator[tuple]:
    """(partition, month, category, count) of each expression over the source's rows: one scan, grouping sets."""
    partitions = tuple(expressions)
    columns = ", ".join(f"{expressions[p]} AS p{i}" for i, p in enumerate(partitions))
    sets = ", ".join(f"(month, p{i})" for i in range(len(partitions)))
    # Grouped by the month's first instant, named after grouping: formatting every row costs a third of the scan.
    rows = session.execute(sa.text(
        f"SELECT to_char(month, 'YYYY-MM'), {', '.join(f'p{i}' for i in range(len(partitions)))}, "
        f"{', '.join(f'GROUPING(p{i})' for i in range(len(partitions)))}, count(*) "
        f"FROM (SELECT {month_start} AS month, {columns} {source}) f GROUP BY GROUPING SETS ({sets})"
    ), _bounds(session, window))
    n = len(partitions)
    for row in rows:
        month, categories, grouped, count = row[0], row[1:1 + n], row[1 + n:1 + 2 * n], row[-1]
        which = next(i for i in range(n) if grouped[i] == 0)
        if categories[which] is not None:
            yield partitions[which], month, categories[which], count


def indicator_counts(*, session: Session, window: Window) -> list[tuple[str, str, int]]:
    """(month, indicator code, referrals naming it): a referral names several, so these do not add up."""
    return [tuple(r) for r in session.execute(sa.text(
        f"SELECT {MONTH}, code, count(*) {_FACTS.replace('WHERE', ', unnest(r.indicators) AS code WHERE')} "
        "GROUP BY 1, 2"
    ), _bounds(session, window))]


def intervention_type_counts(*, session: Session, window: Window) -> list[tuple[str, str, int]]:
    """(month, intervention type, cases whose plan uses it)."""
    return [tuple(r) for r in session.execute(sa.text(
        f"SELECT {MONTH}, t, count(*) {_FACTS.replace('WHERE', ', unnest(c.intervention_types) AS t WHERE')} "
        "GROUP BY 1, 2"
    ), _bounds(session, window))]


# Days from referral to each later step, for the referrals that reached it.
INTERVALS = {
    "to_screening": "r.screened_at",
    "to_assessment": "c.assessed_at",
    "to_panel_decision": "c.decided_at",
    "to_first_session": "(c.first_session_on::timestamp AT TIME ZONE 'UTC')",
}


def timeliness(*, session: Session, window: Window) -> list[tuple]:
    """(month, interval, referrals measured, p50 days, p90 days) per month of referral."""
    steps = ", ".join(f"('{name}', {end})" for name, end in INTERVALS.items())
    return [tuple(r) for r in session.execute(sa.text(
        f"SELECT {MONTH}, v.interval, count(*), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM v.at - r.received_at) / 86400.0), "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM v.at - r.received_at) / 86400.0) "
        f"{_FACTS.replace('WHERE', f', LATERAL (VALUES {steps}) AS v(interval, at) WHERE')} AND v.at IS NOT NULL "
        "GROUP BY 1, 2"
    ), _bounds(session, window))]


def _net(better: str, worse: str, compared: str, names: tuple[str, str]) -> str:
    return (f"CASE WHEN coalesce({compared}, 0) = 0 THEN 'not_compared' WHEN {better} > {worse} THEN '{names[0]}' "
            f"WHEN {better} < {worse} THEN '{names[1]}' ELSE 'unchanged' END")


# Each partition of the reassessments: the net direction over all items compared, over the concerns (more rated
# lower than higher: `down`) and over the strengths (more rated higher: `up`). An event that predates the counts
# by kind has them null: `not_compared`, as a reassessment that rated no item of that kind twice.
CHANGE_PARTITIONS: dict[str, str] = {
    "direction": "CASE WHEN items_improved > items_worsened THEN 'improved' "
                 "WHEN items_improved < items_worsened THEN 'worsened' ELSE 'unchanged' END",
    "concerns": _net("concerns_down", "concerns_up", "concerns_compared", ("down", "up")),
    "strengths": _net("strengths_up", "strengths_down", "strengths_compared", ("up", "down")),
}
_REASSESSMENTS = "FROM reassessments WHERE tenant_id = :tenant AND approved_at >= :start AND approved_at < :end"
ITEM_SUMS = ("items_compared", "items_improved", "items_worsened", "concerns_compared", "concerns_down", "concerns_up",
             "strengths_compared", "strengths_up", "strengths_down")


def timeliness_days(*, session: Session, window: Window) -> list[tuple]:
    """(month, interval, [days]) per month of referral: the measurements themselves, for a private quantile."""
    steps = ", ".join(f"('{name}', {end})" for name, end in INTERVALS.items())
    return [tuple(r) for r in session.execute(sa.text(
        f"SELECT {MONTH}, v.interval, array_agg(extract(epoch FROM v.at - r.received_at) / 86400.0) "
        f"{_FACTS.replace('WHERE', f', LATERAL (VALUES {steps}) AS v(interval, at) WHERE')} AND v.at IS NOT NULL "
        "GROUP BY 1, 2"
    ), _bounds(session, window))]


# Cases transferred in (by the month the county took them over: where each is now) and out (by the month the
# county let them go). Both partitions count the same transfers, so their totals agree.
_TRANSFERS = f"""FROM (
  SELECT c.transferred_in_at AS at, 'in' AS transfer, CASE {CASE_STAGE} ELSE 'awaiting_assessment' END AS now
  FROM case_facts c WHERE c.tenant_id = :tenant AND c.transferred_in_at >= :start AND c.transferred_in_at < :end
  UNION ALL
  SELECT c.transferred_out_at, 'out', 'transferred_out'
  FROM case_facts c WHERE c.tenant_id = :tenant AND c.transferred_out_at >= :start AND c.transferred_out_at < :end
) t"""


def transfer_counts(*, session: Session, window: Window) -> Iterator[tuple]:
    """(partition, month of transfer, category, cases): `transfer` in or out, and where each case is `now`."""
    return _grouped(session, window, {"transfer": "t.transfer", "now": "t.now"},
                    month_start="date_trunc('month', t.at AT TIME ZONE 'UTC')", source=_TRANSFERS)


def reassessment_counts(*, session: Session, window: Window) -> Iterator[tuple]:
    """(partition, month approved, category, reassessments) for each of CHANGE_PARTITIONS."""
    return _grouped(session, window, CHANGE_PARTITIONS, month_start="date_trunc('month', approved_at AT TIME ZONE "
                    "'UTC')", source=_REASSESSMENTS)


def reassessment_items(*, session: Session, window: Window) -> list[tuple]:
    """(month approved, *ITEM_SUMS): the items compared, improved and worsened, in all and by kind."""
    return [tuple(r) for r in session.execute(sa.text(
        "SELECT to_char(date_trunc('month', approved_at AT TIME ZONE 'UTC'), 'YYYY-MM'), "
        f"{', '.join(f'sum({c})' for c in ITEM_SUMS)} {_REASSESSMENTS} GROUP BY 1"
    ), _bounds(session, window))]


def groups(*, session: Session, window: Window) -> list[tuple]:
    """(age band, gender, source type, referrals, adopted) over the window: disparity's raw counts."""
    return [tuple(r) for r in session.execute(sa.text(
        "SELECT coalesce(r.age_band, 'unknown'), coalesce(r.gender, 'unknown'), coalesce(r.source_type, 'unknown'), "
        f"count(*), count(*) FILTER (WHERE c.decision = 'adopt') {_FACTS} GROUP BY 1, 2, 3"
    ), _bounds(session, window))]
