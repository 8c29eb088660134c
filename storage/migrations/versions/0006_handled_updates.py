"""Updates already applied, so one delivered again is not applied twice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handled_updates",
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_handled_updates")),
    )
    op.create_index(op.f("ix_handled_updates_at"), "handled_updates", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_handled_updates_at"), table_name="handled_updates")
    op.drop_table("handled_updates")
