"""The audit service's own settings, beside the ones every service reads."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from harambee_audit.signing import CheckpointSigner, VerifierKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditSettings:
    """Checkpoint signing: the key file, how often, and keys retired from signing."""

    signing_key_file: Path | None
    checkpoint_every: int
    checkpoint_seconds: float
    retired_keys_file: Path | None

    @classmethod
    def from_env(cls) -> AuditSettings:
        """Reads the AUDIT_SIGNING_KEY_FILE, AUDIT_CHECKPOINT_* and AUDIT_RETIRED_KEYS_FILE variables."""
        key_file = os.environ.get("AUDIT_SIGNING_KEY_FILE")
        retired = os.environ.get("AUDIT_RETIRED_KEYS_FILE")
        return cls(
            signing_key_file=Path(key_file) if key_file else None,
            checkpoint_every=int(os.environ.get("AUDIT_CHECKPOINT_EVERY", "1000")),
            checkpoint_seconds=float(os.environ.get("AUDIT_CHECKPOINT_SECONDS", "60")),
            retired_keys_file=Path(retired) if retired else None,
        )

    def signer(self) -> CheckpointSigner | None:
        """The signing key, or None (no checkpoints) when none is configured."""
        if self.signing_key_file is None:
            log.warning("AUDIT_SIGNING_KEY_FILE is not set: no checkpoints will be signed")
            return None
        return CheckpointSigner.from_file(self.signing_key_file)

    def retired_keys(self) -> list[VerifierKey]:
        """Public keys that signed earlier checkpoints (PEM blocks or note keys, one after another)."""
        if self.retired_keys_file is None:
            return []
        text = self.retired_keys_file.read_text()
        blocks = [b + "-----END PUBLIC KEY-----" for b in text.split("-----END PUBLIC KEY-----")[:-1]]
        rest = text.split("-----END PUBLIC KEY-----")[-1]
        notes = [line for line in rest.splitlines() if line.strip()]
        return [VerifierKey.load(k) for k in (*blocks, *notes)]
