"""``db.dialect.insert_many``, ``execute_many`` and ``fetch`` hand the driver rows they
built themselves (the columns' own bind and result processors and Python-side defaults):
what they store and read must be exactly what Core stores and reads, on both backends."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bakekit.db.dialect import execute_many, insert_many, insert_returning, is_postgresql

_counter = itertools.count(1)


def _probe() -> sa.Table:
    """A table with every kind of column bakekit has: bind processors (Date, DateTime,
    Numeric, Boolean) and scalar and callable Python-side defaults."""
    return sa.Table(
        "insert_many_probe", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch", sa.String(8), nullable=False),
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("at", sa.DateTime),
        sa.Column("amount", sa.Numeric(24, 9), nullable=False),
        sa.Column("flag", sa.Boolean, nullable=False, default=False),
        sa.Column("status", sa.String(16), nullable=False, default="pending"),
        sa.Column("serial", sa.Integer, nullable=False, default=lambda: next(_counter)),
        sa.Column("notes", sa.Text),
    )


ROWS = [
    {"on": dt.date(2024, 12, 1), "at": dt.datetime(2024, 12, 1, 8, 30, 0, 123456),
     "amount": Decimal("1.125000000"), "flag": True, "notes": "first"},
    {"on": dt.date(2025, 1, 31), "at": None, "amount": Decimal("0.333333333"),
     "flag": False, "notes": None},
    {"on": dt.date(2025, 2, 28), "at": dt.datetime(2025, 2, 28, 23, 59, 59),
     "amount": Decimal("12345678.5"), "flag": True, "notes": "x" * 300},
]

COMPARED = ("on", "at", "amount", "flag", "status", "notes")


def test_insert_many_stores_what_core_executemany_stores(bakery):
    probe = _probe()
    with bakery.session() as ws:
        conn = ws.connection
        probe.create(conn)
        conn.execute(sa.insert(probe), [{**r, "batch": "core"} for r in ROWS])
        insert_many(conn, probe, [{**r, "batch": "ours"} for r in ROWS])
        got = {b: conn.execute(sa.select(*(probe.c[c] for c in COMPARED))
                               .where(probe.c.batch == b).order_by(probe.c.id)).all()
               for b in ("core", "ours")}
        assert got["ours"] == got["core"]
        assert [tuple(r) for r in got["ours"]][0][:4] == (
            dt.date(2024, 12, 1), dt.datetime(2024, 12, 1, 8, 30, 0, 123456),
            Decimal("1.125000000"), True)
        assert {r.status for r in got["ours"]} == {"pending"}  # the scalar default
        serials = conn.execute(sa.select(probe.c.serial).where(probe.c.batch == "ours")
                               ).scalars().all()
        assert len(set(serials)) == len(ROWS)  # the callable default, called once a row
        if not is_postgresql(conn):  # the same storage classes, not only equal values
            kinds = "typeof(\"on\"), typeof(at), typeof(amount), typeof(flag), typeof(notes)"
            stored = {b: conn.execute(sa.text(f"SELECT {kinds}, \"on\", at, amount, flag "
                                           "FROM insert_many_probe WHERE batch = :b "
                                           "ORDER BY id"), {"b": b}).all()
                      for b in ("core", "ours")}
            assert stored["ours"] == stored["core"]
        ws.rollback()


def test_insert_many_names_an_unknown_column(bakery):
    probe = _probe()
    with bakery.session() as ws:
        probe.create(ws.connection)
        with pytest.raises(Exception, match="nope"):
            insert_many(ws.connection, probe, [{**r, "batch": "b", "nope": 1} for r in ROWS])
        ws.rollback()


def test_execute_many_updates_as_core_executemany_does(bakery):
    probe = _probe()
    stmt = (sa.update(probe).where(probe.c.id == sa.bindparam("b_id"))
            .values(on=sa.bindparam("b_on"), at=sa.bindparam("b_at"),
                    amount=sa.bindparam("b_amount"), flag=sa.bindparam("b_flag")))
    changes = [{"b_on": dt.date(2026, 1, 2), "b_at": dt.datetime(2026, 1, 2, 3, 4, 5, 6),
                "b_amount": Decimal("7.25"), "b_flag": False},
               {"b_on": dt.date(2026, 1, 2), "b_at": None, "b_amount": Decimal("0.000000001"),
                "b_flag": True},
               {"b_on": dt.date(2026, 3, 1), "b_at": dt.datetime(2026, 1, 2, 3, 4, 5, 6),
                "b_amount": Decimal("-1"), "b_flag": True}]
    with bakery.session() as ws:
        conn = ws.connection
        probe.create(conn)
        for batch in ("core", "ours"):
            insert_many(conn, probe, [{**r, "batch": batch} for r in ROWS])
        ids = {b: conn.execute(sa.select(probe.c.id).where(probe.c.batch == b)
                               .order_by(probe.c.id)).scalars().all() for b in ("core", "ours")}
        conn.execute(stmt, [{**c, "b_id": i} for c, i in zip(changes, ids["core"], strict=True)])
        execute_many(conn, stmt, [{**c, "b_id": i} for c, i in zip(changes, ids["ours"],
                                                                    strict=True)])
        got = {b: conn.execute(sa.select(*(probe.c[c] for c in COMPARED))
                               .where(probe.c.batch == b).order_by(probe.c.id)).all()
               for b in ("core", "ours")}
        assert got["ours"] == got["core"]
        assert got["ours"][1][:4] == (dt.date(2026, 1, 2), None, Decimal("0.000000001"), True)
        ws.rollback()


def test_execute_many_binds_the_values_a_statement_holds_itself(bakery):
    """A prebuilt statement with a literal (``status == "pending"``) needs that value bound
    too: the driver gets it with every row."""
    probe = _probe()
    stmt = (sa.update(probe).where(probe.c.id == sa.bindparam("b_id"),
                                   probe.c.status == "pending")
            .values(notes=sa.bindparam("b_notes")))
    with bakery.session() as ws:
        conn = ws.connection
        probe.create(conn)
        insert_many(conn, probe, [{**r, "batch": "b"} for r in ROWS])
        ids = conn.execute(sa.select(probe.c.id).order_by(probe.c.id)).scalars().all()
        conn.execute(sa.update(probe).where(probe.c.id == ids[2]).values(status="done"))
        execute_many(conn, stmt, [{"b_id": i, "b_notes": f"n{i}"} for i in ids])
        notes = conn.execute(sa.select(probe.c.notes).order_by(probe.c.id)).scalars().all()
        assert notes == [f"n{ids[0]}", f"n{ids[1]}", ROWS[2]["notes"]]  # the third not pending
        ws.rollback()


def test_insert_returning_stores_and_returns_what_core_does(bakery):
    probe = _probe()
    # the last column holds a value of its own (a Decimal the driver takes only converted)
    stmt = sa.insert(probe).returning(probe.c.id, probe.c.batch, probe.c.on, probe.c.amount,
                                      probe.c.status, probe.c.amount > Decimal("1"))
    with bakery.session() as ws:
        conn = ws.connection
        probe.create(conn)
        core = conn.execute(stmt, [{**r, "batch": "core"} for r in ROWS]).all()
        ours = insert_returning(conn, stmt, [{**r, "batch": "ours"} for r in ROWS])
        assert len(ours) == len(ROWS)
        assert sorted(r[2:] for r in ours) == sorted(tuple(r)[2:] for r in core)
        assert {r[1] for r in ours} == {"ours"}
        assert sorted(bool(r[5]) for r in ours) == [False, True, True]
        got = {b: conn.execute(sa.select(*(probe.c[c] for c in COMPARED))
                               .where(probe.c.batch == b).order_by(probe.c.id)).all()
               for b in ("core", "ours")}
        assert got["ours"] == got["core"]
        ws.rollback()


def test_insert_many_converts_equal_values_that_print_differently_one_by_one(bakery):
    """Equal values are converted once only where equal means alike: two equal Decimals
    and two equal instants in different zones keep what Core stores for each."""
    probe = _probe()
    zone = dt.timezone(dt.timedelta(hours=-5))
    at = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
    rows = [{**ROWS[0], "at": at, "amount": Decimal("1.10")},
            {**ROWS[0], "at": at.astimezone(zone), "amount": Decimal("1.1")}]
    with bakery.session() as ws:
        conn = ws.connection
        probe.create(conn)
        conn.execute(sa.insert(probe), [{**r, "batch": "core"} for r in rows])
        insert_many(conn, probe, [{**r, "batch": "ours"} for r in rows])
        got = {b: conn.execute(sa.select(sa.cast(probe.c.at, sa.String), probe.c.amount)
                               .where(probe.c.batch == b).order_by(probe.c.id)).all()
               for b in ("core", "ours")}
        assert got["ours"] == got["core"]
        ws.rollback()


def test_fetch_returns_what_core_returns(bakery, monkeypatch):
    """``fetch`` of a SELECT with an expanding list, a bound value and a literal: the rows
    Core gives, as tuples, for lists of every length (each length's SQL kept apart, an
    empty list, a list longer than it renders itself), repeated values and zeros."""
    from bakekit.db import dialect

    probe = _probe()
    rows = [*ROWS, *ROWS, {"on": dt.date(2025, 3, 1), "at": None, "amount": Decimal("-0.0"),
                           "flag": False, "notes": "zero"},
            {"on": dt.date(2025, 3, 2), "at": None, "amount": Decimal("0"), "flag": True,
             "notes": None}]
    stmt = (sa.select(probe.c.id, *(probe.c[c] for c in COMPARED),
                      (probe.c.amount * 2).label("twice"))
            .where(probe.c.id.in_(sa.bindparam("ids", expanding=True)),
                   probe.c.batch == "core", probe.c.on >= sa.bindparam("since"))
            .order_by(probe.c.id))
    with bakery.session() as ws:
        conn = ws.connection
        probe.create(conn)
        insert_many(conn, probe, [{**r, "batch": "core"} for r in rows])
        insert_many(conn, probe, [{**r, "batch": "other"} for r in rows])
        ids = conn.execute(sa.select(probe.c.id).order_by(probe.c.id)).scalars().all()
        for wanted in ([], ids[:1], ids[:3], ids, ids[:3], ids[::2]):
            params = {"ids": wanted, "since": dt.date(2024, 1, 1)}
            got = dialect.fetch(conn, stmt, params)
            assert got == [tuple(r) for r in conn.execute(stmt, params).all()], wanted
            assert all(type(r) is tuple for r in got)
        assert len(dialect.fetch(conn, stmt, {"ids": ids, "since": dt.date(2024, 1, 1)})
                   ) == len(rows)
        monkeypatch.setattr(dialect, "FETCH_MOST_LISTED", 2)  # longer lists: through Core
        params = {"ids": ids, "since": dt.date(2025, 1, 1)}
        assert dialect.fetch(conn, stmt, params) == [
            tuple(r) for r in conn.execute(stmt, params).all()]
        ws.rollback()


def test_fetch_fires_the_statement_events(bakery):
    """A fetch is a statement like any other: counted, and a fault injected there fails it."""
    from bakekit.db.dialect import fetch
    from tests.support.atomic import counting

    probe = _probe()
    stmt = sa.select(probe.c.id).where(probe.c.id.in_(sa.bindparam("ids", expanding=True)))
    with bakery.session() as ws:
        probe.create(ws.connection)
        with counting(bakery) as counts:
            assert fetch(ws.connection, stmt, {"ids": [1, 2]}) == []
        assert len(counts.statements) == 1 and "insert_many_probe" in counts.statements[0]
        ws.rollback()


def test_fetch_keeps_the_sql_of_a_few_list_lengths(bakery, monkeypatch):
    """Each list length's SQL is kept, up to a bound (the oldest length goes first); a
    length rendered again reads as before."""
    from bakekit.db import dialect

    if bakery.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL reads through Core: nothing is kept")
    probe = _probe()
    stmt = sa.select(probe.c.id).where(probe.c.id.in_(sa.bindparam("ids", expanding=True)))
    monkeypatch.setattr(dialect, "_FETCH_LENGTHS_KEPT", 2)
    with bakery.session() as ws:
        conn = ws.connection
        probe.create(conn)
        insert_many(conn, probe, [{**r, "batch": "x"} for r in ROWS])
        for wanted in ([1], [1, 2], [1, 2, 3], [1], [2, 3]):
            assert dialect.fetch(conn, stmt, {"ids": wanted}) == [(i,) for i in wanted]
        form = dialect._READS[(type(conn.dialect), stmt, "read")]
        assert sorted(form.sql) == [(1,), (2,)]  # the last two lengths read
        ws.rollback()
