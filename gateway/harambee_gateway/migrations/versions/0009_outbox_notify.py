"""The outbox wakes the relay: each INSERT NOTIFYs it, at commit, instead of the relay polling.

Revision ID: 0009
"""

from harambee_common.migrations import drop_notify_outbox, notify_outbox

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    notify_outbox()


def downgrade() -> None:
    drop_notify_outbox()
