"""kit.db.cell reads one column of a row with the value a Record gives, and refuses a value of another type."""

import datetime as dt

import pytest
import sqlalchemy as sa

from services.kit.db import cell, cell_or_none, make_database

pytestmark = pytest.mark.anyio
metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("done", sa.Boolean),
    sa.Column("at", sa.DateTime),
    sa.Column("name", sa.String(20)),
)


@pytest.fixture(name="db")
async def fx_db(tmp_path):
    database = make_database(f"sqlite:///{tmp_path / 'rows.db'}")
    await database.connect()
    for statement in sa.schema.CreateTable(items).compile(dialect=sa.dialects.sqlite.dialect()).string.split(";"):
        await database.execute(statement)
    at = dt.datetime(2026, 11, 27, 9, 30)
    await database.execute_many(
        items.insert(),
        [{"id": n, "done": n % 2 == 0, "at": at if n < 7 else None, "name": f"item {n}"} for n in range(1, 8)],
    )
    yield database
    await database.disconnect()


async def test_cells_carry_the_same_values_as_record_attributes(db):
    records = await db.fetch_all(sa.select(items).order_by(items.c.id))
    read = [
        (cell(r, "id", int), cell(r, "done", bool), cell_or_none(r, "at", dt.datetime), cell(r, "name", str))
        for r in records
    ]
    assert read == [(r.id, r.done, r.at, r.name) for r in records]
    assert read[1][1] is True and read[6][2] is None


async def test_a_cell_of_another_type_or_a_null_where_none_is_allowed_raises(db):
    row = await db.fetch_one(sa.select(items).where(items.c.id == 7))
    with pytest.raises(TypeError, match="'name' holds str, not int"):
        cell(row, "name", int)
    with pytest.raises(TypeError, match="'at' holds NoneType, not datetime"):
        cell(row, "at", dt.datetime)
    with pytest.raises(TypeError):
        cell_or_none(row, "name", int)
