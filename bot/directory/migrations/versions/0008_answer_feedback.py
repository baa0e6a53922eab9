"""answer feedback

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("city_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("answer_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_answer_feedback_city_week", ["city_id", "week"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_feedback_city_week")
    op.drop_table("answer_feedback")
