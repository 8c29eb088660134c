"""The review: officials, their group chats, cards, notes, copy-paste index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:34:09.830157
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "officials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officials")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_officials_telegram_user_id")),
    )
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_officials_region_code"), ["region_code"], unique=False)

    op.create_table(
        "review_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("bound_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_chats")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_review_chats_chat_id")),
    )
    with op.batch_alter_table("review_chats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_chats_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "review_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_review_cards_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_review_cards_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cards")),
    )
    with op.batch_alter_table("review_cards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_cards_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "review_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("by", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_review_notes_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_notes")),
    )
    with op.batch_alter_table("review_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_notes_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "similarity_keys",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("city", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_keys_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("submission_id", "key", name=op.f("pk_similarity_keys")),
    )
    with op.batch_alter_table("similarity_keys", schema=None) as batch_op:
        batch_op.create_index("ix_similarity_keys_city_key", ["city", "key"], unique=False)

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("returned_level", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reopened", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("round", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("profile", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("similar", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("similar")
        batch_op.drop_column("profile")
        batch_op.drop_column("round")
        batch_op.drop_column("reopened")
        batch_op.drop_column("returned_level")
        batch_op.drop_column("status_at")

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("region_code")
        batch_op.drop_column("level")

    with op.batch_alter_table("similarity_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_similarity_keys_city_key")

    op.drop_table("similarity_keys")
    with op.batch_alter_table("review_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_notes_submission_id"))

    op.drop_table("review_notes")
    with op.batch_alter_table("review_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_cards_submission_id"))

    op.drop_table("review_cards")
    with op.batch_alter_table("review_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_chats_region_code"))

    op.drop_table("review_chats")
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officials_region_code"))

    op.drop_table("officials")
