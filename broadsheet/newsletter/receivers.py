"""What the newsletter hears from elsewhere: an email service's reports (bounces and
complaints suppress the address), the settings' send time, and stories going down.

django-anymail turns each service's tracking webhook (Postmark, Mailgun, SES, …) into one
`tracking` signal, so this works with whichever service the settings name.
"""

import logging
from functools import wraps

from anymail.signals import AnymailTrackingEvent, tracking
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpResponseBadRequest
from django.urls import URLPattern

from broadsheet.news.signals import UNPUBLISHED, story_changed

from . import services
from .models import NewsletterSettings, Subscriber
from .scheduling import schedule_daily_send

logger = logging.getLogger(__name__)
SUPPRESSING = {
    "bounced": "bounced",
    "complained": "complained (marked as spam)",
    "rejected": "rejected",
}


@receiver(post_save, sender=NewsletterSettings)
def reschedule_daily_send(sender, instance, **kwargs):
    """An editor changed the send time (or switched sending back on): queue anew."""
    transaction.on_commit(schedule_daily_send)


@receiver(story_changed)
def drop_withdrawn_story(sender, story, change, **kwargs):
    """A story went down: past issues' web copies no longer show it.

    Sent after the commit that unpublished it. Only UNPUBLISHED counts: a story published
    again stays out of the issues it left (`services.withdraw_story_from_issues`).
    """
    if change == UNPUBLISHED:
        services.withdraw_story_from_issues(story_id=story.pk)


@receiver(tracking)
def record_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs):
    if not event.recipient:
        return
    if event.event_type in SUPPRESSING:
        detail = (
            f" ({event.description or event.reject_reason})"
            if (event.description or event.reject_reason)
            else ""
        )
        services.suppress_address(
            email=event.recipient,
            reason=f"{esp_name} reported it {SUPPRESSING[event.event_type]}{detail}",
        )
    elif event.event_type == "unsubscribed":
        subscriber = Subscriber.objects.filter(email=services.normalise(event.recipient)).first()
        if subscriber is not None:
            services.unsubscribe_subscriber(subscriber, how=f"through {esp_name}")


def webhook_urls():
    """django-anymail's webhook URLs, answering an unreadable report with a 400.

    anymail parses each service's JSON and lets a malformed body raise (a 500 and an
    error email for every bot that probes the URL); here it gets a plain refusal.
    """
    from anymail import urls

    return [
        URLPattern(p.pattern, refuse_unreadable(p.callback), p.default_args, p.name)
        for p in urls.urlpatterns
    ]


def refuse_unreadable(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("Unreadable email service report at %s: %r", request.path, exc)
            return HttpResponseBadRequest("This report could not be read.")

    return wrapped
