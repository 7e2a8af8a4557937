"""exact storage on SQLite: quantities, money and ratios as scaled integers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:40:00

SQLite has no exact decimal type: NUMERIC columns held REAL values, so sums in SQL left
residues (1.1e-16). Each quantity (9 places), money (10) and ratio (15) column now holds
the value times 10**places as an INTEGER (bakekit.db.exact.Exact). A stored REAL is the
double nearest its value; each is rewritten (in Python) as the integer of the value
bakekit read from it (the double to the column's places): every value is kept, also the
last places of one too large for ``ROUND(col * 1e10)`` in SQL. PostgreSQL (NUMERIC) is
unchanged. The downgrade writes back the double nearest each value.
"""

from decimal import Decimal

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

QUANTITY, MONEY, RATIO = 9, 10, 15

#: table -> (column, places, nullable)
COLUMNS = {
    'ingredients': [('g_per_ml', RATIO, True)],
    'assignments': [('quantity', QUANTITY, False)],
    'finished_units': [('items_per_batch', QUANTITY, False)],
    'package_contents': [('quantity', QUANTITY, False)],
    'products': [('package_quantity', QUANTITY, False), ('price', MONEY, True)],
    'recipe_components': [('batches', QUANTITY, False)],
    'recipe_ingredients': [('quantity', QUANTITY, False)],
    'finished_good_components': [('quantity', QUANTITY, False)],
    'purchases': [('packages', QUANTITY, False), ('unit_cost', MONEY, True)],
    'runs': [('batches', QUANTITY, True), ('expected_quantity', QUANTITY, False),
             ('quantity', QUANTITY, False), ('loss', QUANTITY, False),
             ('total_cost', MONEY, True), ('per_unit_cost', MONEY, True)],
    'targets': [('quantity', QUANTITY, False)],
    'lots': [('quantity', QUANTITY, False), ('remaining', QUANTITY, False),
             ('unit_cost', MONEY, True)],
    'movements': [('quantity', QUANTITY, False), ('cost', MONEY, True)],
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _to_integer(value, places: int):
    """A stored REAL as bakekit read it (the double to ``places``, as "%.{places}f"
    rounds it), as the integer of that value times 10**places."""
    if value is None:
        return None
    text = f"{value:.{places}f}"
    return int(text.replace(".", ""))


def _to_real(value, places: int):
    """A stored integer back to the double nearest its value."""
    return None if value is None else float(Decimal(int(value)).scaleb(-places))


def _convert(table: str, columns, convert) -> None:
    """Every row's numbers rewritten in Python (``ROUND(col * 1e10)`` in SQL would lose
    the last places of a value above 2**53 / 1e10, which the REAL held)."""
    conn = op.get_bind()
    names = [column for column, _, _ in columns]
    rows = conn.exec_driver_sql(f"SELECT rowid, {', '.join(names)} FROM {table}").fetchall()
    if rows:
        conn.exec_driver_sql(
            f"UPDATE {table} SET {', '.join(f'{n} = ?' for n in names)} WHERE rowid = ?",
            [tuple(convert(v, places) for v, (_, places, _) in zip(row[1:], columns))
             + (row[0],) for row in rows])


def _retype(table: str, columns, old, new) -> None:
    """Batch mode copies the table, which drops its triggers (0007's): each is made
    again as it was."""
    conn = op.get_bind()
    triggers = [sql for (sql,) in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
        (table,)).fetchall()]
    with op.batch_alter_table(table) as batch_op:
        for column, places, nullable in columns:
            batch_op.alter_column(column, existing_type=old(places), type_=new(places),
                                  existing_nullable=nullable)
    for sql in triggers:
        conn.exec_driver_sql(sql)


def _numeric(places: int) -> sa.Numeric:
    return sa.Numeric(24, places)


def _integer(places: int) -> sa.BigInteger:
    return sa.BigInteger()


def upgrade() -> None:
    if not _sqlite():
        return
    # batch mode copies each table; the ledger's foreign keys are checked at commit
    op.execute('PRAGMA defer_foreign_keys = ON')
    for table, columns in COLUMNS.items():
        _convert(table, columns, _to_integer)
        _retype(table, columns, _numeric, _integer)


def downgrade() -> None:
    if not _sqlite():
        return
    op.execute('PRAGMA defer_foreign_keys = ON')
    for table, columns in COLUMNS.items():
        _retype(table, columns, _integer, _numeric)
        _convert(table, columns, _to_real)
