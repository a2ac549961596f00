"""What the providers' clients send and receive."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from harambee_common.pagination import Page

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class ProviderIn(BaseModel):
    """A registry organisation to register as a provider in this tenant."""

    model_config = ConfigDict(extra="forbid")

    organisation: Slug
    """The organisation's registry slug (its systems' tokens carry it)."""


class VettingIn(BaseModel):
    """A vetting of the provider for one intervention type."""

    model_config = ConfigDict(extra="forbid")

    vetted_on: date
    expires_on: date

    @model_validator(mode="after")
    def _expires_after_vetting(self) -> VettingIn:
        if self.expires_on <= self.vetted_on:
            raise ValueError("expires_on must be after vetted_on")
        return self


class PractitionerIn(BaseModel):
    """A named practitioner of the provider: the registry person who signs in."""

    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID


class VettingView(BaseModel):
    """A provider's vetting for one intervention type."""

    model_config = ConfigDict(from_attributes=True)

    intervention_type: str
    vetted_on: date
    expires_on: date
    expired: bool


class PractitionerView(BaseModel):
    """A named practitioner."""

    model_config = ConfigDict(from_attributes=True)

    practitioner_id: uuid.UUID
    person_id: uuid.UUID
    added_at: datetime


class ProviderView(BaseModel):
    """A provider, its vettings and named practitioners."""

    provider_id: uuid.UUID
    organisation: str
    registered_at: datetime
    vettings: list[VettingView]
    practitioners: list[PractitionerView]


class ProviderPage(Page[ProviderView]):
    """One page of the tenant's providers."""
