"""The issue goes out by itself at the send time, in the newsroom's time zone."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from broadsheet.newsletter import scheduling
from broadsheet.newsletter.models import DailyIssue, NewsletterSettings, Subscriber
from broadsheet.newsletter.scheduling import send_due_issue_task

LONDON = ZoneInfo("Europe/London")
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def london(*args):
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def reader(db):
    return Subscriber.objects.create(email="ada@example.org", status=Subscriber.Status.CONFIRMED)


def test_todays_issue_is_due_from_its_send_time(db):
    with time_machine.travel(london(2026, 11, 26, 6, 59)):
        assert scheduling.due_issue() is None
    with time_machine.travel(london(2026, 11, 26, 7, 0)):
        assert scheduling.due_issue().date.isoformat() == "2026-11-26"


def test_an_editor_moves_the_send_time_and_switches_sending_off(db):
    settings = NewsletterSettings.load()
    settings.send_time = time(5, 30)
    settings.save()
    with time_machine.travel(london(2026, 11, 26, 5, 45)):
        assert scheduling.due_issue() is not None
        settings.sending_enabled = False
        settings.save()
        assert scheduling.due_issue() is None


def test_next_send_stays_at_seven_local_across_the_clock_change(db):
    # British Summer Time starts at 01:00 UTC on Sunday 28 March 2027.
    with time_machine.travel(london(2027, 3, 27, 8, 0)):
        scheduling.issue_for(timezone.localdate()).__class__.objects.update(
            status=DailyIssue.Status.SENT
        )
        at = scheduling.next_send_at()
    assert at == london(2027, 3, 28, 7, 0)
    assert at.astimezone(ZoneInfo("UTC")).hour == 6


def test_a_due_unsent_issue_is_sent_at_once_when_the_worker_starts_late(db):
    with time_machine.travel(london(2026, 11, 26, 9, 30), tick=False):
        assert scheduling.next_send_at() == timezone.now()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_sends_the_issue_at_the_send_time_by_itself(reader, make_article):
    with override_settings(TASKS=DATABASE_QUEUE):
        with time_machine.travel(london(2026, 11, 26, 6, 0)):
            make_article(title="Night ferry cancelled in gales")
            at = scheduling.schedule_daily_send()
            call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
            early = len(mail.outbox)
        with time_machine.travel(at + timedelta(seconds=5)):
            call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    assert at == london(2026, 11, 26, 7, 0)
    assert early == 0
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert "Night ferry cancelled in gales" in mail.outbox[0].body
    issue = DailyIssue.objects.get(date="2026-11-26")
    assert issue.status == DailyIssue.Status.SENT


def test_a_replaced_schedule_stands_down(reader, make_article):
    with time_machine.travel(london(2026, 11, 26, 6, 0)):
        make_article(title="Night ferry cancelled in gales")
    NewsletterSettings.load()
    NewsletterSettings.objects.update(schedule_token="current")

    with time_machine.travel(london(2026, 11, 26, 7, 1), tick=False):
        send_due_issue_task.call("stale")
        assert mail.outbox == []
        send_due_issue_task.call("current")

    assert len(mail.outbox) == 1
