"""The counts a release is made of: each partition of the referrals by month, with its totals.

A cell is `(partition, month, category)`; the month `all` is the window's total, the category `total` the
month's. The relations between cells (rows and columns add up; every partition of the same referrals has
the same monthly totals; the follow-up tables add up to the closed stages) are what an attacker of a
suppressed release knows: disclosure.suppression withholds enough that none of them gives a value away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from harambee_monitoring.disclosure.suppression import Relation

ALL = "all"
TOTAL = "total"
Cell = tuple[str, str, str]

EXIT_REASONS = ("vulnerability_removed", "substantially_reduced", "consent_withdrawn", "relocation", "escalation",
                "no_engagement")
STAGES = (
    "awaiting_screening", "screened_escalate", "screened_signpost", "screened_no_further_action",
    "accepted_awaiting_assessment", "transferred_out_before_assessment", "assessed_awaiting_panel",
    "transferred_out_after_assessment", "panel_decline", "panel_signpost", "panel_escalate",
    "adopted_awaiting_consent", "consented_awaiting_session", "withdrawn", "in_support", "closed_before_support",
    *(f"closed_{reason}" for reason in EXIT_REASONS),
)
CLOSED_STAGES = tuple(s for s in STAGES if s.startswith("closed_"))
TRANSFERRED_OUT = ("transferred_out_before_assessment", "transferred_out_after_assessment")
FOLLOW_UPS = ("not_yet", "doing_well", "some_concerns", "serious_concerns", "not_reached")
# Every category of each partition is listed, zeros included: a table's shape says nothing about the data.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "stage": STAGES,
    "source_type": ("education", "health", "social_services", "religious_leader", "family_or_friend", "community",
                    "cso", "self", "police_diversion", "unknown"),
    "age_band": ("under_15", "15_17", "18_24", "25_34", "35_plus", "unknown"),
    "gender": ("female", "male", "other", "not_stated", "unknown"),
    "minor": ("minor", "adult", "unknown"),
    "concern_type": ("behaviour", "context", "belief", "none"),
    "repeat": ("first", "repeat"),
    "follow_up_6": FOLLOW_UPS,
    "follow_up_12": FOLLOW_UPS,
}
# The partitions whose rows are the closed cases, not all referrals.
OF_CLOSED = ("follow_up_6", "follow_up_12")
# Transfers between counties by month: in or out, and where each case is now (a case transferred in is followed
# through the stages a case passes once opened; one transferred out is `transferred_out`). A grid of its own: its
# unit is a transfer, not a referral.
CASE_STAGES = ("awaiting_assessment", *(s for s in STAGES[STAGES.index("assessed_awaiting_panel"):]
                                        if s not in TRANSFERRED_OUT))
TRANSFER_CATEGORIES: dict[str, tuple[str, ...]] = {
    "transfer": ("in", "out"),
    "now": (*CASE_STAGES, *TRANSFERRED_OUT, "transferred_out"),
}
# Reassessments by their net direction, over all items, concerns and strengths: a grid of their own (their unit
# is a reassessment, not a referral).
CHANGE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "direction": ("improved", "unchanged", "worsened"),
    "concerns": ("down", "unchanged", "up", "not_compared"),
    "strengths": ("up", "unchanged", "down", "not_compared"),
}


@dataclass
class Grid:
    """Counts by partition, month and category, with every total; `relations` are what ties them."""

    months: list[str]
    categories: dict[str, tuple[str, ...]]
    counts: dict[Cell, int] = field(default_factory=dict)
    # What is counted: `referrals`, `reassessments` or `transfers` (each released under its own history).
    unit: str = "referrals"

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, str, int]], *, months: list[str],
           categories: dict[str, tuple[str, ...]], unit: str = "referrals") -> Grid:
        """The grid of (partition, month, category, count) rows; unknown categories are added, not dropped."""
        categories = dict(categories)
        grid = cls(months=months, categories=categories, unit=unit)
        for partition, month, category, count in rows:
            if category not in categories[partition]:
                categories[partition] = (*categories[partition], category)
            grid.counts[(partition, month, category)] = int(count)
        grid.fill()
        return grid

    def fill(self) -> None:
        """Zeros where nothing was counted, and every total as the sum of its cells. The cells are laid out in the
        order of the partitions, months and categories, whatever the order they were counted in (the database
        returns a grid's rows in none): a grid of the same figures is the same grid (release._protected)."""
        counted, self.counts = self.counts, {}
        for partition, categories in self.categories.items():
            for month in self.months:
                for category in categories:
                    self.counts[(partition, month, category)] = counted.pop((partition, month, category), 0)
            self.add_totals(partition)
        self.counts.update(counted)  # cells outside the months or partitions, if any: kept, as before

    def add_totals(self, partition: str) -> None:
        """(Re)computes a partition's totals from its interior cells."""
        categories, c = self.categories[partition], self.counts
        for month in self.months:
            c[(partition, month, TOTAL)] = sum(c[(partition, month, k)] for k in categories)
        for category in (*categories, TOTAL):
            c[(partition, ALL, category)] = sum(c[(partition, m, category)] for m in self.months)

    def interior(self, partition: str) -> list[Cell]:
        """A partition's cells that are not totals."""
        return [(partition, m, k) for m in self.months for k in self.categories[partition]]

    def cost(self, cell: Cell) -> float:
        """What withholding a cell as a complement costs: its count, and for a month's total its count in every
        table (the tables of the same referrals have equal totals: withholding one withholds them all)."""
        count = self.counts[cell]
        return count * len(self.categories) if cell[2] == TOTAL and cell[1] != ALL else count

    def relations(self) -> list[Relation]:
        """Every linear relation between the cells that a reader of the whole release knows."""
        relations: list[Relation] = []
        months = [*self.months, ALL]
        for p, categories in self.categories.items():
            for m in months:
                relations.append({**{(p, m, k): 1 for k in categories}, (p, m, TOTAL): -1})
            for k in (*categories, TOTAL):
                relations.append({**{(p, m, k): 1 for m in self.months}, (p, ALL, k): -1})
        anchor = next(iter(self.categories))
        for p in self.categories:
            for m in months:
                if p in OF_CLOSED:
                    relations.append({**{("stage", m, s): 1 for s in CLOSED_STAGES}, (p, m, TOTAL): -1})
                elif p != anchor:
                    relations.append({(anchor, m, TOTAL): 1, (p, m, TOTAL): -1})
        return relations
