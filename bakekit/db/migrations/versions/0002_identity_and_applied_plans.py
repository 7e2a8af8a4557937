"""database identity and applied plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:00:00

The database gets its identity here, once: a new database and an existing one alike (the
row is filled in by this migration), and later migrations keep it.
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    identity = op.create_table(
        'bakery_identity',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('database_id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_bakery_identity_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bakery_identity')),
    )
    op.create_table(
        'applied_plans',
        sa.Column('plan_id', sa.String(length=36), nullable=False),
        sa.Column('applied_at', sa.DateTime(), nullable=False),
        sa.Column('operations', sa.Integer(), nullable=False),
        sa.Column('ledger_rows', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_applied_plans')),
    )
    op.bulk_insert(identity, [{
        'id': 1, 'database_id': str(uuid.uuid4()),
        'created_at': datetime.now(UTC).replace(tzinfo=None),
    }])


def downgrade() -> None:
    op.drop_table('applied_plans')
    op.drop_table('bakery_identity')
