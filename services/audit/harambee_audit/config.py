"""The audit service's own settings, beside the ones every service reads."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from harambee_audit.read_volume import AlertRule
from harambee_audit.signing import CheckpointSigner, VerifierKey


@dataclass(frozen=True)
class AuditSettings:
    """Checkpoint signing, the review deadline and the read-volume rule."""

    signing_key_file: Path | None
    checkpoint_every: int
    checkpoint_seconds: float
    retired_keys_file: Path | None
    review_overdue_hours: float = 72.0
    alert_rule: AlertRule = field(default_factory=AlertRule)
    alert_interval_seconds: float = 60.0

    @classmethod
    def from_env(cls) -> AuditSettings:
        """Reads the AUDIT_* variables (see the README)."""
        key_file = os.environ.get("AUDIT_SIGNING_KEY_FILE")
        retired = os.environ.get("AUDIT_RETIRED_KEYS_FILE")
        return cls(
            signing_key_file=Path(key_file) if key_file else None,
            checkpoint_every=int(os.environ.get("AUDIT_CHECKPOINT_EVERY", "1000")),
            checkpoint_seconds=float(os.environ.get("AUDIT_CHECKPOINT_SECONDS", "60")),
            retired_keys_file=Path(retired) if retired else None,
            review_overdue_hours=float(os.environ.get("AUDIT_REVIEW_OVERDUE_HOURS", "72")),
            alert_rule=AlertRule(
                factor=float(os.environ.get("AUDIT_ALERT_FACTOR", "5")),
                floor=int(os.environ.get("AUDIT_ALERT_FLOOR", "50")),
                window_days=int(os.environ.get("AUDIT_ALERT_WINDOW_DAYS", "14")),
                timezone=os.environ.get("AUDIT_ALERT_TIMEZONE", "Africa/Nairobi"),
            ),
            alert_interval_seconds=float(os.environ.get("AUDIT_ALERT_INTERVAL_SECONDS", "60")),
        )

    def signer(self) -> CheckpointSigner:
        """The checkpoint signing key; without one audit refuses to start (an unsigned log proves nothing)."""
        if self.signing_key_file is None:
            raise RuntimeError("audit: AUDIT_SIGNING_KEY_FILE is not set; refusing to keep a log no checkpoint signs")
        try:
            return CheckpointSigner.from_file(self.signing_key_file)
        except (OSError, ValueError) as exc:
            raise RuntimeError(
                f"audit: cannot read the signing key AUDIT_SIGNING_KEY_FILE names ({type(exc).__name__})"
            ) from exc

    def retired_keys(self) -> list[VerifierKey]:
        """Public keys that signed earlier checkpoints (PEM blocks or note keys, one after another)."""
        if self.retired_keys_file is None:
            return []
        text = self.retired_keys_file.read_text()
        blocks = [b + "-----END PUBLIC KEY-----" for b in text.split("-----END PUBLIC KEY-----")[:-1]]
        rest = text.split("-----END PUBLIC KEY-----")[-1]
        notes = [line for line in rest.splitlines() if line.strip()]
        return [VerifierKey.load(k) for k in (*blocks, *notes)]
