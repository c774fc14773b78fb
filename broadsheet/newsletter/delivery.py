"""Sending a daily issue to every confirmed subscriber: once each, resumable, in batches.

The rules (docs/newsletter.md has the reasoning):

- When sending starts, the issue is frozen (subject, stories, both bodies) and one
  Delivery row per confirmed subscriber is written in a single INSERT … SELECT.
- Each message is claimed in the database (UNCONFIRMED) in the same commit that records
  the previous message as SENT, just before the mail server gets its final "." (see
  `mail.py`). A row that is UNCONFIRMED after a crash is never sent again, so nobody gets
  two copies; every other row is known not to have gone and the next run sends it.
- Temporary refusals (4xx) wait and are retried with growing delays; permanent ones (5xx)
  fail the row and suppress the address, with the server's words kept for staff. A lost
  connection is reopened with back-off; a server that stays away stops the run, which
  the next run resumes.
- Only one process sends an issue at a time (`issue_lock`), and the lock dies with its
  process, so a resume after a crash can start at once.
"""

import fcntl
import logging
import re
import smtplib
import threading
import time as clock
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, formatdate

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db
from django.db import connections, transaction
from django.db.models import Count, Q
from django.db.models.functions import Mod
from django.urls import reverse
from django.utils import timezone

from broadsheet.core.errors import BroadsheetError
from broadsheet.news.paper import absolute_url, paper_name

from . import services
from .composing import compose, send_moment
from .models import DailyIssue, Delivery, NewsletterSettings, Subscriber
from .rendering import UNSUBSCRIBE_PLACEHOLDER, personalise, render_issue

logger = logging.getLogger(__name__)

DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"
BATCH = 500  # rows read at a time: memory stays flat however many subscribers


class SendingInProgress(BroadsheetError):
    """Another process is sending this issue."""


class SendingStopped(BroadsheetError):
    """The run cannot go on (mail server away or refusing everything); the next one resumes."""


@dataclass
class SendReport:
    """Where an issue's sending stands: the send log's figures."""

    issue: DailyIssue
    counts: Counter = field(default_factory=Counter)
    retry_at: datetime | None = None
    stopped: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.total - self.waiting

    @property
    def waiting(self) -> int:
        return self.counts[Delivery.Status.PENDING] + self.counts[Delivery.Status.RETRY]

    def __str__(self):
        if self.issue.status == DailyIssue.Status.SKIPPED:
            return f"{self.issue}: not sent. {self.issue.status_detail}"
        labels = dict(Delivery.Status.choices)
        parts = [f"{labels[s].lower()} {n:,}" for s, n in sorted(self.counts.items()) if n]
        line = f"{self.issue}: {self.issue.get_status_display().lower()}; " + (
            ", ".join(parts) or "nobody to send to"
        )
        if self.stopped:
            line += f". Stopped: {self.stopped}"
        if self.retry_at:
            line += f". Retries due from {timezone.localtime(self.retry_at):%H:%M}"
        return line


def delivery_counts(issue: DailyIssue) -> Counter:
    rows = Delivery.objects.filter(issue=issue).values("status").annotate(n=Count("pk"))
    return Counter({row["status"]: row["n"] for row in rows})


def report_for(issue: DailyIssue, **extra) -> SendReport:
    counts = delivery_counts(issue)
    if not counts and issue.final_counts:  # its rows were pruned
        counts = Counter(issue.final_counts)
    return SendReport(issue=issue, counts=counts, **extra)


def prune_deliveries(*, now: datetime | None = None) -> int:
    """Delete the delivery rows of issues finished more than
    BROADSHEET_NEWSLETTER_KEEP_DELIVERIES_DAYS ago; their counts stay on the issue.

    A row per subscriber per day is what makes sending exactly-once and resumable; kept
    for ever it would be 36 million rows a year for 100,000 readers.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BROADSHEET_NEWSLETTER_KEEP_DELIVERIES_DAYS)
    old = DailyIssue.objects.filter(status=DailyIssue.Status.SENT, finished_at__lt=cutoff).exclude(
        final_counts={}
    )
    deleted, _ = Delivery.objects.filter(issue__in=old).delete()
    return deleted


# Which issue is due -------------------------------------------------------------------


def issue_for(date) -> DailyIssue:
    issue, _ = DailyIssue.objects.get_or_create(date=date)
    return issue


def due_issue(*, now: datetime | None = None) -> DailyIssue | None:
    """Today's issue once its send time has passed, until it is sent or skipped."""
    now = now or timezone.now()
    if not NewsletterSettings.load().sending_enabled:
        return None
    issue = issue_for(timezone.localdate(now))
    if now < send_moment(issue) or issue.status in (
        DailyIssue.Status.SENT,
        DailyIssue.Status.SKIPPED,
    ):
        return None
    return issue


