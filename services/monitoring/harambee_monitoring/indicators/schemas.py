"""What the indicator endpoints return: series by month that a chart draws directly, and how they were protected."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Number = int | float


class Protection(BaseModel):
    """How the figures were protected for this reader; `none` for the county's own staff."""

    kind: Literal["none", "suppression", "differential_privacy"]
    suppression_threshold: int | None = Field(None, description="Counts below this are withheld, with "
                                                                "complementary cells so none can be recovered")
    cells_withheld: int = 0
    noisy: bool = Field(False, description="True: every count has random noise added")
    mechanism: str | None = None
    epsilon: float | None = Field(None, description="The privacy loss ε this release spent")
    noise_scale: float | None = Field(None, description="The Laplace scale of each count's noise")
    budget_period: str | None = None
    budget_remaining: float | None = None
    agreement_id: str | None = None
    agreement_version: int | None = None
    note: str | None = None


class Series(BaseModel):
    """One line of a chart: a value per month (aligned with `months`), and over the whole window."""

    key: str
    values: list[Number | None] = Field(description="Null: withheld (suppressed, too few to show) or not defined")
    total: Number | None
    withheld: list[str] = Field(default_factory=list, description="Months whose value is withheld")
    partial: list[str] = Field(default_factory=list,
                               description="National sums: months where some county's value is withheld")


class Table(BaseModel):
    """A named set of series over the same months."""

    name: str
    description: str
    unit: Literal["count", "share", "days", "rate"]
    series: list[Series]


class IndicatorView(BaseModel):
    """One indicator of one tenant (or, in the national tenant, of every county sharing with it)."""

    tenant: str
    indicator: str
    months: list[str]
    protection: Protection
    counties: list[str] | None = Field(None, description="National: the counties included")
    counties_excluded: list[str] | None = Field(None, description="National: counties whose agreement does "
                                                                  "not permit it today")
    tables: list[Table]


class DisparityGroup(BaseModel):
    """One group's share of referrals against its share of the population."""

    dimension: str
    group: str
    source_type: str | None = Field(None, description="Null: referrals from every source")
    population: int | None
    population_share: float | None
    referrals: int | None
    referral_share: float | None
    ratio: float | None = Field(description="referral share ÷ population share")
    referrals_per_10000: float | None
    adopted: int | None
    adoption_rate: float | None
    flagged: bool = Field(description="Referred at the tenant's threshold times its population share or more")


class DisparityView(BaseModel):
    """Who is being referred, and by whom, against the population: the flags first."""

    tenant: str
    months: list[str]
    threshold: float
    protection: Protection
    flagged: list[DisparityGroup] = Field(description="The groups referred at the threshold or more: review these")
    groups: list[DisparityGroup]
    missing_population: list[str] = Field(description="Dimensions with no population figures recorded")


class Overview(BaseModel):
    """The indicators a tenant can read, with the disparity flags up front."""

    tenant: str
    months: list[str]
    disparity_flags: list[DisparityGroup]
    indicators: list[str]


class CountyRow(BaseModel):
    """One county's headline figures, side by side with the others."""

    county: str
    figures: dict[str, Number | None]
    protection: Protection


class CountyTable(BaseModel):
    """The national programme's side-by-side table of counties."""

    tenant: str
    months: list[str]
    columns: list[str]
    counties: list[CountyRow]
    counties_excluded: list[str]


class PopulationIn(BaseModel):
    """A tenant's population per group of one dimension (e.g. `age_band_gender`: `18_24:male`)."""

    source: str = Field(min_length=1, max_length=200, description="Where the figures come from (e.g. census 2019)")
    groups: dict[str, int] = Field(min_length=1, max_length=200)


class PopulationView(PopulationIn):
    dimension: str


class ThresholdIn(BaseModel):
    """The ratio of referral share to population share at which a group is flagged."""

    threshold: float = Field(ge=1.0, le=20.0)
