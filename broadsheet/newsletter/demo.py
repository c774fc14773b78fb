"""The demo's newsletter: a few hundred readers, yesterday's issue sent, today's queued.

Built through the same services as the product (subscribing, confirming, sending), so
the demo shows real histories, a real send log and real messages in var/mail.
"""

from datetime import timedelta

from django.utils import timezone

from . import scheduling, sending, services
from .models import DailyIssue, NewsletterSettings, Subscriber

READERS = 300


def total_steps() -> int:
    return 4


def seed(*, progress=lambda n=1: None) -> str:
    """Returns a line for the person running the demo (seed_demo's interface)."""
    if not Subscriber.objects.exists():
        Subscriber.objects.bulk_create(
            Subscriber(
                email=f"reader{n:03}@example.org",
                status=Subscriber.Status.CONFIRMED,
                # Spread over two months, more of them lately, so the dashboard's chart
                # of sign-ups has a story to tell.
                confirmed_at=timezone.now()
                - timedelta(days=int(59 * (1 - (n / READERS) ** 0.5)), hours=n % 24),
            )
            for n in range(1, READERS + 1)
        )
        # A few with a story to tell in the admin's history.
        kept = services.request_subscription(email="morning.reader@example.org")
        services.confirm(token=services.confirm_token(kept))
        services.request_subscription(email="waiting@example.org")
        gone = services.request_subscription(email="moved.away@example.org")
        services.confirm(token=services.confirm_token(gone))
        services.unsubscribe(token=services.unsubscribe_token(gone), how="link")
        services.suppress(
            Subscriber.objects.create(email="old.address@example.org", status="confirmed"),
            reason="550 5.1.1 Mailbox does not exist (daily issue, demo)",
        )
    newsletter_settings = NewsletterSettings.load()
    if not newsletter_settings.postal_address:
        newsletter_settings.postal_address = "The Courier Building, 1 Quay Street, Northgate"
        newsletter_settings.save(update_fields=["postal_address"])
    progress()
    yesterday = scheduling.issue_for(timezone.localdate() - timedelta(days=1))
    if yesterday.status == DailyIssue.Status.DRAFT:
        sending.send_issue(yesterday)
    progress()
    scheduling.issue_for(timezone.localdate())
    progress()
    at = scheduling.schedule_daily_send()
    progress()
    when = (
        f"the worker sends today's at {timezone.localtime(at):%H:%M %Z}"
        if at
        else "run `manage.py send_newsletter` from cron to send the next one"
    )
    return (
        f"Newsletter: {Subscriber.objects.filter(status='confirmed').count()} subscribers; "
        f"yesterday's issue {yesterday.get_status_display().lower()}; {when}."
    )
