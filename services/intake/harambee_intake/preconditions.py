"""Optimistic concurrency: a version per resource, sent as a strong ETag and checked on If-Match."""

from __future__ import annotations

from harambee_common.problems import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    """The ETag of a resource at a version."""
    return f'"{version}"'


def require_match(*, if_match: str | None, version: int) -> None:
    """Refuses an update made without If-Match (428) or against an older version (412)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag you last read, so that no one else's change is overwritten."
        )
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        # "*" would match any version: exactly the silent overwrite this check exists to prevent.
        raise PreconditionRequired("If-Match must name the ETag you read, not \"*\".")
    if etag(version) in tags:
        return
    raise PreconditionFailed(
        "The resource has changed since you read it: read it again and reapply your change.",
        current_etag=etag(version),
    )
