"""external ids: the bake-tracker ids and uuids that imports and reconciliations remembered

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('external_ids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('uuid', sa.String(length=100), nullable=True),
    sa.Column('local_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_ids'))
    )
    with op.batch_alter_table('external_ids', schema=None) as batch_op:
        batch_op.create_index('ix_external_ids_lookup', ['source', 'entity', 'external_id'],
                              unique=False)
        batch_op.create_index('ix_external_ids_uuid', ['source', 'entity', 'uuid'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('external_ids', schema=None) as batch_op:
        batch_op.drop_index('ix_external_ids_uuid')
        batch_op.drop_index('ix_external_ids_lookup')
    op.drop_table('external_ids')
