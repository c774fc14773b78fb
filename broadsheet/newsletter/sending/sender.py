"""The run: starting an issue, then sending its waiting deliveries over one or more
connections, each message claimed in the commit before the server gets its final "."."""

import logging
import smtplib
import threading
import time as clock
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection as db
from django.db import connections, transaction
from django.db.models import Q
from django.db.models.functions import Mod
from django.utils import timezone

from broadsheet.core.errors import BroadsheetError

from .. import services
from ..models import DailyIssue, Delivery, Subscriber
from .failures import CONNECTION, FATAL, PERMANENT, classify
from .lock import issue_lock
from .messages import (
    MessageTemplate,
    message_for,
    newsletter_connection,
    sender_address,
    unsubscribe_prefix,
)
from .report import SendReport, report_for
from .start import start_issue

logger = logging.getLogger(__name__)

BATCH = 500  # rows read at a time: memory stays flat however many subscribers


class SendingStopped(BroadsheetError):
    """The run cannot go on (mail server away or refusing everything); the next one resumes."""


# Sending ------------------------------------------------------------------------------


@dataclass
class Run:
    """What the connections sending one issue share: the issue's ready-made message and
    the running counts (kept under a lock: each connection sends from its own thread)."""

    issue: DailyIssue
    progress: Callable[[SendReport], None] | None
    counts: Counter
    from_email: str
    template: "MessageTemplate | None"
    unsubscribe_prefix: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_progress: float = 0.0

    @classmethod
    def start(cls, issue: DailyIssue, *, progress=None) -> "Run":
        from_email = sender_address()
        return cls(
            issue=issue,
            progress=progress,
            counts=issue.delivery_counts(),
            from_email=from_email,
            template=MessageTemplate.build(issue, from_email=from_email),
            unsubscribe_prefix=unsubscribe_prefix(),
        )

    def move(self, was: str, now: str) -> None:
        with self.lock:
            self.counts[was] -= 1
            self.counts[now] += 1

    def report_progress(self, *, force=False) -> None:
        if self.progress is None:
            return
        with self.lock:
            moment = clock.monotonic()
            if not force and moment - self.last_progress < 0.5:
                return
            self.last_progress = moment
            self.progress(SendReport(issue=self.issue, counts=Counter(self.counts)))


