"""Signed checkpoints in the C2SP tlog-checkpoint and signed-note formats, with Ed25519 keys.

The private key comes from a file named by configuration; the database never holds it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harambee_audit.entries import rfc3339

KEY_NAME = "harambee-audit"
ED25519 = 0x01  # the signed-note algorithm byte
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space open each signature line


def origin(tenant: str) -> str:
    """The checkpoint origin line of a tenant's log."""
    return f"harambee.example/audit/{tenant}"


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class VerifierKey:
    """A pinned Ed25519 public key, named as in signed notes."""

    def __init__(self, public_key: Ed25519PublicKey, name: str = KEY_NAME) -> None:
        self.public_key = public_key
        self.name = name
        self.raw = _raw(public_key)
        self.key_hash = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + self.raw).digest()[:4]

    @property
    def key_id(self) -> str:
        """The 4-byte key hash in hex: how checkpoints name the key that signed them."""
        return self.key_hash.hex()

    @property
    def note_key(self) -> str:
        """The signed-note verifier key string: name+hash+base64(alg || key)."""
        encoded = base64.b64encode(bytes([ED25519]) + self.raw).decode()
        return f"{self.name}+{self.key_id}+{encoded}"

    @property
    def pem(self) -> str:
        """The SubjectPublicKeyInfo PEM."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @classmethod
    def load(cls, text: str) -> VerifierKey:
        """A key from a PEM public (or private) key, or a signed-note verifier key string."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            if "PRIVATE KEY" in text:
                private = serialization.load_pem_private_key(text.encode(), password=None)
                if not isinstance(private, Ed25519PrivateKey):
                    raise ValueError("not an Ed25519 key")
                return cls(private.public_key())
            public = serialization.load_pem_public_key(text.encode())
            if not isinstance(public, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            return cls(public)
        name, _, rest = text.partition("+")
        key_id, _, encoded = rest.partition("+")
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) != 33 or raw[0] != ED25519:
            raise ValueError("not an Ed25519 signed-note verifier key")
        key = cls(Ed25519PublicKey.from_public_bytes(raw[1:]), name)
        if key.key_id != key_id:
            raise ValueError("the verifier key's hash does not match its key")
        return key

    def verify_note(self, note: str) -> str | None:
        """The note's body if a signature by this key over it is valid, else None."""
        body, sep, signatures = note.partition("\n\n")
        if not sep:
            return None
        body += "\n"
        for line in signatures.splitlines():
            if not line.startswith(SIGNATURE_PREFIX):
                continue
            name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
            try:
                blob = base64.b64decode(encoded, validate=True)
            except ValueError:
                continue
            if name != self.name or blob[:4] != self.key_hash:
                continue
            try:
                self.public_key.verify(blob[4:], body.encode())
            except InvalidSignature:
                return None
            return body
        return None


class CheckpointSigner:
    """The audit service's Ed25519 signing key."""

    def __init__(self, private_key: Ed25519PrivateKey, name: str = KEY_NAME) -> None:
        self._private_key = private_key
        self.verifier = VerifierKey(private_key.public_key(), name)

    @classmethod
    def from_file(cls, path: Path) -> CheckpointSigner:
        """Loads a PKCS#8 PEM Ed25519 private key."""
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise RuntimeError("audit: the signing key must be an Ed25519 private key")
        return cls(key)

    @classmethod
    def generate(cls) -> CheckpointSigner:
        """A fresh key (tests and first-time setup)."""
        return cls(Ed25519PrivateKey.generate())

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, for writing to a key file."""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign_note(self, body: str) -> str:
        """The signed note: body, a blank line, and this key's signature line."""
        if not body.endswith("\n"):
            raise ValueError("a note body ends with a newline")
        signature = self._private_key.sign(body.encode())
        encoded = base64.b64encode(self.verifier.key_hash + signature).decode()
        return f"{body}\n{SIGNATURE_PREFIX}{self.verifier.name} {encoded}\n"


@dataclass(frozen=True)
class CheckpointBody:
    """What a checkpoint states: the tenant's log had tree_size entries with this root at this time."""

    origin: str
    tree_size: int
    root_hash: bytes
    time: str

    def text(self) -> str:
        """The checkpoint body: origin, size, base64 root, and a time extension line."""
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\ntime {self.time}\n"

    @classmethod
    def create(cls, *, tenant: str, tree_size: int, root_hash: bytes, signed_at: datetime) -> CheckpointBody:
        """The body of a tenant's checkpoint."""
        return cls(origin(tenant), tree_size, root_hash, rfc3339(signed_at))

    @classmethod
    def parse(cls, body: str) -> CheckpointBody:
        """Reads a body; raises ValueError when it is not a checkpoint."""
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise ValueError("a checkpoint body has an origin, a size and a root hash")
        size = lines[1]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise ValueError("the tree size is not a decimal number")
        root = base64.b64decode(lines[2], validate=True)
        if len(root) != 32:
            raise ValueError("the root hash is not 32 bytes")
        time = next((line[5:] for line in lines[3:] if line.startswith("time ")), "")
        return cls(lines[0], int(size), root, time)
