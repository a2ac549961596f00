"""The differential-privacy mode: counts released with OpenDP's discrete Laplace noise, under a budget of ε.

The privacy unit is one referral. In each partition table a referral counts in exactly one cell, so a
release of k tables has an L1 sensitivity of k: each interior cell gets noise of scale k / ε, and the
totals are sums of the noisy cells (post-processing, which costs nothing). An agreement's terms set the ε
a release spends and the budget of each calendar period; the spends are kept per county, agreement and
period, and a release that would go over the budget is refused before any figure is drawn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import opendp.prelude as dp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.problems import Forbidden
from harambee_monitoring.models import PrivacySpend

MECHANISM = "discrete_laplace"
# OpenDP ships its mechanisms behind the `contrib` flag until its vetting process signs them off; the integer
# (discrete) Laplace mechanism used here needs nothing more (not `floating-point`, not `honest-but-curious`).
dp.enable_features("contrib")


class PrivacyBudgetExhausted(Forbidden):
    slug, title = "privacy-budget-exhausted", "The agreement's privacy budget for this period is spent"


@dataclass(frozen=True)
class Budget:
    """An agreement's differential-privacy terms (catalogue.registry.DifferentialPrivacyTerms)."""

    epsilon_per_release: float
    budget_per_period: float
    period: str

    @classmethod
    def of(cls, terms: dict[str, Any]) -> Budget:
        """The terms as the agreement copy holds them."""
        return cls(float(terms["epsilon_per_release"]), float(terms["budget_per_period"]), terms["period"])

    def period_of(self, moment: datetime) -> str:
        """The budget period a release at that moment spends from: `2026-12`, `2026-Q4` or `2026`."""
        if self.period == "month":
            return f"{moment:%Y-%m}"
        if self.period == "quarter":
            return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
        return str(moment.year)


def noise_scale(*, epsilon: float, sensitivity: int) -> float:
    """The Laplace scale that makes a release of that sensitivity ε-differentially private."""
    return sensitivity / epsilon


def noisy_counts(counts: list[int], *, scale: float) -> list[int]:
    """The counts with discrete Laplace noise of that scale (OpenDP's sampler), never below zero."""
    if not counts:
        return []
    domain = dp.vector_domain(dp.atom_domain(T=int))
    mechanism = dp.m.make_laplace(domain, dp.l1_distance(T=int), scale=scale)
    return [max(0, value) for value in mechanism(counts)]


QUANTILE_MECHANISM = "private_quantile"
# The days a timeliness percentile is chosen from: whole days, 0 to a year (a longer wait reads as 365).
DAY_CANDIDATES = [float(day) for day in range(366)]


def quantile_scale(*, epsilon: float) -> float:
    """The scale of OpenDP's private quantile (exponential mechanism over DAY_CANDIDATES) that spends ε."""
    return float(dp.binary_search_param(_quantile, d_in=1, d_out=epsilon))


def _quantile(scale: float, alpha: float = 0.5) -> dp.Measurement:
    return dp.m.make_private_quantile(dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance(),
                                      dp.max_divergence(), candidates=DAY_CANDIDATES, alpha=alpha, scale=scale)


def noisy_quantile(days: list[float], *, alpha: float, scale: float) -> float:
    """The alpha-quantile of the days, chosen by OpenDP's private quantile at that scale."""
    return float(_quantile(scale, alpha)(days))


def spent(*, session: Session, agreement_id: uuid.UUID, period: str) -> float:
    """The ε already spent from an agreement's budget in a period (in the session's tenant)."""
    # Serialises releases under one agreement and period, so that two at once cannot both fit.
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{agreement_id}:{period}"})
    total = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PrivacySpend.epsilon), 0.0))
                           .where(PrivacySpend.agreement_id == agreement_id, PrivacySpend.period == period))
    return float(total or 0.0)


def spend(*, session: Session, tenant: str, agreement_id: uuid.UUID, budget: Budget, indicator: str, actor: str,
          at: datetime) -> tuple[str, float]:
    """Spends one release's ε from the budget, or refuses; returns the period and what remains after it."""
    period = budget.period_of(at)
    used = spent(session=session, agreement_id=agreement_id, period=period)
    if used + budget.epsilon_per_release > budget.budget_per_period + 1e-9:
        raise PrivacyBudgetExhausted(
            f"Releasing '{indicator}' would spend ε={budget.epsilon_per_release} of the {period} budget of "
            f"ε={budget.budget_per_period}, of which {used:g} is spent.",
            tenant=tenant, period=period, budget=budget.budget_per_period, spent=used,
            requested=budget.epsilon_per_release,
        )
    session.add(PrivacySpend(id=uuid.uuid4(), tenant_id=tenant, agreement_id=agreement_id, period=period,
                             indicator=indicator, epsilon=budget.epsilon_per_release, actor=actor, released_at=at))
    return period, budget.budget_per_period - used - budget.epsilon_per_release
