"""Reading a list of subscribers from a CSV file: the file's checks, its columns, each row.

Produces `Row`s, and records in the `ImportReport` the rows that cannot be imported, with
their line and the reason; `ImportRefused` refuses a file that cannot be read at all.
"""

import codecs
import csv
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import PurePath
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from broadsheet.core.errors import BroadsheetError

from ..models import Subscriber
from ..services import normalise

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 500_000
# A subscriber row is a few hundred characters even with every column another platform
# exports; a line far longer than this is not a subscriber list.
MAX_LINE_BYTES = 64 * 1024
INVALID_SHOWN = 100

Status = Subscriber.Status

# Header names are compared lower-cased, with spaces and hyphens read as underscores, so the
# admin's export ("Email", "Confirmed at") and hand-made files ("email", "confirmed_at")
# both work.
COLUMNS = {
    "email": {"email", "e_mail", "email_address"},
    "status": {"status"},
    "confirmed_at": {"confirmed_at"},
    "unsubscribed_at": {"unsubscribed_at"},
    "suppressed_reason": {"suppressed_reason"},
}

# The admin's export writes the stored value ("confirmed"); staff who copy the listing write
# the label ("Subscribed"). Both are read, and a few words other platforms use. Anything
# else, or nothing, means PENDING: an unknown word is never taken as consent.
STATUS_WORDS = {
    **{value: value for value in Status.values},
    **{label.lower(): value for value, label in Status.choices},
    "active": Status.CONFIRMED,
    "opted out": Status.UNSUBSCRIBED,
    "bounced": Status.SUPPRESSED,
    "cleaned": Status.SUPPRESSED,
    "complained": Status.SUPPRESSED,
}

# Cells a spreadsheet would run as a formula if the list were exported and opened again.
FORMULA_STARTS = ("=", "+", "-", "@")

address_validator = EmailValidator(allowlist=[])
MAX_ADDRESS = Subscriber._meta.get_field("email").max_length
MAX_REASON = Subscriber._meta.get_field("suppressed_reason").max_length


BINARY = "This is not a text file (it holds binary data). Export the list as CSV and import that."


class ImportRefused(BroadsheetError):
    """A file that cannot be imported at all; nothing was changed."""


class InvalidRow(NamedTuple):
    line: int
    value: str
    reason: str


@dataclass
class ImportReport:
    """What an import did, for the staff member who ran it."""

    source: str
    rows: int = 0
    created_confirmed: int = 0
    created_pending: int = 0
    created_left: int = 0  # new addresses the file lists as unsubscribed or suppressed
    confirmed_waiting: int = 0  # were waiting for confirmation here; the file confirms them
    already_subscribed: int = 0
    already_waiting: int = 0
    kept_left: int = 0  # left or suppressed here: kept that way whatever the file says
    duplicates: int = 0
    invalid_count: int = 0
    invalid: list[InvalidRow] = field(default_factory=list)  # the first INVALID_SHOWN

    @property
    def summary(self) -> str:
        parts = [
            (self.created_confirmed, "added as subscribed"),
            (self.confirmed_waiting, "waiting here, now subscribed as the file says"),
            (
                self.created_pending,
                "added as waiting (not emailed; they get nothing unless they sign up themselves)",
            ),
            (self.created_left, "added as unsubscribed or suppressed, as the file says"),
            (self.already_subscribed, "already subscribed"),
            (self.already_waiting, "already waiting for confirmation, left as they were"),
            (self.kept_left, "had left or been suppressed here and were not re-subscribed"),
            (self.duplicates, "listed more than once, counted once"),
            (self.invalid_count, "skipped as not valid"),
        ]
        counts = "; ".join(f"{count:,} {what}" for count, what in parts if count)
        rows = f"{self.rows:,} row" + ("" if self.rows == 1 else "s")
        return f"{self.source}: {rows}. {counts or 'Nothing to import'}. Nobody was emailed."

    def skip(self, line: int, value: str, reason: str) -> None:
        self.invalid_count += 1
        if len(self.invalid) < INVALID_SHOWN:
            self.invalid.append(InvalidRow(line, visible(value), reason))


class Row(NamedTuple):
    line: int
    email: str
    status: str
    since: datetime | None  # confirmed_at or unsubscribed_at, as the status calls for
    suppressed_reason: str


# Reading the file -------------------------------------------------------------------


def check_file(upload: File) -> int:
    """Refuse a file that is too big, not text or not a subscriber list; return its rows.

    Reading the whole file first means a broken line near the end is found before anything
    is written, and the progress bar knows its length.
    """
    if upload.size > MAX_BYTES:
        raise ImportRefused(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; an import takes at most "
            f"{MAX_BYTES // 1024 // 1024} MB. Split it into smaller files."
        )
    upload.seek(0)
    start = upload.read(8192)
    if start.startswith(b"PK\x03\x04"):
        raise ImportRefused(
            "This is a spreadsheet workbook (.xlsx), not a CSV file. In your spreadsheet "
            "program, save it as “CSV UTF-8” and import that."
        )
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRefused(
            "The file is saved as UTF-16 text. Save it as “CSV UTF-8” and import that."
        )
    if b"\x00" in start:
        raise ImportRefused(BINARY)
    records = read_records(upload)
    columns(next(records, None))
    rows = 0
    for _ in records:
        rows += 1
        if rows > MAX_ROWS:
            raise ImportRefused(
                f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
            )
    if not rows:
        raise ImportRefused("The file has a header row but no subscribers under it.")
    return rows


