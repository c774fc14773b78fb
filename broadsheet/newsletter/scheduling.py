"""When issues go out: today's once its send time has passed, by a task the worker runs
at that time (decision 0002: no cron on one machine), the next day's queued after it, and
retries and stopped runs picked up again later.

Each task lives here, beside the code that queues it.
"""

import contextlib
import logging
from datetime import datetime, timedelta
from uuid import uuid4

from django.utils import timezone
from django_tasks import task

from .models import DailyIssue, NewsletterSettings, send_moment
from .sending import SendingInProgress, SendReport, prune_deliveries, send_issue

logger = logging.getLogger(__name__)


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


# The daily chain ----------------------------------------------------------------------


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


@task()
def send_due_issue_task(schedule_token: str) -> None:
    """The daily send: send today's issue if due, then queue the next day's.

    Stands down if a newer schedule replaced this one (the send time changed).
    """
    if NewsletterSettings.load().schedule_token != schedule_token:
        return
    try:
        report = send_due()
        if report is not None:
            logger.info("%s", report)
            follow_up(report)
    except SendingInProgress:
        pass  # a cron run or an editor's "send now" is on it
    finally:
        schedule_daily_send()
    prune_deliveries()


# Sending now, and coming back for retries ---------------------------------------------


@task()
def send_issue_task(issue_id: int) -> None:
    """Send or resume one issue (an editor's "send now", or retries that came due)."""
    issue = DailyIssue.objects.filter(pk=issue_id).first()
    if issue is None or issue.status in (DailyIssue.Status.SENT, DailyIssue.Status.SKIPPED):
        return
    with contextlib.suppress(SendingInProgress):
        follow_up(send_issue(issue))


def follow_up(report) -> None:
    """Come back when retries are due, or in five minutes after a stopped run."""
    if not report.waiting or not send_issue_task.get_backend().supports_defer:
        return
    at = report.retry_at
    if report.stopped or at is None:
        at = timezone.now() + timedelta(minutes=5)
    send_issue_task.using(run_after=at).enqueue(report.issue.pk)
