"""Writing many rows at once, for the service functions that load whole registers.

A first load writes about half a million rows (names, states, relations, identifiers and a
version per entry). Django's ``bulk_create`` builds a model instance per row and compiles each
batch's SQL expression by expression, and ``bulk_update`` turns each batch into a CASE per
column: on a 2-core machine those took 40 of a load's 55 seconds. Here the statement is
written once per table and the rows are sent as plain tuples with ``executemany``, which both
SQLite and psycopg run as fast as the database accepts them. Only ``registry.services`` calls
this; values are prepared exactly as Django would store them (``get_db_prep_save``) for the
columns whose representation differs between databases (JSON, timestamps).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

CHUNK = 5000


def _sql_names(model: type[Model], fields: Sequence[str]) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    meta = model._meta
    return quote(meta.db_table), [quote(meta.get_field(name).column) for name in fields]


def prepare(model: type[Model], field: str, value: Any) -> Any:
    """A value as this database stores it in ``model.field`` (for JSON and timestamps)."""
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def insert(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table."""
    table, columns = _sql_names(model, fields)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (names from the model, values are parameters)
    return _run(sql, rows)


def update(
    model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], key: str = "id"
) -> int:
    """Set ``fields`` of the rows whose ``key`` is the last value of each row."""
    table, columns = _sql_names(model, [*fields, key])
    assignments = ", ".join(f"{column} = %s" for column in columns[:-1])
    sql = f"UPDATE {table} SET {assignments} WHERE {columns[-1]} = %s"  # noqa: S608 (names from the model, values are parameters)
    return _run(sql, rows)


def _run(sql: str, rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