class Sender:
    """One connection's share of a run: the waiting deliveries whose id modulo `parts`
    is `part`, sent over one reused connection."""

    def __init__(self, run: Run, *, part: int = 0, parts: int = 1):
        self.run = run
        self.issue = run.issue
        self.part, self.parts = part, parts
        self.connection = newsletter_connection()
        self.hands_over = getattr(self.connection, "hands_over", False)
        self.opened = False
        self.sent_since_open = 0
        self.accepted: list[int] = []  # sent, to be marked so in the next commit
        self.refusals_in_a_row = 0

    # Bookkeeping: one commit per message, and no more.

    def claim(self, row: Delivery) -> None:
        """Mark `row` handed over, and the messages accepted since, in one commit."""
        # Plain SQL: this runs once per message, and building the ORM's UPDATE took
        # nine tenths of its cost (bench/README.md).
        with transaction.atomic(), db.cursor() as cursor:
            self.flush_accepted(cursor)
            cursor.execute(
                f"UPDATE {Delivery._meta.db_table} SET status = %s, attempts = %s "
                "WHERE id = %s AND status IN (%s, %s)",
                [
                    Delivery.Status.UNCONFIRMED,
                    row.attempts + 1,
                    row.pk,
                    Delivery.Status.PENDING,
                    Delivery.Status.RETRY,
                ],
            )
            claimed = cursor.rowcount
        if not claimed:
            raise SendingStopped(f"Delivery {row.pk} was taken by another process.")
        row.attempts += 1
        self.move(row, Delivery.Status.UNCONFIRMED)

    def flush_accepted(self, cursor=None) -> None:
        if not self.accepted:
            return
        if cursor is None:
            with db.cursor() as cursor:
                return self.flush_accepted(cursor)
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET status = %s, sent_at = %s "
            f"WHERE id IN ({', '.join(['%s'] * len(self.accepted))})",
            [
                Delivery.Status.SENT,
                db.ops.adapt_datetimefield_value(timezone.now()),
                *self.accepted,
            ],
        )
        self.accepted = []

    def move(self, row: Delivery, status: str) -> None:
        self.run.move(row.status, status)
        row.status = status

    def settle(self, row: Delivery, status: str, *, error="", retry_at=None) -> None:
        with transaction.atomic():
            self.flush_accepted()
            Delivery.objects.filter(pk=row.pk).update(
                status=status, error=error[:300], retry_at=retry_at, attempts=row.attempts
            )
        self.move(row, status)

    # The run.

    def send_part(self) -> str:
        """Send this part's waiting deliveries; returns why it stopped early, if it did."""
        try:
            self.send_waiting()
        except SendingStopped as exc:
            logger.warning("%s: sending stopped: %s", self.issue, exc.message)
            return exc.message
        finally:
            with transaction.atomic():
                self.flush_accepted()
            self.close()
        return ""

    def waiting_rows(self):
        """This part's rows due now, a batch at a time in id order (keyset, never OFFSET)."""
        due = Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING)
            | Q(status=Delivery.Status.RETRY, retry_at__lte=timezone.now()),
            issue=self.issue,
        )
        if self.parts > 1:
            due = due.alias(part=Mod("id", self.parts)).filter(part=self.part)
        due = (
            due.select_related("subscriber")
            .only(
                "pk",
                "status",
                "attempts",
                "subscriber__email",
                "subscriber__status",
                "subscriber__token",
            )
            .order_by("pk")
        )
        last = 0
        while True:
            rows = list(due.filter(pk__gt=last)[:BATCH])
            if not rows:
                return
            yield from rows
            last = rows[-1].pk

    def send_waiting(self) -> None:
        for row in self.waiting_rows():
            if row.subscriber.status != Subscriber.Status.CONFIRMED:
                # Left (or bounced elsewhere) since the issue started: not theirs any more.
                self.settle(row, Delivery.Status.SKIPPED, error=row.subscriber.status)
            else:
                self.send_one(row)
            self.run.report_progress()

    def send_one(self, row: Delivery) -> None:
        reconnect_delays = list(settings.BROADSHEET_NEWSLETTER_RECONNECT_DELAYS)
        while True:
            handed_over = False

            def hand_over():
                nonlocal handed_over
                try:
                    self.claim(row)
                except BaseException:
                    # Mid-DATA the only safe way out is to drop the line: the server then
                    # discards the unfinished message instead of reading whatever comes
                    # next as more of it.
                    self.drop_connection()
                    raise
                handed_over = True

            message = message_for(
                self.issue,
                row.subscriber,
                connection=self.connection,
                from_email=self.run.from_email,
                template=self.run.template,
                unsubscribe_prefix=self.run.unsubscribe_prefix,
            )
            message.before_handover = hand_over
            try:
                self.open()
                if not self.hands_over:
                    hand_over()
                self.connection.send_messages([message])
            except SendingStopped:
                raise
            except Exception as exc:
                kind, words = classify(exc)
                if kind == CONNECTION and handed_over:
                    # The server may have the message: sending it again could make two.
                    self.settle(
                        row,
                        Delivery.Status.UNCONFIRMED,
                        error=f"{words}; after handing over, so not sent again",
                    )
                    self.drop_connection()
                    return
                if kind == CONNECTION:
                    self.drop_connection()
                    if not reconnect_delays:
                        raise SendingStopped(
                            f"{words}. The mail server could not be reached again; "
                            "the next run carries on from here."
                        ) from exc
                    clock.sleep(reconnect_delays.pop(0))
                    continue
                self.failed(row, kind, words, handed_over=handed_over)
                return
            else:
                self.accepted.append(row.pk)
                self.move(row, Delivery.Status.SENT)
                self.sent_since_open += 1
                self.refusals_in_a_row = 0
                return

    def failed(self, row: Delivery, kind: str, words: str, *, handed_over: bool) -> None:
        if not handed_over:
            row.attempts += 1
        if kind == FATAL:
            self.settle(row, Delivery.Status.PENDING, error=words)
            raise SendingStopped(words)
        if kind == PERMANENT:
            self.settle(row, Delivery.Status.FAILED, error=words)
            services.suppress(row.subscriber, reason=f"{words} (daily issue {self.issue.date})")
            self.refusals_in_a_row += 1
            limit = settings.BROADSHEET_NEWSLETTER_MAX_REFUSALS_IN_A_ROW
            if self.refusals_in_a_row >= limit:
                raise SendingStopped(
                    f"The mail server refused {limit} messages in a row (last: {words}). "
                    "Check its settings, then send again to resume."
                )
            return
        delays = settings.BROADSHEET_NEWSLETTER_RETRY_DELAYS
        if row.attempts > len(delays):
            self.settle(
                row, Delivery.Status.FAILED, error=f"Gave up after {row.attempts} tries: {words}"
            )
            return
        retry_at = timezone.now() + timedelta(seconds=delays[row.attempts - 1])
        self.settle(row, Delivery.Status.RETRY, error=words, retry_at=retry_at)

    # Connection.

    def open(self) -> None:
        """Open a connection if none is open, or a fresh one after
        BROADSHEET_NEWSLETTER_MESSAGES_PER_CONNECTION messages (servers cap them)."""
        if (
            self.opened
            and self.sent_since_open >= settings.BROADSHEET_NEWSLETTER_MESSAGES_PER_CONNECTION
        ):
            self.close()
        if not self.opened:
            self.connection.open()
            self.opened = True
            self.sent_since_open = 0

    def drop_connection(self) -> None:
        if abandon := getattr(self.connection, "abandon", None):
            self.opened = False
            abandon()
        else:
            self.close()

    def close(self) -> None:
        self.opened = False
        try:
            self.connection.close()
        except (smtplib.SMTPException, OSError):
            if abandon := getattr(self.connection, "abandon", None):
                abandon()