# Locking ------------------------------------------------------------------------------


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


# Starting -----------------------------------------------------------------------------


def start_issue(issue: DailyIssue, *, now: datetime) -> bool:
    """Freeze the issue and write one Delivery per confirmed subscriber.

    Returns False, and marks the issue skipped with the reason, when the day has nothing
    to send: an empty email teaches readers to ignore the next one.
    """
    composition = compose(issue, now=now)
    if composition.is_empty:
        until = min(now, send_moment(issue))
        issue.status = DailyIssue.Status.SKIPPED
        issue.status_detail = (
            "Nothing to send: no stories or blog posts were published in the 24 hours "
            f"before {timezone.localtime(until):%H:%M on %-d %B}."
        )
        issue.finished_at = now
        issue.save(update_fields=["status", "status_detail", "finished_at"])
        logger.info("%s skipped: %s", issue, issue.status_detail)
        return False
    rendered = render_issue(composition)
    with transaction.atomic():
        issue.sent_subject = rendered.subject
        issue.sent_html = rendered.html
        issue.sent_text = rendered.text
        issue.sent_story_ids = composition.story_ids
        issue.status = DailyIssue.Status.SENDING
        issue.status_detail = ""
        issue.started_at = now
        issue.save()
        # One statement whatever the number of subscribers: nothing is held in memory.
        with db.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Delivery._meta.db_table} "
                "(issue_id, subscriber_id, status, attempts, error) "
                f"SELECT %s, id, %s, 0, '' FROM {Subscriber._meta.db_table} "
                "WHERE status = %s ON CONFLICT DO NOTHING",
                [issue.pk, Delivery.Status.PENDING, Subscriber.Status.CONFIRMED],
            )
    return True


# Messages -----------------------------------------------------------------------------


def sender_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"


def unsubscribe_url(subscriber: Subscriber, *, prefix: str = "") -> str:
    """The reader's own unsubscribe link. `prefix` (from `unsubscribe_prefix`) saves
    resolving the URL again for each of 100,000 readers."""
    token = services.unsubscribe_token(subscriber)
    if prefix:
        return f"{prefix}{token}/"
    return absolute_url(reverse("newsletter:unsubscribe", args=[token]))


def unsubscribe_prefix() -> str:
    url = absolute_url(reverse("newsletter:unsubscribe", args=["TOKEN"]))
    return url.removesuffix("TOKEN/")


def sender_address() -> str:
    """DEFAULT_FROM_EMAIL with the paper's name shown, unless it already names someone."""
    address = settings.DEFAULT_FROM_EMAIL
    if "<" in address:
        return address
    # The name is typed by editors: a line break in it would break every message's header.
    return formataddr((" ".join(paper_name().split()), address))


def message_for(
    issue: DailyIssue,
    subscriber: Subscriber,
    *,
    connection=None,
    from_email=None,
    template: "MessageTemplate | None" = None,
    unsubscribe_prefix: str = "",
):
    """The issue as one subscriber receives it: their own unsubscribe link in the footer
    and in the RFC 8058 headers, whose POST unsubscribes at once without a login."""
    url = unsubscribe_url(subscriber, prefix=unsubscribe_prefix)
    reader_message_id = message_id(issue, subscriber.token)
    message = IssueMessage(
        subject=issue.sent_subject,
        body=personalise(issue.sent_text, unsubscribe_url=url),
        from_email=from_email or sender_address(),
        to=[subscriber.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"Daily newsletter <daily.{sender_domain()}>",
            # The same id if a message is ever sent again, so receivers can spot a copy.
            "Message-ID": reader_message_id,
        },
    )
    message.attach_alternative(personalise(issue.sent_html, unsubscribe_url=url), "text/html")
    if template is not None:
        message.prebuilt = template.fill(
            email=subscriber.email, unsubscribe_url=url, message_id=reader_message_id
        )
    return message


def message_id(issue: DailyIssue, subscriber_token: str) -> str:
    return f"<issue-{issue.date:%Y%m%d}.{subscriber_token}@{sender_domain()}>"


