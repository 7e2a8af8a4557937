"""the partial FIFO indexes also hold unit and remaining (stock on hand from the index)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 17:45:00

A lot with stock is found by item, date and id (FIFO order); with its unit and remaining
quantity in the same index, the stock on hand of an item is summed from the index alone
(a what-if plan sums it for every item it touches).
"""

from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ITEMS = ('ingredient', 'finished_unit', 'finished_good')
_WITH_STOCK: dict[str, Any] = {'sqlite_where': sa.text('remaining > 0'),
               'postgresql_where': sa.text('remaining > 0')}


def _recreate(extra: list[str]) -> None:
    for item in _ITEMS:
        name = f'ix_lots_fifo_{item}'
        op.drop_index(name, table_name='lots', **_WITH_STOCK)
        op.create_index(name, 'lots', [f'{item}_id', 'acquired_on', 'id', *extra],
                        unique=False, **_WITH_STOCK)


def upgrade() -> None:
    _recreate(['unit', 'remaining'])


def downgrade() -> None:
    _recreate([])
