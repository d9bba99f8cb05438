"""Delete rows together with every row that references them, children first.

SQLite does not enforce foreign keys on the connections ``databases`` opens, and MySQL refuses to
delete a referenced row, so cascades are explicit. The walk follows the foreign keys declared on the
shared ``metadata``, which also covers the mind-map tables declared on it: disbanding a team removes
its mind maps without this module knowing them.
"""

from __future__ import annotations

import sqlalchemy as sa
from databases import Database

from .tables import metadata


def _referencing(table: sa.Table) -> list[tuple[sa.Table, sa.ForeignKey]]:
    return [
        (child, fk)
        for child in metadata.sorted_tables
        if child is not table
        for fk in child.foreign_keys
        if fk.column.table is table
    ]


async def delete_rows(db: Database, table: sa.Table, where: sa.ColumnElement[bool]) -> None:
    """Delete the rows of ``table`` matching ``where`` and, first, every row that references them."""
    for child, fk in _referencing(table):
        await delete_rows(db, child, fk.parent.in_(sa.select(fk.column).where(where)))
    await db.execute(sa.delete(table).where(where))