def read_records(upload: File) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) for each CSV record, header first, skipping blank lines.

    UTF-8 with or without a byte order mark; comma or semicolon, whichever the header uses
    (spreadsheets in much of Europe save with semicolons).
    """
    lines = decoded_lines(upload)
    first = next(lines, None)
    if first is None:
        raise ImportRefused("The file is empty.")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(prepend(first, lines), delimiter=delimiter)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRefused(
                f"Line {reader.line_num} could not be read as CSV ({exc}). A quotation "
                "mark that is never closed does this; check that the file is a CSV export."
            ) from exc
        if any(cell.strip() for cell in cells):
            yield line, cells
        line = reader.line_num + 1


def decoded_lines(upload: File) -> Iterator[str]:
    """The file's lines as text, each checked before the CSV reader sees it."""
    for number, raw in enumerate(upload, start=1):
        if len(raw) > MAX_LINE_BYTES:
            raise ImportRefused(
                f"Line {number} is {len(raw):,} characters long, far longer than any "
                "subscriber row. Check that this is the right file."
            )
        if b"\x00" in raw:
            raise ImportRefused(BINARY)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportRefused(
                f"Line {number} is not UTF-8 text. Save the file as “CSV UTF-8” in your "
                "spreadsheet program (not “CSV” in a local encoding) and import it again."
            ) from exc
        yield text.removeprefix("\ufeff") if number == 1 else text


def columns(header: tuple[int, list[str]] | None) -> dict[str, int]:
    """Where each known column is in the file; an email column is required."""
    if header is None:
        raise ImportRefused("The file is empty.")
    _, cells = header
    names = [cell.strip().lower().replace(" ", "_").replace("-", "_") for cell in cells]
    found = {}
    for column, aliases in COLUMNS.items():
        for index, name in enumerate(names):
            if name in aliases:
                found[column] = index
                break
    if "email" not in found:
        if any("@" in cell for cell in cells):
            raise ImportRefused(
                "The first line must name the columns, but it holds an address. Add a "
                "first line that reads: email,status"
            )
        raise ImportRefused(
            "The file has no “email” column. The first line must name the columns, "
            "with one called “email” (and optionally “status” and “confirmed_at”)."
        )
    return found


def valid_rows(upload: File, report: ImportReport, *, now: datetime) -> Iterator[Row]:
    """The rows worth importing; invalid and repeated ones are counted in `report`."""
    records = read_records(upload)
    found = columns(next(records))

    def cell(cells: list[str], column: str) -> str:
        index = found.get(column)
        return cells[index] if index is not None and index < len(cells) else ""

    # Addresses seen so far: the only state that grows with the file (about 100 bytes an
    # address), bounded by the row limit.
    seen = set()
    for line, cells in records:
        report.rows += 1
        raw = cell(cells, "email")
        email, reason = check_address(raw)
        if reason:
            report.skip(line, raw, reason)
            continue
        if email in seen:
            report.duplicates += 1
            continue
        seen.add(email)
        status = status_from(cell(cells, "status"))
        since = {Status.CONFIRMED: "confirmed_at", Status.UNSUBSCRIBED: "unsubscribed_at"}.get(
            status
        )
        yield Row(
            line=line,
            email=email,
            status=status,
            since=moment_from(cell(cells, since), now=now) if since else None,
            suppressed_reason=printable(cell(cells, "suppressed_reason"))[:MAX_REASON],
        )


def check_address(raw: str) -> tuple[str, str]:
    """(the address as stored, "") or ("", why it is refused).

    Stricter than the RFC on purpose: a line break or a control character is how a header
    is smuggled into a message, a quoted local part can carry both, and a cell starting
    with "=" is a formula when the list is next opened in a spreadsheet.
    """
    value = raw.strip(" \t")
    if not value:
        return "", "no address"
    if "\r" in value or "\n" in value:
        return "", "contains a line break"
    if not value.isprintable():
        return "", "contains a control or invisible character"
    if len(value) > MAX_ADDRESS:
        return "", f"longer than {MAX_ADDRESS} characters"
    if value.startswith(FORMULA_STARTS):
        return "", "starts with a character spreadsheets read as a formula"
    if any(char in value for char in '"<>,;() \\'):
        return "", "not a plain email address (quotes, brackets, spaces or several addresses)"
    email = normalise(value)
    try:
        address_validator(email)
    except ValidationError:
        return "", "not a valid email address"
    return email, ""


def status_from(cell: str) -> str:
    return STATUS_WORDS.get(" ".join(cell.lower().split()), Status.PENDING)


def moment_from(cell: str, *, now: datetime) -> datetime | None:
    """A date or date and time from the file, or None if blank or unreadable.

    A time without a zone is the newsroom's; a moment in the future is taken as now.
    """
    cell = cell.strip()
    try:
        moment = parse_datetime(cell)
        if moment is None and (day := parse_date(cell)):
            moment = datetime.combine(day, time())
    except ValueError:  # well-formed but impossible, such as 2024-02-30
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return min(moment, now)


def printable(text: str) -> str:
    if not text.isprintable():
        text = "".join(char for char in text if unicodedata.category(char)[0] != "C")
    return text.strip()


def visible(value: str) -> str:
    """A refused cell as staff can read it: control characters shown as escapes, cut short."""
    shown = "".join(
        char if unicodedata.category(char)[0] != "C" else repr(char)[1:-1] for char in value
    )
    return shown if len(shown) <= 80 else shown[:79] + "…"


def clean_source(source: str) -> str:
    name = printable(PurePath(source.replace("\\", "/")).name) or "an unnamed file"
    return name[:100]


def prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
