"""What changed between two assessments of a case, item by item.

Only items rated in both with a rating that is a position on the scale (not "not known") are compared,
by item code, each on its own version's scale. A concern or need rated lower is an improvement; a
strength or resource rated higher is one. Nothing is added up into a score.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from harambee_assessment.frameworks.definition import DomainKind, FrameworkDefinition

Direction = Literal["improved", "worsened", "unchanged"]


class ItemChange(BaseModel):
    """One item rated in both assessments."""

    item: str
    kind: DomainKind
    previous: str
    current: str
    direction: Direction


class Changes(BaseModel):
    """The item-by-item change since the previous approved assessment (empty for a first assessment)."""

    compared_with: str | None
    items: list[ItemChange]
    improved: int
    worsened: int
    unchanged: int

    def of_kind(self, kind: DomainKind) -> tuple[int, int, int]:
        """(compared, improved, worsened) among the items of one domain kind: a concern improves when rated lower,
        a strength when rated higher (what tells monitoring's concerns down from strengths up)."""
        mine = [i.direction for i in self.items if i.kind == kind]
        return len(mine), mine.count("improved"), mine.count("worsened")


def compare(*, previous_id: str | None, previous: dict[str, Any], previous_definition: FrameworkDefinition | None,
            current: dict[str, Any], current_definition: FrameworkDefinition) -> Changes:
    """The change from `previous` ratings to `current` ones (item code -> {"rating": ...})."""
    items: list[ItemChange] = []
    if previous_definition is not None:
        for code in sorted(set(previous) & set(current)):
            before = previous_definition.rank(code, previous[code]["rating"])
            after = current_definition.rank(code, current[code]["rating"])
            if before is None or after is None:
                continue
            kind, delta = after[0], after[1] - before[1]
            better = delta > 0 if kind == "strengths" else delta < 0
            direction: Direction = "unchanged" if delta == 0 else "improved" if better else "worsened"
            items.append(ItemChange(item=code, kind=kind, previous=previous[code]["rating"],
                                    current=current[code]["rating"], direction=direction))
    count = {d: sum(1 for i in items if i.direction == d) for d in ("improved", "worsened", "unchanged")}
    return Changes(compared_with=previous_id, items=items, **count)
