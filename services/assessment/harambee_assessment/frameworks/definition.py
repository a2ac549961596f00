"""What a framework version holds: scales, and domains of items rated on them.

A domain is `concerns`, `strengths` (resources and protective factors, beside the concerns) or `needs`
(the needs screen whose item codes interventions ties plan items to). A scale's options are ordered by
`rank`; an option without a rank ("not known") is a rating but not a position, so it is never compared.
There is no score: nothing adds ratings up.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Guidance = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
DomainKind = Literal["concerns", "strengths", "needs"]


class ScaleOption(BaseModel):
    """One point of a rating scale."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    label: Label
    rank: int | None = Field(default=None, ge=0, le=20,
                             description="Order on the scale; null for an option that is not a position (not known).")


class Scale(BaseModel):
    """A rating scale, shared by the items that name it."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    options: list[ScaleOption] = Field(min_length=2, max_length=12)

    @model_validator(mode="after")
    def _distinct(self) -> Scale:
        codes = [o.code for o in self.options]
        if len(set(codes)) != len(codes):
            raise ValueError(f"scale {self.code}: option codes repeat")
        return self


class Item(BaseModel):
    """One thing an assessor rates, with guidance on what to look for."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    label: Label
    guidance: Guidance = ""
    scale: Code


class Domain(BaseModel):
    """A group of items: concerns, strengths and resources, or needs."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    label: Label
    kind: DomainKind
    items: list[Item] = Field(min_length=1, max_length=60)


class FrameworkDefinition(BaseModel):
    """The content of one framework version."""

    model_config = ConfigDict(extra="forbid")

    scales: list[Scale] = Field(min_length=1, max_length=20)
    domains: list[Domain] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _consistent(self) -> FrameworkDefinition:
        scales = {s.code for s in self.scales}
        if len(scales) != len(self.scales):
            raise ValueError("scale codes repeat")
        items = [i for d in self.domains for i in d.items]
        if len({i.code for i in items}) != len(items):
            raise ValueError("item codes repeat across the framework")
        if len({d.code for d in self.domains}) != len(self.domains):
            raise ValueError("domain codes repeat")
        unknown = sorted({i.scale for i in items} - scales)
        if unknown:
            raise ValueError(f"items name unknown scales: {', '.join(unknown)}")
        return self

    def items(self) -> dict[str, tuple[Domain, Item]]:
        """Every item by its code, with its domain."""
        return {i.code: (d, i) for d in self.domains for i in d.items}

    def options(self, item: Item) -> dict[str, ScaleOption]:
        """The options an item may be rated with, by code."""
        scale = next(s for s in self.scales if s.code == item.scale)
        return {o.code: o for o in scale.options}

    def rating_errors(self, ratings: dict[str, str]) -> list[dict[str, str]]:
        """What is wrong with these ratings, item by item: unknown items and options outside an item's scale."""
        items, errors = self.items(), []
        for code, rating in sorted(ratings.items()):
            if code not in items:
                errors.append({"item": code, "message": "This item is not in the framework version."})
            elif rating not in self.options(items[code][1]):
                allowed = ", ".join(self.options(items[code][1]))
                errors.append({"item": code, "message": f"'{rating}' is not on this item's scale ({allowed})."})
        return errors

    def rank(self, item_code: str, rating: str) -> tuple[DomainKind, int] | None:
        """An item's domain kind and the rank of a rating of it (None: not in it, or not a position)."""
        found = self.items().get(item_code)
        if found is None:
            return None
        option = self.options(found[1]).get(rating)
        return None if option is None or option.rank is None else (found[0].kind, option.rank)

    def need_codes(self) -> frozenset[str]:
        """The item codes of its needs domains."""
        return frozenset(i.code for d in self.domains if d.kind == "needs" for i in d.items)
