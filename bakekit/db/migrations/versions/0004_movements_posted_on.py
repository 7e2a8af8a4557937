"""movements.posted_on: the business date of every ledger row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 11:00:00

Existing rows get the date they are about, from what the database holds: a reversal row
the date its run was reversed, a production or assembly row its run's date, a lot's first
row the lot's purchase (or acquisition) date, any other row the date it was typed in.
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _day(dialect: str, column: str) -> str:
    """SQL for the date part of a timestamp column (SQLite keeps dates as ISO text)."""
    return f"date({column})" if dialect == "sqlite" else f"CAST({column} AS DATE)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posted_on', sa.Date(), nullable=True))
    # from the most general rule to the most specific: later updates win
    op.execute(f"UPDATE movements SET posted_on = {_day(dialect, 'created_at')}")
    op.execute(
        "UPDATE movements SET posted_on = ("
        " SELECT COALESCE(p.purchased_on, l.acquired_on) FROM lots l"
        " LEFT JOIN purchases p ON p.id = l.purchase_id WHERE l.id = movements.lot_id)"
        " WHERE movements.id = (SELECT MIN(m2.id) FROM movements m2"
        " WHERE m2.lot_id = movements.lot_id)")
    op.execute(
        f"UPDATE movements SET posted_on = (SELECT {_day(dialect, 'r.produced_at')}"
        " FROM runs r WHERE r.id = movements.run_id)"
        " WHERE movements.run_id IS NOT NULL AND movements.reason <> 'reversal'")
    op.execute(
        f"UPDATE movements SET posted_on = (SELECT {_day(dialect, 'r.reversed_at')}"
        " FROM runs r WHERE r.id = movements.run_id)"
        " WHERE movements.reason = 'reversal' AND movements.run_id IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM runs r WHERE r.id = movements.run_id"
        " AND r.reversed_at IS NOT NULL)")
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.alter_column('posted_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_index(batch_op.f('ix_movements_posted_on'), ['posted_on'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movements_posted_on'))
        batch_op.drop_column('posted_on')
