"""The test session's event signing keys: one per component, installed once for the whole process.

Tests build events with `EventSource.of(X).event(...)` (or `Event(...)`) and hand `event.headers()` to a
consumer; the headers are signed with the key of the event's topic, as that topic's producer would sign
them, so every test goes through the real signature check without knowing about it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from harambee_common import signing
from harambee_common.components import COMPONENTS, Component


@cache
def session_signers() -> dict[str, signing.EventSigner]:
    """Each component's signer, by name (the same for the whole session)."""
    return {c.name: signing.generate(c) for c in COMPONENTS}


def session_keys() -> signing.EventKeys:
    """A ring that signs for every component and trusts each one's key."""
    return signing.EventKeys.of(signers=session_signers().values(), public=())


def signer_of(component: Component) -> signing.EventSigner:
    """The session's key of one component (a forger who stole it signs with this)."""
    return session_signers()[component.name]


def install_session_keys() -> None:
    """Installs the session's ring as the process's."""
    signing.install(session_keys())


def key_files(component: Component, directory: Path) -> dict[str, str]:
    """The session's keys as files, for a component's process started by a test: the variables to set."""
    from cryptography.hazmat.primitives import serialization

    public = directory / "public"
    public.mkdir(parents=True, exist_ok=True)
    for signer in session_signers().values():
        (public / f"{signer.component.name}.pem").write_bytes(signer.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    private = directory / f"{component.name}.key.pem"
    private.write_bytes(signer_of(component).private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    private.chmod(0o600)
    return {"EVENT_SIGNING_KEY_FILE": str(private), "EVENT_PUBLIC_KEYS_DIR": str(public)}