class IssueMessage(EmailMultiAlternatives):
    """A subscriber's copy whose MIME bytes may come ready-made from a MessageTemplate.

    Every attribute (body, alternatives, headers) is the subscriber's own, so backends
    that read them (django-anymail's) work as usual; backends that ask for the MIME
    message (SMTP, files) get the prebuilt bytes instead of Python's email package
    building the same message again, which took two thirds of the send time.
    """

    prebuilt: bytes | None = None

    def message(self):
        if self.prebuilt is None:
            return super().message()
        return PrebuiltMIME(self.prebuilt)


class PrebuiltMIME:
    """What Django's backends use of a MIME message: its bytes (and its charset)."""

    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self, unixfrom=False, linesep="\n"):
        return self.data if linesep == "\r\n" else self.data.replace(b"\r\n", linesep.encode())

    def get_charset(self):
        return None


class MessageTemplate:
    """The issue's MIME message built once, with markers where each reader's address,
    unsubscribe link and message id go; `fill` swaps them in.

    Only used when the markers survive encoding intact (8-bit bodies, unfolded headers);
    otherwise `build` returns None and each message is built in full.
    """

    EMAIL = "reader@address.marker.invalid"
    DATE = "Mon, 01 Jan 2001 00:00:00 -0000"
    ID = "<marker-message-id@marker.invalid>"
    SAFE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~@-]+")

    def __init__(self, data: bytes):
        self.parts = data

    @classmethod
    def build(cls, issue: DailyIssue, *, from_email: str) -> "MessageTemplate | None":
        message = IssueMessage(
            subject=issue.sent_subject,
            body=issue.sent_text,
            from_email=from_email,
            to=[cls.EMAIL],
            headers={
                "List-Unsubscribe": f"<{UNSUBSCRIBE_PLACEHOLDER}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": f"Daily newsletter <daily.{sender_domain()}>",
                "Message-ID": cls.ID,
                "Date": cls.DATE,
            },
        )
        message.attach_alternative(issue.sent_html, "text/html")
        data = message.message().as_bytes(linesep="\r\n")
        expected = issue.sent_text.count(UNSUBSCRIBE_PLACEHOLDER) + issue.sent_html.count(
            UNSUBSCRIBE_PLACEHOLDER
        )
        if (
            data.count(UNSUBSCRIBE_PLACEHOLDER.encode()) != expected + 1
            or data.count(cls.EMAIL.encode()) != 1
            or data.count(cls.ID.encode()) != 1
            or data.count(cls.DATE.encode()) != 1
        ):
            return None
        return cls(data)

    def fill(self, *, email: str, unsubscribe_url: str, message_id: str) -> bytes | None:
        """This reader's bytes, or None for an address that needs the full treatment
        (non-ASCII, or anything that could break out of its header)."""
        if not self.SAFE_ADDRESS.fullmatch(email) or not unsubscribe_url.isascii():
            return None
        return (
            self.parts.replace(UNSUBSCRIBE_PLACEHOLDER.encode(), unsubscribe_url.encode())
            .replace(self.EMAIL.encode(), email.encode())
            .replace(self.ID.encode(), message_id.encode())
            # The time of sending, as a fully built message has (a run may resume later).
            .replace(
                self.DATE.encode(), formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode()
            )
        )


def newsletter_connection():
    """The backend the newsletter sends through: BROADSHEET_NEWSLETTER_EMAIL_BACKEND, or the
    site's EMAIL_BACKEND; Django's SMTP backend is swapped for the one that reports the
    handover moment (same settings, same behaviour otherwise)."""
    backend = settings.BROADSHEET_NEWSLETTER_EMAIL_BACKEND or settings.EMAIL_BACKEND
    if backend == DJANGO_SMTP:
        backend = "broadsheet.newsletter.mail.SMTPBackend"
    return get_connection(backend, fail_silently=False)


# Failures -----------------------------------------------------------------------------

TEMPORARY, PERMANENT, CONNECTION, FATAL = "temporary", "permanent", "connection", "fatal"


