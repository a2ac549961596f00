"""The audit service: a per-tenant, append-only, tamper-evident log of every event and every read."""
