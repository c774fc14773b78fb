"""Bringing subscribers in from a CSV file: the admin's own export, or a list from another
newsletter platform.

The rules that keep an import safe for readers:

- An import never sends an email. Rows the file marks as subscribed become CONFIRMED (the
  other platform, or this one, already has their consent); every other row becomes
  PENDING, which receives nothing until the reader signs up through the site and confirms.
- Someone who unsubscribed or was suppressed here is never re-subscribed by an import.
- Opt-outs in the file are carried over for new addresses, so a migration keeps them.

The file is read twice: once to refuse a broken file before anything is written, once to
import it in batches of `BATCH_SIZE` rows, so 100,000 rows take seconds and memory holds
one batch plus the set of addresses seen (for duplicates; a few MB per 100,000 rows).

The whole import is one transaction: staff see either the file applied and its report, or
an error and nothing changed, never half a list with no report (a worker killed by a
timeout rolls back too). The cost is on SQLite, whose one write lock the import holds
throughout: other writes wait for it, about 11 seconds for the largest file accepted,
inside the 20-second busy timeout. PostgreSQL locks only the addresses imported. Running
the same file again changes nothing, so a failed import is simply run again.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from broadsheet.core.bulk import insert_rows

from ..models import Subscriber, SubscriberEvent, new_token
from .reading import (
    MAX_BYTES,
    MAX_ROWS,
    ImportRefused,
    ImportReport,
    InvalidRow,
    Row,
    Status,
    check_file,
    clean_source,
    valid_rows,
)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "ImportRefused",
    "ImportReport",
    "InvalidRow",
    "import_subscribers",
]

BATCH_SIZE = 1000


def import_subscribers(
    *,
    csv_file: IO[bytes],
    source: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the subscribers listed in `csv_file` (bytes, UTF-8 CSV with a header row).

    `source` names the file in each subscriber's history. `progress`, if given, is called
    after each batch with (rows read so far, rows in the file). Raises ImportRefused, with
    a message staff can act on, for a file that cannot be imported; nothing is written then.
    """
    upload = csv_file if isinstance(csv_file, File) else File(csv_file)
    source = clean_source(source)
    total = check_file(upload)
    report = ImportReport(source=source)
    reported = 0
    now = timezone.now()
    with transaction.atomic():
        for batch in batched(valid_rows(upload, report, now=now), BATCH_SIZE):
            import_batch(batch, report=report, source=source, now=now)
            if progress:
                reported = report.rows
                progress(reported, total)
    if progress and reported < report.rows:  # invalid or repeated rows after the last batch
        progress(report.rows, total)
    return report


# Writing -----------------------------------------------------------------------------


def import_batch(rows: list[Row], *, report: ImportReport, source: str, now: datetime) -> None:
    """Apply one batch, retrying if a reader signs up with one of its addresses meanwhile.

    The batch runs in a savepoint: a sign-up committed between reading and inserting makes
    the insert fail on the unique address, and the retry then finds that address.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                counts = write_batch(rows, source=source, now=now)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        for name, count in counts.items():
            setattr(report, name, getattr(report, name) + count)
        return


def existing_subscribers(emails: list[str]) -> dict[str, Subscriber]:
    """The subscribers already here among `emails`, locked until the import commits."""
    return {
        subscriber.email: subscriber
        for subscriber in Subscriber.objects.select_for_update()
        .filter(email__in=emails)
        .only("pk", "email", "status")
    }


def write_batch(rows: list[Row], *, source: str, now: datetime) -> Counter:
    existing = existing_subscribers([row.email for row in rows])
    counts = Counter()
    new, confirmed_now = [], []
    for row in rows:
        subscriber = existing.get(row.email)
        if subscriber is None:
            new.append(row)
            counts[CREATED_COUNT.get(row.status, "created_left")] += 1
        elif subscriber.status == Status.CONFIRMED:
            counts["already_subscribed"] += 1
        elif subscriber.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
            counts["kept_left"] += 1
        elif row.status == Status.CONFIRMED:
            subscriber.status = Status.CONFIRMED
            subscriber.confirmed_at = row.since or now
            confirmed_now.append(subscriber)
            counts["confirmed_waiting"] += 1
        else:
            # Waiting here and not confirmed in the file: their own sign-up stands, and an
            # opt-out elsewhere does not undo a request they made here.
            counts["already_waiting"] += 1
    insert_rows(
        Subscriber,
        (
            "email",
            "status",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
            "suppressed_reason",
            "token",
        ),
        [subscriber_values(row, source=source, now=now) for row in new],
    )
    ids = dict(
        Subscriber.objects.filter(email__in=[row.email for row in new]).values_list("email", "pk")
    )
    Subscriber.objects.bulk_update(confirmed_now, ["status", "confirmed_at"])
    imported = str(SubscriberEvent.Kind.IMPORTED)
    insert_rows(
        SubscriberEvent,
        ("subscriber", "kind", "detail", "at"),
        [
            *(
                (ids[row.email], imported, f"from {source}, as {STATUS_NAMES[row.status]}", now)
                for row in new
            ),
            *((s.pk, imported, f"from {source}, which confirms them", now) for s in confirmed_now),
        ],
    )
    return counts


CREATED_COUNT = {Status.CONFIRMED: "created_confirmed", Status.PENDING: "created_pending"}
STATUS_NAMES = {
    Status.CONFIRMED: "subscribed",
    Status.PENDING: "waiting for confirmation",
    Status.UNSUBSCRIBED: "unsubscribed",
    Status.SUPPRESSED: "suppressed",
}


def subscriber_values(row: Row, *, source: str, now: datetime) -> tuple:
    """The new subscriber's columns, in the order `write_batch` inserts them."""
    confirmed_at = unsubscribed_at = None
    reason = ""
    if row.status == Status.CONFIRMED:
        confirmed_at = row.since or now
    elif row.status == Status.UNSUBSCRIBED:
        unsubscribed_at = row.since or now
    elif row.status == Status.SUPPRESSED:
        reason = row.suppressed_reason or f"Suppressed in {source}"
    return (row.email, str(row.status), now, confirmed_at, unsubscribed_at, reason, new_token())


def batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
