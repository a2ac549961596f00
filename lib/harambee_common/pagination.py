"""Opaque keyset cursors: lists page by (time, id), so inserts never shift a page."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated

from fastapi import Query

from harambee_common.problems import ValidationFailed

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]


def encode_cursor(at: datetime, ident: str) -> str:
    """The cursor that continues after the row (at, ident)."""
    raw = json.dumps([at.isoformat(), ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (time, id) a cursor continues after; a malformed cursor is the client's error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ident = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(at), str(ident)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("The cursor is not one this API issued.") from exc