def send_issue(
    issue: DailyIssue,
    *,
    progress: Callable[[SendReport], None] | None = None,
    now: datetime | None = None,
) -> SendReport:
    """Send `issue` to everyone it has not been sent to yet; safe to run again at any time.

    Starts the issue if it is a draft (or skips it with the reason if the day is empty),
    then sends every waiting delivery. Raises SendingInProgress if another process is
    sending it. The report says what is left: retries not yet due, or why the run stopped.
    """
    now = now or timezone.now()
    with issue_lock(issue):
        issue.refresh_from_db()
        if issue.status == DailyIssue.Status.DRAFT and not start_issue(issue, now=now):
            return report_for(issue)
        if issue.status != DailyIssue.Status.SENDING:
            return report_for(issue)
        return send_waiting(issue, progress=progress)


def send_waiting(issue: DailyIssue, *, progress=None) -> SendReport:
    """Send the issue's waiting deliveries over BROADSHEET_NEWSLETTER_CONNECTIONS
    connections at once, then record where the issue stands.

    Each message waits for four replies from the server, so a relay a few milliseconds
    away holds one connection to a few hundred messages a second; several connections
    (each in a thread of its own, with its own database connection) overlap the waits.
    """
    run = Run.start(issue, progress=progress)
    parts = max(settings.BROADSHEET_NEWSLETTER_CONNECTIONS, 1)
    if parts == 1:
        reasons = [Sender(run).send_part()]
    else:
        with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="newsletter") as pool:
            reasons = list(
                pool.map(
                    send_part_in_thread, [Sender(run, part=n, parts=parts) for n in range(parts)]
                )
            )
    stopped = next((reason for reason in reasons if reason), "")
    report = report_for(issue, stopped=stopped)
    if not report.waiting:
        issue.status = DailyIssue.Status.SENT
        issue.finished_at = timezone.now()
        issue.status_detail = ""
        issue.final_counts = dict(report.counts)
        issue.save(update_fields=["status", "finished_at", "status_detail", "final_counts"])
    else:
        report.retry_at = (
            Delivery.objects.filter(issue=issue, status=Delivery.Status.RETRY)
            .order_by("retry_at")
            .values_list("retry_at", flat=True)
            .first()
        )
        issue.status_detail = stopped[:300]
        issue.save(update_fields=["status_detail"])
    run.report_progress(force=True)
    return report


def send_part_in_thread(sender: Sender) -> str:
    try:
        return sender.send_part()
    finally:
        connections.close_all()  # this thread's own database connection
