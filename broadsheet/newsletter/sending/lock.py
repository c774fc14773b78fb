"""One sender per issue at a time, and a lock that dies with its process."""

import fcntl
import zlib
from contextlib import contextmanager

from django.conf import settings
from django.db import connection as db

from broadsheet.core.errors import BroadsheetError

from ..models import DailyIssue


class SendingInProgress(BroadsheetError):
    """Another process is sending this issue."""


@contextmanager
def issue_lock(issue: DailyIssue):
    """Hold the right to send `issue` for as long as this process lives.

    PostgreSQL: a session advisory lock, released by the server when the process's
    connection dies. SQLite (one machine by definition): an flock on a file, released by
    the kernel when the process dies. Neither needs the lease timeouts that would make a
    resume after a crash wait.
    """
    if db.vendor == "postgresql":
        key = zlib.crc32(b"broadsheet.newsletter") << 20 | issue.pk
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if not cursor.fetchone()[0]:
                raise SendingInProgress(f"{issue} is already being sent by another process.")
        try:
            yield
        finally:
            with db.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    locks = settings.VAR_DIR / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"newsletter-issue-{issue.pk}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SendingInProgress(f"{issue} is already being sent by another process.") from None
        yield
