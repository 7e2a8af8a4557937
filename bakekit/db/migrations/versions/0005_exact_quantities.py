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


def downgrade() -> None:
    _alter(NEW_QUANTITY, OLD_QUANTITY, NEW_RATIO, OLD_RATIO)
