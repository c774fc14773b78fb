"""Starting an issue: freezing what it holds, and writing one delivery row per reader."""

import logging
from datetime import datetime

from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from ..composing import compose
from ..models import DailyIssue, Delivery, Subscriber
from ..rendering import render_issue

logger = logging.getLogger(__name__)


def start_issue(issue: DailyIssue, *, now: datetime) -> bool:
    """Freeze the issue and write one Delivery per confirmed subscriber.

    Returns False, and marks the issue skipped with the reason, when the day has nothing
    to send: an empty email teaches readers to ignore the next one.
    """
    composition = compose(issue, now=now)
    if composition.is_empty:
        until = min(now, issue.send_moment())
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
