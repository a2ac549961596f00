"""The key that signs access tokens, and the public JWKS that lets every service verify them."""

from __future__ import annotations

from typing import Any

from joserfc.jwk import ECKey, KeySet

ALGORITHM = "ES256"


class SigningKey:
    """An EC P-256 private key with a stable kid (its RFC 7638 thumbprint)."""

    def __init__(self, pem: bytes) -> None:
        try:
            key = ECKey.import_key(pem)
        except Exception as exc:  # joserfc raises several types for malformed input
            raise RuntimeError(f"gateway: the signing key is not a valid EC PEM key: {exc}") from exc
        if not key.is_private or key.as_dict(private=False).get("crv") != "P-256":
            raise RuntimeError("gateway: the signing key must be an EC P-256 private key")
        # The thumbprint changes only with the key, so services can cache the JWKS by kid.
        kid = key.thumbprint()
        self.key = ECKey.import_key(pem, {"kid": kid, "alg": ALGORITHM, "use": "sig"})
        self.kid = kid

    def key_set(self) -> KeySet:
        """The private key set used for signing."""
        return KeySet([self.key])

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS document: public parts only."""
        return {"keys": [self.key.as_dict(private=False)]}
