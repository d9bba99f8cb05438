"""kit.db.plain reads rows once with the values Records give; kit.responses.page_total skips the COUNT
when the page itself ends the list."""

import datetime as dt

import pytest
import sqlalchemy as sa

from services.kit.db import make_database, plain
from services.kit.responses import PageQuery, page_total

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
        items.insert(), [{"id": n, "done": n % 2 == 0, "at": at, "name": f"item {n}"} for n in range(1, 8)]
    )
    yield database
    await database.disconnect()


class CountingDatabase:
    """The database, counting the COUNT queries page_total asks."""

    def __init__(self, db):
        self.db, self.counts = db, 0

    async def fetch_val(self, query):
        self.counts += 1
        return await self.db.fetch_val(query)


async def test_plain_rows_carry_the_same_values_as_records(db):
    records = await db.fetch_all(sa.select(items).order_by(items.c.id))
    rows = plain(records)
    assert [(r.id, r.done, r.at, r.name) for r in rows] == [(r.id, r.done, r.at, r.name) for r in records]
    assert rows[1].done is True and isinstance(rows[0].at, dt.datetime)
    assert plain([]) == []


@pytest.mark.parametrize(("page", "page_size", "counts"), [(1, 20, 0), (2, 5, 0), (1, 7, 1), (1, 5, 1), (3, 5, 1)])
async def test_the_total_is_right_and_counted_only_when_the_page_cannot_tell(db, page, page_size, counts):
    query = PageQuery(page=page, page_size=page_size)
    rows = await db.fetch_all(sa.select(items).order_by(items.c.id).limit(query.page_size).offset(query.offset))
    counting = CountingDatabase(db)
    total = await page_total(counting, sa.select(sa.func.count()).select_from(items), rows=rows, query=query)
    assert (total, counting.counts) == (7, counts)
