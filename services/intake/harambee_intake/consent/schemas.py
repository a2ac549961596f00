"""Consent records as officers record and read them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from harambee_intake.schema_types import Code, Giver, LongText, Method, ShortText, Strict


class ConsentIn(Strict):
    """Consent as it was given: express, specific (purposes, recipients), informed, provable."""

    given_by: Giver = Field(description="A parent or guardian for a minor")
    giver_name: ShortText | None = Field(default=None, description="Required unless given by the person")
    purposes: list[Code] = Field(min_length=1, max_length=20, description="Codes of `consent_purposes`")
    recipients: list[ShortText] = Field(min_length=1, max_length=50,
                                        description="Who may receive the data: organisations or services")
    method: Method
    given_at: datetime
    expires_at: datetime | None = None
    evidence: LongText = Field(description="How it is evidenced, e.g. signed form reference, witness")
    note: LongText | None = None


class ConsentView(BaseModel):
    """A consent record."""

    id: uuid.UUID
    subject_ref: uuid.UUID
    state: Literal["active", "expired", "withdrawn"]
    given_by: str
    giver_name: str | None
    purposes: list[str]
    recipients: list[str]
    method: str
    given_at: datetime
    expires_at: datetime | None
    evidence: str | None
    note: str | None
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_method: str | None


class WithdrawalIn(Strict):
    """Consent withdrawn: by whom and how."""

    withdrawn_by: Giver
    method: Method
    note: LongText | None = None
