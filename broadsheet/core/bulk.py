"""Writing many rows at once with the database's fastest plain statement."""

from datetime import datetime

from django.db import connection, models


def insert_rows(model: type[models.Model], names: tuple[str, ...], rows: list[tuple]) -> None:
    """Write `rows` (values in the order of `names`) with the database's fastest plain
    statement, instead of bulk_create.

    Measured on 100,000 subscribers: bulk_create, which runs every value through its field,
    took 10 of the import's 14 seconds on SQLite, where a multi-row INSERT of the same clean
    values takes 2. On PostgreSQL, psycopg binds parameters client-side and quoting large
    INSERTs costs as much as bulk_create; COPY takes a quarter of the time. Columns left
    out (`confirmation_sent_at`) must be nullable.
    """
    if not rows:
        return
    ops = connection.ops
    fields = [model._meta.get_field(name) for name in names]
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's cursor leaves copy() to psycopg, so its errors are translated here
            # (the retry in import_batch expects Django's IntegrityError).
            with (
                connection.wrap_database_errors,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        size = max(ops.bulk_batch_size(fields, rows), 1)  # SQLite caps the parameters
        head = f"INSERT INTO {table} ({columns}) VALUES "
        row_sql = f"({', '.join(['%s'] * len(fields))})"
        adapt = ops.adapt_datetimefield_value
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            cursor.execute(
                head + ", ".join([row_sql] * len(chunk)),
                [adapt(v) if isinstance(v, datetime) else v for row in chunk for v in row],
            )
