import contextlib
import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def send_confirmation_task(subscriber_id: int) -> None:
    """Mail the confirmation link; the sign-up answer does not wait for the mail server."""
    from .models import Subscriber
    from .services import send_confirmation

    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is not None and subscriber.status == Subscriber.Status.PENDING:
        send_confirmation(subscriber)


@task()
def send_due_issue_task(schedule_token: str) -> None:
    """The daily send: send today's issue if due, then queue the next day's.

    Stands down if a newer schedule replaced this one (the send time changed).
    """
    from .delivery import SendingInProgress, prune_deliveries, schedule_daily_send, send_due
    from .models import NewsletterSettings

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


@task()
def send_issue_task(issue_id: int) -> None:
    """Send or resume one issue (an editor's "send now", or retries that came due)."""
    from .delivery import SendingInProgress, send_issue
    from .models import DailyIssue

    issue = DailyIssue.objects.filter(pk=issue_id).first()
    if issue is None or issue.status in (DailyIssue.Status.SENT, DailyIssue.Status.SKIPPED):
        return
    with contextlib.suppress(SendingInProgress):
        follow_up(send_issue(issue))


def follow_up(report) -> None:
    """Come back when retries are due, or in five minutes after a stopped run."""
    from datetime import timedelta

    from django.utils import timezone

    if not report.waiting or not send_issue_task.get_backend().supports_defer:
        return
    at = report.retry_at
    if report.stopped or at is None:
        at = timezone.now() + timedelta(minutes=5)
    send_issue_task.using(run_after=at).enqueue(report.issue.pk)
