"""A sending process killed half-way, then run again: every reader gets exactly one copy.

The sender runs as a real process (`manage.py send_newsletter`) against the test
database and the in-process SMTP server, and is killed with SIGKILL (no clean-up, as in
an out-of-memory kill or a power cut of the worker) at the worst moments the protocol
has: while the server holds a whole message but has not answered, and between two
messages.
"""

import os
import signal
import subprocess
import time
from collections import Counter

import pytest

from broadsheet.newsletter import sending
from broadsheet.newsletter.models import DailyIssue, Delivery, Subscriber
from tests.conftest import NEWSROOM_MORNING
from tests.processes import manage_py

READERS = 30
KILL_AT = 12
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def start_sender(sink) -> subprocess.Popen:
    return manage_py(
        *("send_newsletter", "--now", "--no-wait"),
        env={
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": sink.host,
            "EMAIL_PORT": str(sink.port),
        },
    )


@pytest.fixture
def readers(make_article):
    make_article(title="Flood defences hold as river peaks")
    return Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{n:02}@example.org", status=Subscriber.Status.CONFIRMED)
        for n in range(READERS)
    )


def kill(process):
    os.kill(process.pid, signal.SIGKILL)


def run_killed_then_resume(sink):
    process = start_sender(sink)
    sink.process = process
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == -signal.SIGKILL, output
    killed_after = sink.count
    issue = DailyIssue.objects.get(date=NEWSROOM_MORNING.date())
    assert issue.status == DailyIssue.Status.SENDING

    # PostgreSQL frees a dead session's advisory lock once it notices the closed socket,
    # a moment after the kill; the next run (a cron job, minutes later) never sees it.
    for _ in range(50):
        try:
            return killed_after, sending.send_issue(issue)
        except sending.SendingInProgress:
            time.sleep(0.1)
    raise AssertionError("the killed process's lock was never released")


def test_killed_while_the_server_holds_a_whole_message(smtp_sink, readers):
    # The server has the 12th message and the sender is waiting for its "250 OK".
    smtp_sink.on_message = lambda message: (
        kill(smtp_sink.process) if message.number == KILL_AT else None
    )

    killed_after, report = run_killed_then_resume(smtp_sink)

    assert killed_after == KILL_AT
    received = Counter(address for m in smtp_sink.messages for address in m.rcpt_tos)
    assert received == Counter({reader.email: 1 for reader in readers})
    # Its row was claimed before the "." and never confirmed: it is shown as such and was
    # not sent again, so this reader has one copy, not two.
    assert report.counts[Delivery.Status.UNCONFIRMED] == 1
    assert report.counts[Delivery.Status.SENT] == READERS - 1


def test_killed_between_two_messages(smtp_sink, readers):
    def kill_on_next_mail_from(attempt):
        if attempt.number == KILL_AT + 1:
            kill(smtp_sink.process)
        return False

    smtp_sink.drop_at = ("mail", kill_on_next_mail_from)

    killed_after, report = run_killed_then_resume(smtp_sink)

    assert killed_after == KILL_AT
    received = Counter(address for m in smtp_sink.messages for address in m.rcpt_tos)
    assert received == Counter({reader.email: 1 for reader in readers})
    assert report.counts[Delivery.Status.PENDING] == 0
    assert (
        report.counts[Delivery.Status.SENT] + report.counts[Delivery.Status.UNCONFIRMED] == READERS
    )
