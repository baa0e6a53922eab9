"""city emergency numbers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:45:00

Cities already in the database get an empty list (not known: the handoff answer gives
112); loading their data file again fills it.

`recreate="never"`: on SQLite both steps are a plain ALTER TABLE. Batch mode would otherwise
copy `city` into a new table and drop the old one, and with foreign keys on, dropping
`city` deletes every organisation and service (ON DELETE CASCADE). A plain-text server
default ("[]", not sa.text) is what lets SQLite add the column in place.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("city", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("emergency_numbers", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("city", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("emergency_numbers")
