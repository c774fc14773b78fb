"""Subscribing and leaving: double opt-in, signed links, one-click unsubscribe; and the
one change to issues already sent, a story taken down leaving their web copies."""

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from broadsheet.core.errors import BroadsheetError
from broadsheet.news.paper import absolute_url, paper_name

from .models import DailyIssue, Subscriber, SubscriberEvent
from .rendering import marks_stories

logger = logging.getLogger(__name__)

CONFIRM_SALT = "broadsheet.newsletter.confirm"
UNSUBSCRIBE_SALT = "broadsheet.newsletter.unsubscribe"


class BadLink(BroadsheetError):
    """A confirmation or unsubscribe link that is forged, mangled or expired."""


def normalise(email: str) -> str:
    return email.strip().lower()


def confirm_token(subscriber: Subscriber) -> str:
    """The signed confirmation link's token: the subscriber's random token and the time,
    nothing a reader could learn anything from."""
    return signing.dumps(subscriber.token, salt=CONFIRM_SALT)


def token_issued_at(token: str) -> datetime:
    """When a token, already verified, was signed: Django writes the time before the
    signature ("payload:time:signature", the time in base 62)."""
    return datetime.fromtimestamp(signing.b62_decode(token.split(":")[-2]), tz=UTC)


def unsubscribe_token(subscriber: Subscriber) -> str:
    """Never expires: an unsubscribe link in a years-old email must still work."""
    return signing.dumps(subscriber.token, salt=UNSUBSCRIBE_SALT)


def request_subscription(*, email: str) -> Subscriber:
    """Start a double opt-in for `email`; a confirmed address is left as it is.

    The caller shows the same answer whatever happens here, so nobody can learn from the
    page whether an address subscribes. A confirmation is re-sent at most once per
    BROADSHEET_NEWSLETTER_RESEND_SECONDS, so the form cannot be used to flood an inbox.
    """
    email = normalise(email)
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.select_for_update().get_or_create(email=email)
        if subscriber.status in (Subscriber.Status.CONFIRMED, Subscriber.Status.SUPPRESSED):
            return subscriber
        SubscriberEvent.objects.create(subscriber=subscriber, kind=SubscriberEvent.Kind.REQUESTED)
        if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
            subscriber.status = Subscriber.Status.PENDING  # coming back: confirm again
        last = subscriber.confirmation_sent_at
        wait = settings.BROADSHEET_NEWSLETTER_RESEND_SECONDS
        send = not last or (timezone.now() - last).total_seconds() >= wait
        if send:
            subscriber.confirmation_sent_at = timezone.now()
            SubscriberEvent.objects.create(
                subscriber=subscriber, kind=SubscriberEvent.Kind.CONFIRMATION_SENT
            )
        subscriber.save(update_fields=["status", "confirmation_sent_at"])
    if send:
        # Queued once the subscriber row is committed, so the worker can read it.
        send_confirmation_task.enqueue(subscriber.pk)
    return subscriber


def send_confirmation(subscriber: Subscriber) -> None:
    link = absolute_url(reverse("newsletter:confirm", args=[confirm_token(subscriber)]))

    context = {
        "link": link,
        "paper_name": paper_name(),
        "days": settings.BROADSHEET_NEWSLETTER_CONFIRM_DAYS,
    }
    message = EmailMultiAlternatives(
        subject=f"Confirm your subscription to {context['paper_name']}",
        body=render_to_string("newsletter/email/confirm.txt", context),
        to=[subscriber.email],
    )
    message.attach_alternative(
        render_to_string("newsletter/email/confirm.html", context), "text/html"
    )
    message.send()


