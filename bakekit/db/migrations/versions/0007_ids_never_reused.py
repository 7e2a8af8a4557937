"""a remembered bake-tracker id never comes to name another row: deleting a row sets its
remembered keys aside (entity "<table>:deleted")

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:30:00

SQLite gives a deleted row's id to the next row inserted (no AUTOINCREMENT), so an
external id remembered for the deleted row would name the new one. A trigger on each
table external ids point at (ingredients, products, suppliers, purchases, lots) moves the
row's remembered keys to the entity "<table>:deleted" when it is deleted, on both back
ends: they no longer resolve, and an import naming them is refused saying the row was
deleted.
"""

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# (":" is written "\\:" in these statements: alembic runs them as text(), where ":name"
# would be a bind parameter)
_TABLES = ('ingredients', 'products', 'suppliers', 'purchases', 'lots')
_FUNCTION = 'external_ids_set_aside'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION {_FUNCTION}() RETURNS trigger AS $$
            BEGIN
                UPDATE external_ids SET entity = TG_TABLE_NAME || '\\:deleted'
                WHERE entity = TG_TABLE_NAME AND local_id = OLD.id;
                RETURN OLD;
            END;
            $$ LANGUAGE plpgsql""")
        for table in _TABLES:
            op.execute(f"CREATE TRIGGER {_FUNCTION}_{table} AFTER DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()")
        return
    for table in _TABLES:
        op.execute(f"""
            CREATE TRIGGER {_FUNCTION}_{table} AFTER DELETE ON {table}
            BEGIN
                UPDATE external_ids SET entity = '{table}\\:deleted'
                WHERE entity = '{table}' AND local_id = OLD.id;
            END""")


def downgrade() -> None:
    for table in _TABLES:
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(f"DROP TRIGGER IF EXISTS {_FUNCTION}_{table} ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {_FUNCTION}_{table}")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
    # keys of deleted rows would name reused ids again: they go
    op.execute("DELETE FROM external_ids WHERE entity LIKE '%\\:deleted'")
