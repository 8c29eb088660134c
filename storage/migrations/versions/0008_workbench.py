"""The officials' workbench: what each waiting form needs a look for (weak rules fired, copies
flagged, fields changed on a resubmission to the level that returned it), sorted and filtered in
the query; and the day the enterprise was last reminded of a returned form (催办)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Forms submitted before this revision have no warnings count: the workbench reckons it
    # (services.workbench) the first time it lists them.
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("warnings", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("copies", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("changed", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("nudged_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        for column in ("nudged_on", "changed", "copies", "warnings"):
            batch.drop_column(column)
