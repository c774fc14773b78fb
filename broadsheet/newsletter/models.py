"""Who receives the daily email, and everything that happened to their subscription."""

from django.db import models


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Subscribed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        SUPPRESSED = "suppressed", "Suppressed (bounced or complained)"

    email = models.EmailField(unique=True, help_text="Stored in lower case.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=300, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "id"])]

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

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.subscriber}: {self.get_kind_display()}"