def classify(exc: Exception) -> tuple[str, str]:
    """(kind, words for staff) for a failed send.

    4xx replies are temporary and 5xx permanent (RFC 5321 §4.2.1). A refused sender or a
    failed login is the newsroom's problem, not the reader's: it stops the run instead of
    suppressing everyone. django-anymail's errors map the same way.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return (TEMPORARY if 400 <= code < 500 else PERMANENT), smtp_words(code, reply)
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        if 400 <= exc.smtp_code < 500:
            return TEMPORARY, smtp_words(exc.smtp_code, exc.smtp_error)
        return FATAL, "The mail server refused our sender: " + smtp_words(
            exc.smtp_code, exc.smtp_error
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return CONNECTION, f"Connection to the mail server lost ({exc.__class__.__name__}: {exc})"
    if isinstance(exc, smtplib.SMTPResponseException):
        if exc.smtp_code == 421:  # "closing channel": the connection is going away
            return CONNECTION, smtp_words(exc.smtp_code, exc.smtp_error)
        kind = TEMPORARY if 400 <= exc.smtp_code < 500 else PERMANENT
        return kind, smtp_words(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, ValueError):  # BadHeaderError and other unusable addresses
        return PERMANENT, f"This address cannot be written in an email header ({exc})"[:300]
    anymail_kind = classify_anymail(exc)
    if anymail_kind:
        return anymail_kind
    return TEMPORARY, f"{exc.__class__.__name__}: {exc}"[:300]


def classify_anymail(exc: Exception) -> tuple[str, str] | None:
    try:
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency
        return None
    if isinstance(exc, AnymailRecipientsRefused):
        return PERMANENT, f"The email service refused this address: {described(exc)}"[:300]
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None) or 0
        kind = PERMANENT if status in (400, 422) else TEMPORARY
        words = f"The email service answered {status or 'with an error'}: {described(exc)}"
        return kind, words[:300]
    return None


def described(exc: Exception) -> str:
    """str(exc), or its arguments when an error's own description fails (anymail's
    describes the HTTP response, and raises if it has none)."""
    try:
        return str(exc)
    except Exception:
        return " ".join(str(arg) for arg in exc.args) or exc.__class__.__name__


def smtp_words(code, reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"{code} {reply}".replace("\n", " ")[:300]


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
            counts=delivery_counts(issue),
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


def send_test(issue: DailyIssue, *, to: str) -> None:
    """Send the issue as it stands now to one address (an editor's), marked as a test.

    Nothing is recorded: no delivery row, and the unsubscribe link points to the page
    that explains unsubscribing, so a test can never unsubscribe the editor.
    """
    composition = compose(issue)
    rendered = render_issue(composition)
    url = absolute_url("/")  # the issue's own page exists only once it is sent
    message = EmailMultiAlternatives(
        subject=f"[Test] {rendered.subject}",
        body=personalise(rendered.text, unsubscribe_url=url),
        from_email=sender_address(),
        to=[to],
        connection=newsletter_connection(),
    )
    message.attach_alternative(personalise(rendered.html, unsubscribe_url=url), "text/html")
    message.send()


# Scheduling ---------------------------------------------------------------------------


def next_send_at(*, now: datetime | None = None) -> datetime:
    """When the worker should next look for a due issue: now if today's is due and
    unsent, else the next send time (today's or tomorrow's, in the newsroom's zone, so
    it stays at 07:00 local across the clock changes)."""
    now = now or timezone.now()
    if due_issue(now=now) is not None:
        return now
    send_time = NewsletterSettings.load().send_time
    today = timezone.localdate(now)
    for day in (today, today + timedelta(days=1)):
        moment = timezone.make_aware(datetime.combine(day, send_time))
        if moment > now:
            return moment
    return timezone.make_aware(datetime.combine(today + timedelta(days=2), send_time))


def schedule_daily_send(*, now: datetime | None = None) -> datetime | None:
    """Queue the worker to send the next issue at its send time (decision 0002's way:
    no cron on one machine). A new token makes any earlier queued send stand down, so
    changing the send time never leaves two daily chains. Returns when, or None when the
    task backend cannot run tasks later (then cron runs `send_newsletter`)."""
    from uuid import uuid4

    from .tasks import send_due_issue_task

    if not send_due_issue_task.get_backend().supports_defer:
        return None
    at = next_send_at(now=now)
    token = uuid4().hex
    NewsletterSettings.objects.filter(pk=NewsletterSettings.load().pk).update(schedule_token=token)
    send_due_issue_task.using(run_after=at).enqueue(token)
    return at


def send_due(*, progress=None, now: datetime | None = None) -> SendReport | None:
    """Send today's issue if it is due; None when nothing is due."""
    issue = due_issue(now=now)
    if issue is None:
        return None
    return send_issue(issue, progress=progress, now=now)
