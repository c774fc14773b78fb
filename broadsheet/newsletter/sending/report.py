"""Where an issue's sending stands: the figures of the send log, and pruning old rows."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ..models import DailyIssue, Delivery


@dataclass
class SendReport:
    """Where an issue's sending stands: the send log's figures."""

    issue: DailyIssue
    counts: Counter = field(default_factory=Counter)
    retry_at: datetime | None = None
    stopped: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.total - self.waiting

    @property
    def waiting(self) -> int:
        return self.counts[Delivery.Status.PENDING] + self.counts[Delivery.Status.RETRY]

    def __str__(self):
        if self.issue.status == DailyIssue.Status.SKIPPED:
            return f"{self.issue}: not sent. {self.issue.status_detail}"
        labels = dict(Delivery.Status.choices)
        parts = [f"{labels[s].lower()} {n:,}" for s, n in sorted(self.counts.items()) if n]
        line = f"{self.issue}: {self.issue.get_status_display().lower()}; " + (
            ", ".join(parts) or "nobody to send to"
        )
        if self.stopped:
            line += f". Stopped: {self.stopped}"
        if self.retry_at:
            line += f". Retries due from {timezone.localtime(self.retry_at):%H:%M}"
        return line


def report_for(issue: DailyIssue, **extra) -> SendReport:
    return SendReport(issue=issue, counts=issue.delivery_counts(), **extra)


def prune_deliveries(*, now: datetime | None = None) -> int:
    """Delete the delivery rows of issues finished more than
    BROADSHEET_NEWSLETTER_KEEP_DELIVERIES_DAYS ago; their counts stay on the issue.

    A row per subscriber per day is what makes sending exactly-once and resumable; kept
    for ever it would be 36 million rows a year for 100,000 readers.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BROADSHEET_NEWSLETTER_KEEP_DELIVERIES_DAYS)
    old = DailyIssue.objects.filter(status=DailyIssue.Status.SENT, finished_at__lt=cutoff).exclude(
        final_counts={}
    )
    deleted, _ = Delivery.objects.filter(issue__in=old).delete()
    return deleted
