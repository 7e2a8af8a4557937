"""Stock: the items lots hold, the lots and their ledger, the FIFO walk, the lot queries.

One module per job: ``items`` (``Item`` and the one kind -> table/column map), ``lots``
(every write of a lot and of the ledger, set-based, a walk's takes included), ``fifo``
(the walk, oldest lot first: reads only), ``availability`` (stock against needs),
``queries`` (lots and movements as reads).
Areas and io use the names exported here.

>>> from bakekit import stock
>>> stock.KINDS["finished_unit"].column
'finished_unit_id'
"""

from bakekit.stock.availability import availability_rows, available
from bakekit.stock.fifo import Allocation, Take, shortfall, take, take_many
from bakekit.stock.items import (
    KINDS,
    RUN_OUTPUT,
    Item,
    Kind,
    item_of_row,
    lot_item,
    resolve_any,
    resolve_item,
)
from bakekit.stock.lots import (
    LedgerRow,
    NewLot,
    create_lot_rows,
    create_lots,
    fill_costs,
    insert_lots,
    ledger,
    new_lot,
    set_remaining,
    write_take,
)
from bakekit.stock.queries import has_stock, lots_as_of, lots_with_items, movements_frame

__all__ = [
    "KINDS", "RUN_OUTPUT", "Allocation", "Item", "Kind", "LedgerRow", "NewLot", "Take",
    "availability_rows", "available", "create_lot_rows", "create_lots", "fill_costs", "has_stock",
    "insert_lots",
    "item_of_row", "ledger", "lot_item", "lots_as_of", "lots_with_items", "movements_frame",
    "new_lot", "resolve_any", "resolve_item", "set_remaining", "shortfall", "take",
    "take_many", "write_take",
]
