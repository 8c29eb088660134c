"""The province's deadline extensions: the whole province, a city, a county or one enterprise

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deadline_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("granted_by", sa.BigInteger(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_extensions")),
    )
    op.create_index("ix_deadline_extensions_campaign", "deadline_extensions", ["campaign"])


def downgrade() -> None:
    op.drop_index("ix_deadline_extensions_campaign", table_name="deadline_extensions")
    op.drop_table("deadline_extensions")
