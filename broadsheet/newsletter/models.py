"""Who receives the daily email, and everything that happened to their subscription."""

import secrets
from collections import Counter
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, PageChooserPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.models import Orderable, PreviewableMixin

from broadsheet.news.models import StoryPage

from .composing import compose
from .rendering import personalise, render_issue


def new_token() -> str:
    """A random, unguessable name for a subscriber in the links they are sent."""
    return secrets.token_urlsafe(16)


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Subscribed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        SUPPRESSED = "suppressed", "Suppressed (refused, bounced or complained)"

    email = models.EmailField(unique=True, help_text="Stored in lower case.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=300, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    # What confirmation and unsubscribe links carry (signed), instead of the row's number:
    # a link then says nothing of how many subscribe or who signed up when.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "id"])]
        # Importing adds people who will be mailed: more than seeing the list. Superusers
        # have it; give it to a group (an audience desk) in Settings › Groups.
        permissions = [("import_subscriber", "Can import subscribers from CSV")]

    def __str__(self):
        return self.email

    @property
    def history(self) -> str:
        """The subscriber's events, oldest first, for staff (the admin's inspect view)."""
        return "; ".join(
            f"{event.at:%Y-%m-%d %H:%M} {event.get_kind_display()}"
            + (f" ({event.detail})" if event.detail else "")
            for event in self.events.all()
        )


class SubscriberEvent(models.Model):
    """One line of a subscriber's history, shown to staff."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Asked to subscribe"
        CONFIRMATION_SENT = "confirmation_sent", "Confirmation email sent"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        SUPPRESSED = "suppressed", "Suppressed"
        IMPORTED = "imported", "Imported"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.subscriber}: {self.get_kind_display()}"


@register_setting(icon="mail")
class NewsletterSettings(BaseGenericSetting):
    """When the daily issue goes out and how many top stories it carries (editors set these)."""

    send_time = models.TimeField(
        default=time(7, 0),
        help_text="Newsroom time (the site's time zone) at which each day's issue goes out.",
    )
    top_story_count = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="How many top stories an issue carries; editors' picks come first.",
    )
    postal_address = models.TextField(
        blank=True,
        max_length=300,
        help_text="The publisher's postal address, printed at the foot of every issue "
        "(the law requires one for bulk email in some countries, such as the US).",
    )
    sending_enabled = models.BooleanField(
        default=True,
        help_text="Untick to stop the daily send (for a holiday or a mail server problem).",
    )
    # Which queued "send the next issue" task is current; older ones see a different
    # token and stop, so changing the send time never leaves two daily chains running.
    schedule_token = models.CharField(max_length=32, blank=True, editable=False)

    panels = [
        FieldPanel("send_time"),
        FieldPanel("top_story_count"),
        FieldPanel("postal_address"),
        FieldPanel("sending_enabled"),
    ]

    class Meta:
        verbose_name = "Newsletter settings"


def no_line_breaks(value: str) -> None:
    """A line break in a header would start a new header (Bcc: …): refuse it."""
    if "\r" in value or "\n" in value:
        raise ValidationError("The subject must be one line: remove the line break.")


class DailyIssue(PreviewableMixin, ClusterableModel):
    """One day's newsletter: what it holds, and once it starts going out, exactly what went.

    Editors' picks lead the top stories; the ranking in `broadsheet.newsletter.ranking`
    fills the rest. When sending starts, the subject, the stories and both bodies are
    frozen here, so a resumed send, the view-in-browser page and the send log all show
    the issue that readers received.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Not sent yet"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent"

    date = models.DateField(
        unique=True, default=timezone.localdate, help_text="The newsroom day this issue is for."
    )
    subject = models.CharField(
        max_length=150,
        blank=True,
        validators=[no_line_breaks],
        # The form names this issue's own default (forms.DailyIssueForm).
        help_text="Leave blank for “Top stories for” and the issue's day.",
    )
    introduction = models.TextField(
        blank=True, max_length=600, help_text="An optional note from the editor, above the stories."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    status_detail = models.CharField(
        max_length=300, blank=True, help_text="Why the issue was not sent, or why sending paused."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent_subject = models.CharField(max_length=200, blank=True, editable=False)
    sent_html = models.TextField(blank=True, editable=False)
    sent_text = models.TextField(blank=True, editable=False)
    sent_story_ids = models.JSONField(default=list, blank=True, editable=False)
    # Stories taken down since (a kill, a legal order), by id: gone from the web copy,
    # and still gone if published again, while sent_html keeps the record of what
    # readers received (services.withdraw_story_from_issues).
    withdrawn_story_ids = models.JSONField(default=list, blank=True, editable=False)
    # Deliveries by status once sent; the send log reads it after old rows are pruned.
    final_counts = models.JSONField(default=dict, blank=True, editable=False)

    panels = [
        FieldPanel("date"),
        FieldPanel("subject"),
        FieldPanel("introduction"),
        InlinePanel(
            "picks",
            heading="Editors' top stories, in order",
            label="Top story",
            help_text="Stories picked here lead the issue; the ranking fills the rest.",
        ),
    ]

    preview_modes = [("", "HTML email"), ("text", "Plain text")]

    class Meta:
        ordering = ["-date"]

    def __str__(self):
        return f"Daily newsletter for {self.date:%A %-d %B %Y}"

    def delivery_counts(self) -> Counter:
        """Deliveries by status: the rows while they are kept, then the counts the issue
        kept when they were pruned."""
        rows = self.deliveries.values("status").annotate(n=Count("pk"))
        counts = Counter({row["status"]: row["n"] for row in rows})
        if not counts and self.final_counts:
            counts = Counter(self.final_counts)
        return counts

    @property
    def deliveries_summary(self) -> str:
        """“298 sent, 2 failed” for the admin's list of issues and the dashboard."""
        labels = dict(Delivery.Status.choices)
        counts = self.delivery_counts().items()
        return ", ".join(f"{n:,} {labels[status].lower()}" for status, n in counts)

    @property
    def newsletter_settings(self) -> "NewsletterSettings":
        """The editors' settings as they stand now (read afresh: editors change them)."""
        return NewsletterSettings.load()

    def send_moment(self) -> datetime:
        """The issue's send time as an aware datetime, in the newsroom's time zone."""
        return timezone.make_aware(datetime.combine(self.date, self.newsletter_settings.send_time))

    def serve_preview(self, request, mode_name):
        """The email as readers will get it (or got it, once sending started)."""
        if self.sent_html:
            html, text = self.sent_html, self.sent_text
        else:
            rendered = render_issue(compose(self))
            html, text = rendered.html, rendered.text
        if mode_name == "text":
            body = personalise(text, unsubscribe_url="(the reader's own unsubscribe link)")
            return HttpResponse(body, content_type="text/plain; charset=utf-8")
        return HttpResponse(personalise(html, unsubscribe_url="#unsubscribe"))


# The same rule as a function, for callers that hold an issue: send_moment(issue).
send_moment = DailyIssue.send_moment


class IssuePick(Orderable):
    """A story an editor put in the day's top stories, in the editor's order."""

    issue = ParentalKey(DailyIssue, on_delete=models.CASCADE, related_name="picks")
    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="+")

    panels = [PageChooserPanel("story", ["news.ArticlePage", "news.BlogPostPage"])]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(fields=["issue", "story"], name="one_pick_per_story")
        ]


class Delivery(models.Model):
    """One issue to one subscriber: the unit that is sent at most once.

    PENDING rows are waiting; a row becomes UNCONFIRMED in the same commit that precedes
    handing the message to the mail server, and SENT once the server accepts it. A row
    left UNCONFIRMED by a crash is never sent again: whether the server took that one
    message cannot be known, and a second copy is worse than none (docs/newsletter.md).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RETRY = "retry", "Waiting to retry"
        UNCONFIRMED = "unconfirmed", "Handed over, not confirmed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (left before their turn)"

    issue = models.ForeignKey(DailyIssue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_each")
        ]
        indexes = [models.Index(fields=["issue", "status", "id"])]

    def __str__(self):
        return f"{self.issue.date} to {self.subscriber}: {self.get_status_display()}"
