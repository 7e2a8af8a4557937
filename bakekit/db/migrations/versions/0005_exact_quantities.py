"""exact quantities: quantities kept to 9 places, densities to 15

Quantities (lots, ledger, recipes, runs, events) go from Numeric(20, 6) to Numeric(24, 9)
and densities (ingredients.g_per_ml) from Numeric(24, 10) to Numeric(24, 15), so that
unit conversions and many small takes do not drift (see bakekit/units.py).

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OLD_QUANTITY = sa.Numeric(precision=20, scale=6)
NEW_QUANTITY = sa.Numeric(precision=24, scale=9)
OLD_RATIO = sa.Numeric(precision=24, scale=10)
NEW_RATIO = sa.Numeric(precision=24, scale=15)

#: table -> quantity columns (nullable or not)
QUANTITIES = {
    'assignments': [('quantity', False)],
    'finished_units': [('items_per_batch', False)],
    'package_contents': [('quantity', False)],
    'products': [('package_quantity', False)],
    'recipe_components': [('batches', False)],
    'recipe_ingredients': [('quantity', False)],
    'finished_good_components': [('quantity', False)],
    'purchases': [('packages', False)],
    'runs': [('batches', True), ('expected_quantity', False), ('quantity', False),
             ('loss', False)],
    'targets': [('quantity', False)],
    'lots': [('quantity', False), ('remaining', False)],
    'movements': [('quantity', False)],
}


def _alter(old_q: sa.Numeric, new_q: sa.Numeric, old_r: sa.Numeric,
           new_r: sa.Numeric) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # batch mode copies each table; the ledger's foreign keys are checked at commit
        op.execute('PRAGMA defer_foreign_keys = ON')
    with op.batch_alter_table('ingredients') as batch_op:
        batch_op.alter_column('g_per_ml', existing_type=old_r, type_=new_r,
                              existing_nullable=True)
    for name, columns in QUANTITIES.items():
        with op.batch_alter_table(name) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, existing_type=old_q, type_=new_q,
                                      existing_nullable=nullable)


def upgrade() -> None:
    _alter(OLD_QUANTITY, NEW_QUANTITY, OLD_RATIO, NEW_RATIO)


def _unfit(table: str, column: str, precision: int,
           scale: int) -> tuple[int, object, object] | None:
    """How many values of ``table.column`` the old type would round or not hold, with the
    first one and its row id; None when every value fits."""
    col = sa.column(column, sa.Numeric())
    ident = sa.column('id', sa.Integer())
    limit = sa.literal(10 ** (precision - scale), sa.Numeric())
    unfit = sa.or_(col != sa.func.round(col, scale), sa.func.abs(col) >= limit)
    source = sa.table(table, col, ident)
    conn = op.get_bind()
    count = conn.execute(sa.select(sa.func.count()).select_from(source).where(unfit)).scalar()
    if not count:
        return None
    first = conn.execute(sa.select(ident, col).select_from(source).where(unfit)
                         .order_by(ident).limit(1)).one()
    return count, first[0], first[1]


def downgrade() -> None:
    """Refused where a value has more places than the old columns keep,
    or is too large for them: PostgreSQL would round it (SQLite keeps what it stores)."""
    if op.get_bind().dialect.name != 'sqlite':
        checks = [('ingredients', 'g_per_ml', 24, 10)] + [
            (table, column, 20, 6)
            for table, columns in QUANTITIES.items() for column, _ in columns]
        for table, column, precision, scale in checks:
            unfit = _unfit(table, column, precision, scale)
            if unfit is not None:
                from bakekit.errors import SchemaVersionError

                count, row, value = unfit
                raise SchemaVersionError(
                    f"cannot downgrade below revision 0005: {table}.{column} holds {count} "
                    f"value(s) that revision 0004 (Numeric({precision}, {scale})) "
                    f"would round or cannot hold, first {value} (id {row}); the downgrade "
                    "was refused (its transaction rolls back)")
    _alter(NEW_QUANTITY, OLD_QUANTITY, NEW_RATIO, OLD_RATIO)
