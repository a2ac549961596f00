"""Event signatures: every event is signed by the component that produces it, and verified by every consumer.

Anyone who can reach the broker can write a message to it; what makes an event a component's is its
Ed25519 signature, carried in the CloudEvents extension headers `ce_signature` (the signature, base64url)
and `ce_signaturekey` (the key id, `<component>/<fingerprint>`).

What is signed is the canonical byte form of the event (`signing_input`): a domain tag, then the raw bytes
of `ce_id`, `ce_type`, `ce_source`, `ce_tenant`, `ce_subject` and `ce_time` as they travel (an absent one
as empty), then the message value (the JSON data) exactly as it travels, each part preceded by its length
as four big-endian bytes. Nothing is re-serialised before verifying, so a consumer checks the bytes it
received.

Keys are pinned per producing component. Each component holds one private key (EVENT_SIGNING_KEY_FILE,
PKCS#8 PEM); every process knows every component's public keys (EVENT_PUBLIC_KEYS_DIR: one PEM file per
key, named `<component>.pem` or `<component>.<label>.pem`, so a new key can be added beside the old one
before the producer switches to it). A key signs only for its component's one topic
(`harambee_common.components`): intake's key cannot make an `agreement.activated` on `registry.events`.

The key ring is process-wide (`install`): `Event.headers()` signs with it and the consumer verifies with
it, so every event on the wire is built one way. A service installs it from the environment at startup
(`ensure_installed`) and refuses to start without its own key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harambee_common.components import COMPONENTS, Component, component

SIGNATURE_HEADER = "ce_signature"
KEY_ID_HEADER = "ce_signaturekey"
# The attributes a signature covers, in this order, then the data.
SIGNED_ATTRIBUTES = ("ce_id", "ce_type", "ce_source", "ce_tenant", "ce_subject", "ce_time")
_DOMAIN = b"harambee-event-signature/v1"
_ATTRIBUTES = frozenset((*SIGNED_ATTRIBUTES, SIGNATURE_HEADER, KEY_ID_HEADER))


class UnverifiedEvent(ValueError):
    """A message whose signature is missing, unknown, pinned to another topic, or wrong (it is parked)."""


class SigningNotConfigured(RuntimeError):
    """This process holds no key to sign an event of that topic."""


def signing_input(attributes: Mapping[str, bytes], value: bytes | None) -> bytes:
    """The canonical bytes a signature covers (see the module's docstring)."""
    parts = [_DOMAIN, *(attributes.get(name, b"") for name in SIGNED_ATTRIBUTES), value or b""]
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def key_id(component: Component | str, public_key: Ed25519PublicKey) -> str:
    """`<component>/<fingerprint>`: the first 16 base64url characters of the raw public key's SHA-256."""
    name = component if isinstance(component, str) else component.name
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{name}/{base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode()[:16]}"


@dataclass(frozen=True)
class EventSigner:
    """One component's private key: signs the events of its topic."""

    component: Component
    private_key: Ed25519PrivateKey = field(repr=False)

    @cached_property
    def key_id(self) -> str:
        """The id consumers find the public key by (computed once: it is sent with every event)."""
        return key_id(self.component, self.private_key.public_key())

    def sign(self, attributes: Mapping[str, bytes], value: bytes | None) -> list[tuple[str, bytes]]:
        """The two signature headers for a message with these attributes and value."""
        signature = self.private_key.sign(signing_input(attributes, value))
        return [(SIGNATURE_HEADER, base64.urlsafe_b64encode(signature).rstrip(b"=")),
                (KEY_ID_HEADER, self.key_id.encode())]


@dataclass(frozen=True)
class PinnedKey:
    """A public key, and the component (and so the one topic) it may sign for."""

    component: Component
    public_key: Ed25519PublicKey


@dataclass(frozen=True)
class EventKeys:
    """The process's key ring: the private key(s) it signs with, and every component's public keys."""

    signers: Mapping[str, EventSigner]  # by topic
    pinned: Mapping[str, PinnedKey]  # by key id

    @classmethod
    def of(cls, *, signers: Iterable[EventSigner], public: Iterable[tuple[Component, Ed25519PublicKey]]) -> EventKeys:
        """A ring of these signers, trusting these public keys (each signer's own is trusted too)."""
        signers = list(signers)
        trusted = [*public, *((s.component, s.private_key.public_key()) for s in signers)]
        return cls(signers={s.component.topic: s for s in signers},
                   pinned={key_id(c, k): PinnedKey(c, k) for c, k in trusted})

    @classmethod
    def from_files(cls, *, component: Component, signing_key_file: Path, public_keys_dir: Path) -> EventKeys:
        """The ring of one component's process: its own private key and the directory of public keys."""
        private = serialization.load_pem_private_key(signing_key_file.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{signing_key_file} is not an Ed25519 private key")
        return cls.of(signers=[EventSigner(component, private)], public=read_public_keys(public_keys_dir))

    def sign(self, topic: str, attributes: Mapping[str, bytes], value: bytes | None) -> list[tuple[str, bytes]]:
        """The signature headers of a message on topic; SigningNotConfigured without that topic's key."""
        signer = self.signers.get(topic)
        if signer is None:
            raise SigningNotConfigured(f"this process holds no event signing key for {topic}")
        return signer.sign(attributes, value)

    def verify(self, topic: str, headers: Iterable[tuple[str, bytes]], value: bytes | None) -> Component:
        """The component that signed a message received on topic; UnverifiedEvent unless it is genuine."""
        attributes: dict[str, bytes] = {}
        for name, raw in headers:
            if name in _ATTRIBUTES and name in attributes:
                raise UnverifiedEvent(f"{name} appears twice")  # which one would the reader believe?
            attributes[name] = raw
        signature, kid = attributes.get(SIGNATURE_HEADER), attributes.get(KEY_ID_HEADER)
        if not signature or not kid:
            raise UnverifiedEvent("unsigned")
        pinned = self.pinned.get(kid.decode("utf-8", "replace"))
        if pinned is None:
            raise UnverifiedEvent("signed with a key no component holds")
        if pinned.component.topic != topic:
            raise UnverifiedEvent(f"signed by {pinned.component.name}, which does not publish on {topic}")
        try:
            pinned.public_key.verify(base64.urlsafe_b64decode(signature + b"=" * (-len(signature) % 4)),
                                     signing_input(attributes, value))
        except (InvalidSignature, ValueError):
            raise UnverifiedEvent("bad signature") from None
        return pinned.component


def read_public_keys(directory: Path) -> list[tuple[Component, Ed25519PublicKey]]:
    """Every `<component>[.<label>].pem` public key in directory (an unknown component's name is an error)."""
    keys = []
    for path in sorted(directory.glob("*.pem")):
        owner = component(path.name.split(".", 1)[0])
        public = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError(f"{path} is not an Ed25519 public key")
        keys.append((owner, public))
    missing = {c.name for c in COMPONENTS} - {c.name for c, _ in keys}
    if missing:
        raise ValueError(f"{directory} holds no public key of {', '.join(sorted(missing))}")
    return keys


_lock = threading.Lock()
_installed: EventKeys | None = None


def install(keys: EventKeys | None) -> None:
    """Makes keys the process's ring (None: none, so nothing can be signed or verified)."""
    global _installed
    with _lock:
        _installed = keys


def installed() -> EventKeys:
    """The process's ring; SigningNotConfigured when none is installed."""
    keys = _installed
    if keys is None:
        raise SigningNotConfigured("event signing is not configured: set EVENT_SIGNING_KEY_FILE and "
                                   "EVENT_PUBLIC_KEYS_DIR")
    return keys


def ensure_installed(this: Component) -> EventKeys:
    """The ring for a component's process: the one installed, if it signs for the component, else the env's.

    Reads EVENT_SIGNING_KEY_FILE and EVENT_PUBLIC_KEYS_DIR; a missing or unreadable key is a RuntimeError,
    so a service without its key does not start (it could publish nothing anyone accepts).
    """
    with _lock:
        global _installed
        if _installed is not None and this.topic in _installed.signers:
            return _installed
        key_file, keys_dir = os.environ.get("EVENT_SIGNING_KEY_FILE"), os.environ.get("EVENT_PUBLIC_KEYS_DIR")
        if not key_file or not keys_dir:
            raise RuntimeError(f"{this.name}: EVENT_SIGNING_KEY_FILE and EVENT_PUBLIC_KEYS_DIR must be set "
                               "(events are signed by their producer and verified by every consumer)")
        try:
            _installed = EventKeys.from_files(component=this, signing_key_file=Path(key_file),
                                              public_keys_dir=Path(keys_dir))
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeError(f"{this.name}: cannot load the event signing keys: {exc}") from exc
        return _installed


def generate(component: Component) -> EventSigner:
    """A fresh signer for a component (the stack's and the tests' keys)."""
    return EventSigner(component, Ed25519PrivateKey.generate())
