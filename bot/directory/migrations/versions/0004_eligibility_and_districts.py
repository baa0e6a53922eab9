"""eligibility (groups, ages) on services; districts on cities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minimum_age", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("maximum_age", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("eligible_groups", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("city", schema=None) as batch_op:
        batch_op.add_column(sa.Column("districts", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("city", schema=None) as batch_op:
        batch_op.drop_column("districts")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("eligible_groups")
        batch_op.drop_column("maximum_age")
        batch_op.drop_column("minimum_age")
