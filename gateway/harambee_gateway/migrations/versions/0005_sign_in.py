"""People sign in: public clients with redirect URIs, second factors, authorization codes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("client_type", sa.Text, nullable=False, server_default="confidential"))
    op.create_check_constraint("client_type", "clients", "client_type IN ('confidential', 'public')")
    op.add_column("clients", sa.Column("redirect_uris", ARRAY(sa.Text), nullable=False, server_default="{}"))
    op.add_column("clients", sa.Column("allowed_scopes", ARRAY(sa.Text), nullable=False, server_default="{}"))
    # A public client (a single-page app) has no secret; PKCE stands in for it.
    op.alter_column("clients", "secret_hash", nullable=True)
    op.create_check_constraint(
        "client_secret", "clients", "(client_type = 'public') = (secret_hash IS NULL)"
    )

    op.add_column("people", sa.Column("totp_secret", sa.Text))
    op.add_column("people", sa.Column("totp_last_step", sa.BigInteger))
    op.add_column("people", sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"))
    op.add_column("people", sa.Column("locked_until", sa.DateTime(timezone=True)))

    op.create_table(
        "authorization_codes",
        # Only a hash of the code is kept: a database reader cannot redeem one.
        sa.Column("code_hash", sa.Text, primary_key=True),
        sa.Column("client_id", sa.Text, sa.ForeignKey("clients.client_id"), nullable=False),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("code_challenge", sa.Text, nullable=False),
        sa.Column("code_challenge_method", sa.Text, nullable=False),
        sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amr", ARRAY(sa.Text), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("code_challenge_method = 'S256'", name="pkce_s256"),
    )
    op.execute('GRANT SELECT, INSERT, UPDATE ON authorization_codes TO "gateway_app"')


def downgrade() -> None:
    op.drop_table("authorization_codes")
    for column in ("locked_until", "failed_sign_ins", "totp_last_step", "totp_secret"):
        op.drop_column("people", column)
    op.drop_constraint("client_secret", "clients")
    op.alter_column("clients", "secret_hash", nullable=False)
    for column in ("allowed_scopes", "redirect_uris", "client_type"):
        op.drop_column("clients", column)