@task()
def send_confirmation_task(subscriber_id: int) -> None:
    """Mail the confirmation link; the sign-up answer does not wait for the mail server."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is not None and subscriber.status == Subscriber.Status.PENDING:
        send_confirmation(subscriber)


def subscriber_from(token: str, *, salt: str, max_age=None) -> Subscriber:
    try:
        named = signing.loads(token, salt=salt, max_age=max_age)
        if isinstance(named, int) and not isinstance(named, bool):
            # Links sent before subscribers had tokens named the row; the signature proves
            # the site sent them, and an unsubscribe link must work for ever.
            return Subscriber.objects.get(pk=named)
        return Subscriber.objects.get(token=str(named))
    except signing.SignatureExpired as exc:
        raise BadLink("This link has expired. Sign up again and we will send a new one.") from exc
    except (signing.BadSignature, Subscriber.DoesNotExist, TypeError, ValueError) as exc:
        raise BadLink(
            "This link is not valid. It may have been cut short by your email "
            "program; try copying the whole link."
        ) from exc


def confirm(*, token: str) -> Subscriber:
    """Confirm the subscription the link was sent for (idempotent)."""
    max_age = settings.BROADSHEET_NEWSLETTER_CONFIRM_DAYS * 86400
    subscriber = subscriber_from(token, salt=CONFIRM_SALT, max_age=max_age)
    if subscriber.status == Subscriber.Status.SUPPRESSED:
        raise BadLink("This address cannot receive our emails (it bounced or complained).")
    if (
        subscriber.status == Subscriber.Status.UNSUBSCRIBED
        and subscriber.unsubscribed_at
        and subscriber.unsubscribed_at > token_issued_at(token)
    ):
        raise BadLink(
            "You unsubscribed after this link was sent, so it no longer works. "
            "Sign up again to get a new one."
        )
    if subscriber.status != Subscriber.Status.CONFIRMED:
        subscriber.status = Subscriber.Status.CONFIRMED
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["status", "confirmed_at"])
        SubscriberEvent.objects.create(subscriber=subscriber, kind=SubscriberEvent.Kind.CONFIRMED)
    return subscriber


def unsubscribe(*, token: str, how: str = "link") -> Subscriber:
    """Stop sending to the subscriber the link names (idempotent: a second click is fine)."""
    return unsubscribe_subscriber(subscriber_from(token, salt=UNSUBSCRIBE_SALT), how=how)


def unsubscribe_subscriber(subscriber: Subscriber, *, how: str) -> Subscriber:
    if subscriber.status in (Subscriber.Status.PENDING, Subscriber.Status.CONFIRMED):
        subscriber.status = Subscriber.Status.UNSUBSCRIBED
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["status", "unsubscribed_at"])
        SubscriberEvent.objects.create(
            subscriber=subscriber, kind=SubscriberEvent.Kind.UNSUBSCRIBED, detail=how
        )
    return subscriber


def suppress(subscriber: Subscriber, *, reason: str) -> None:
    """Stop mailing an address that the mail system refused or whose owner complained.

    Unlike unsubscribing, only staff can see why; signing up again does not lift it
    (`request_subscription` leaves suppressed addresses alone), because mailing an address
    that bounces or complains harms delivery to every other reader.
    """
    reason = reason.replace("\r", " ").replace("\n", " ")[:300]
    with transaction.atomic():
        updated = (
            Subscriber.objects.filter(pk=subscriber.pk)
            .exclude(status=Subscriber.Status.SUPPRESSED)
            .update(status=Subscriber.Status.SUPPRESSED, suppressed_reason=reason)
        )
        if updated:
            SubscriberEvent.objects.create(
                subscriber_id=subscriber.pk, kind=SubscriberEvent.Kind.SUPPRESSED, detail=reason
            )
    subscriber.status = Subscriber.Status.SUPPRESSED
    subscriber.suppressed_reason = reason


def suppress_address(*, email: str, reason: str) -> bool:
    """Suppress a subscriber by address (for an email service's bounce or complaint
    report). Returns False for an address that is not on the list."""
    subscriber = Subscriber.objects.filter(email=normalise(email)).first()
    if subscriber is None:
        return False
    suppress(subscriber, reason=reason)
    return True


# Reading ------------------------------------------------------------------------------


def daily_changes(*, days: int = 30, today=None) -> list[tuple]:
    """(date, joined, left) for each of the last `days` newsroom days, oldest first:
    confirmations, and unsubscribes plus suppressions, for the dashboard's chart."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))

    def per_day(queryset, field) -> Counter:
        rows = (
            queryset.filter(**{f"{field}__gte": since})
            .annotate(day=TruncDate(field, tzinfo=timezone.get_current_timezone()))
            .values("day")
            .annotate(n=Count("pk"))
        )
        return Counter({row["day"]: row["n"] for row in rows})

    joined = per_day(Subscriber.objects.all(), "confirmed_at")
    left = per_day(Subscriber.objects.all(), "unsubscribed_at") + per_day(
        SubscriberEvent.objects.filter(kind=SubscriberEvent.Kind.SUPPRESSED), "at"
    )
    return [
        (day, joined.get(day, 0), left.get(day, 0))
        for day in (first + timedelta(days=n) for n in range(days))
    ]


# Issues already sent ----------------------------------------------------------------


def withdraw_story_from_issues(*, story_id: int) -> list[DailyIssue]:
    """Take a story that went down (a kill, a legal order) out of the web copy of every
    issue that carried it, and return those issues. Safe to run twice.

    The story's id joins the issue's `withdrawn_story_ids`, and the view-in-browser page
    replaces the story with a line saying it is no longer available
    (`rendering.without_stories`). What was emailed cannot be recalled, and `sent_html`
    stays the record of what readers received. If the story is published again, the old
    web copies still leave it out: that errs on the safe side of a legal order, and a
    story put back is usually a corrected version, not the copy the issue carried.
    Issues sent before each story was marked in the HTML cannot be edited; each is
    logged as a warning, for a person to act on.

    The issues are found by reading every sent issue's (id, story ids) and matching in
    Python, one query: JSON containment (`sent_story_ids__contains=[id]`) works on
    PostgreSQL but raises NotSupportedError on SQLite, and a window of recent days would
    miss the case that matters most, a legal order about an old story. There is one
    issue a day, a few dozen small integers each, read only when a story goes down.
    """
    carried = [
        pk
        for pk, story_ids in DailyIssue.objects.exclude(sent_story_ids=[]).values_list(
            "pk", "sent_story_ids"
        )
        if story_id in story_ids
    ]
    if not carried:
        return []
    with transaction.atomic():
        # Locked: two stories going down at once must not each undo the other's id.
        issues = list(
            DailyIssue.objects.select_for_update()
            .filter(pk__in=carried)
            .only("date", "sent_html", "withdrawn_story_ids")
            .order_by("date")
        )
        for issue in issues:
            if story_id in issue.withdrawn_story_ids:
                continue
            issue.withdrawn_story_ids = [*issue.withdrawn_story_ids, story_id]
            issue.save(update_fields=["withdrawn_story_ids"])
            if not marks_stories(issue.sent_html):
                logger.warning(
                    "Story %s was taken down, but the web copy of the %s issue still shows "
                    "it: that issue was sent before stories were marked in its HTML.",
                    story_id,
                    issue.date,
                )
    return issues
