"""A tenant may trust an external OpenID Connect provider: its configuration, linked identities, sign-ins under way.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "identity_providers",
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.slug"), primary_key=True),
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        # AES-GCM under a key derived from the gateway's bootstrap key: usable, never stored in clear.
        sa.Column("encrypted_client_secret", sa.LargeBinary, nullable=False),
        sa.Column("token_endpoint_auth_method", sa.Text, nullable=False),
        sa.Column("authorization_endpoint", sa.Text, nullable=False),
        sa.Column("token_endpoint", sa.Text, nullable=False),
        sa.Column("jwks_uri", sa.Text, nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        sa.Column("subject_claim", sa.Text, nullable=False),
        sa.Column("require_verified_email", sa.Boolean, nullable=False, server_default=sa.true()),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post')",
            name="identity_provider_auth_method",
        ),
    )
    op.create_table(
        "external_identities",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.slug"), nullable=False),
        # The provider and claim the link was made for: a change of either leaves old links unmatched.
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("claim", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        _created_at(),
        sa.UniqueConstraint("tenant", "issuer", "claim", "subject", name="external_identity_subject"),
        sa.UniqueConstraint("tenant", "issuer", "claim", "person_id", name="external_identity_person"),
    )
    op.create_table(
        "external_sign_ins",
        # Only hashes of the state and of the browser's binding cookie are kept.
        sa.Column("state_hash", sa.Text, primary_key=True),
        sa.Column("browser_hash", sa.Text, nullable=False),
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.slug"), nullable=False),
        sa.Column("nonce", sa.Text, nullable=False),
        sa.Column("code_verifier", sa.Text, nullable=False),
        # The gateway's own authorization request, resumed once the provider has vouched.
        sa.Column("authorization_request", JSONB, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    # Set when the tenant's provider vouched for the person: the token then holds roles there only.
    op.add_column("authorization_codes", sa.Column("via_tenant", sa.Text, sa.ForeignKey("tenants.slug")))
    op.create_index("external_sign_ins_by_expiry", "external_sign_ins", ["expires_at"])
    op.execute('GRANT SELECT, INSERT, UPDATE, DELETE ON identity_providers TO "gateway_app"')
    op.execute('GRANT SELECT, INSERT, DELETE ON external_identities TO "gateway_app"')
    op.execute('GRANT SELECT, INSERT, UPDATE, DELETE ON external_sign_ins TO "gateway_app"')


def downgrade() -> None:
    op.drop_column("authorization_codes", "via_tenant")
    op.drop_table("external_sign_ins")
    op.drop_table("external_identities")
    op.drop_table("identity_providers")
