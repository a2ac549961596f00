"""The baseline for referral POSTs: a FastAPI endpoint that inserts one row, and nothing else.

Same server, framework, driver and pool as the services, on the same PostgreSQL, so the ratio
shows what authentication, routing, validation, encryption, the outbox and the gateway cost.
`/rows` is a sync endpoint on a sync engine, as the services are (FastAPI runs it in its thread pool);
`/rows-async` the same insert as a coroutine on SQLAlchemy's asyncio engine (psycopg's async
connections), with no thread hand-off: what an asynchronous request path would save, measured on the
smallest request there is.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=20, max_overflow=20)
async_engine = create_async_engine(os.environ["BENCH_DATABASE_URL"], pool_size=20, max_overflow=20)
app = FastAPI()
_INSERT = sa.text("INSERT INTO bare_rows (id, body) VALUES (:id, CAST(:body AS jsonb))")


@app.post("/rows", status_code=201)
def insert_row(body: dict[str, Any]) -> dict[str, str]:
    """Inserts the body as one row."""
    row_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(_INSERT, {"id": row_id, "body": json.dumps(body)})
    return {"id": row_id}


@app.post("/rows-async", status_code=201)
async def insert_row_async(body: dict[str, Any]) -> dict[str, str]:
    """Inserts the body as one row, on the event loop."""
    row_id = str(uuid.uuid4())
    async with async_engine.begin() as conn:
        await conn.execute(_INSERT, {"id": row_id, "body": json.dumps(body)})
    return {"id": row_id}
