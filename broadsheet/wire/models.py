"""The wire desk's records: where copy comes from, every file as received, every item
version an agency sent, and what the desk must look at.

The chain is source -> received file -> wire item (one row per version) -> story. A file
is written to private storage before it is parsed (`ReceivedFile`), so nothing an agency
sent is ever lost, whatever the parser or the database does next.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.models import Orderable

from broadsheet.news.models import Agency, SectionPage, StoryPage

from .mapping import item_from_payload
from .parsers import FORMATS


def received_storage():
    """Private storage for files as agencies sent them: never under MEDIA_ROOT, never
    served; read lazily so tests and deployments can point WIRE_STORAGE_DIR elsewhere."""
    return FileSystemStorage(location=settings.WIRE_STORAGE_DIR, base_url=None)


class WireSource(ClusterableModel):
    """One way copy reaches the desk: a folder an agency pushes into, or a feed to poll."""

    class Kind(models.TextChoices):
        DROP_FOLDER = "folder", "Drop folder (FTP/SFTP delivery)"
        FEED = "feed", "HTTP feed, polled"

    name = models.CharField(max_length=120, help_text="e.g. 'AFP world service (English)'")
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="wire_sources",
        help_text="Named in the byline of every story from this source.",
    )
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.DROP_FOLDER)
    format = models.CharField(
        max_length=12,
        choices=[("", "Detect from each file"), *((key, key) for key in FORMATS)],
        blank=True,
        help_text="Files are always read by what they contain; a format named here also "
        "sends files of that format imported by hand (manage.py ingest) through this "
        "source's rules.",
    )
    folder = models.CharField(
        max_length=400,
        blank=True,
        help_text="For a drop folder: its path on the server, absolute or under "
        "the wire folder (var/wire/drop/).",
    )
    url = models.URLField(max_length=1000, blank=True, help_text="For a feed: its address.")
    poll_minutes = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)], verbose_name="Look every (minutes)"
    )
    quiet_minutes = models.PositiveIntegerField(
        default=120,
        validators=[MinValueValidator(1)],
        verbose_name="Alert when quiet for (minutes)",
        help_text="Longer than this agency's usual gap between files: the desk is told.",
    )
    default_section = models.ForeignKey(
        SectionPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where stories no rule routes go. Empty: they wait in the queue.",
    )
    publish_at_once = models.BooleanField(
        default=False,
        help_text="Publish routed stories straight away (a trusted agency); otherwise "
        "they become drafts for an editor.",
    )
    active = models.BooleanField(default=True)

    # Kept by polling: conditional GET, and what the desk sees of the source's health.
    etag = models.CharField(max_length=400, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_received_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    poll_token = models.CharField(max_length=32, blank=True, editable=False)

    panels = [
        FieldPanel("name"),
        FieldPanel("agency"),
        FieldRowPanel([FieldPanel("kind"), FieldPanel("format")]),
        FieldPanel("folder"),
        FieldPanel("url"),
        FieldRowPanel([FieldPanel("poll_minutes"), FieldPanel("quiet_minutes")]),
        MultiFieldPanel(
            [FieldPanel("default_section"), FieldPanel("publish_at_once")],
            heading="Where stories go",
        ),
        InlinePanel(
            "rules",
            heading="Routing rules, first match wins",
            label="Rule",
            help_text="Match a subject or media topic code, a keyword or an agency "
            "category; the first rule that matches picks the section.",
        ),
        FieldPanel("active"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.FEED and not self.url:
            raise ValidationError({"url": "A feed needs its address."})
        if self.kind == self.Kind.DROP_FOLDER and not self.folder:
            raise ValidationError({"folder": "A drop folder needs its path."})

    @property
    def quiet_since(self):
        """When this source last sent something, if that is longer ago than usual."""
        last = self.last_received_at
        if last and timezone.now() - last > timedelta(minutes=self.quiet_minutes):
            return last
        return None


class RoutingRule(Orderable):
    """If an item carries this code, keyword or category, it goes to this section."""

    class Match(models.TextChoices):
        SUBJECT = "subject", "Subject or media topic code"
        KEYWORD = "keyword", "Keyword"
        CATEGORY = "category", "Agency category"

    class Then(models.TextChoices):
        SOURCE = "", "As the source says"
        PUBLISH = "publish", "Publish at once"
        DRAFT = "draft", "Hold as a draft"

    source = ParentalKey(WireSource, on_delete=models.CASCADE, related_name="rules")
    match = models.CharField(max_length=8, choices=Match.choices, default=Match.SUBJECT)
    value = models.CharField(
        max_length=200,
        help_text="e.g. 'medtop:11000000', '15054000', 'elections', 'SPO'. Not case-sensitive.",
    )
    section = models.ForeignKey(SectionPage, on_delete=models.CASCADE, related_name="+")
    then = models.CharField(max_length=7, choices=Then.choices, blank=True, default="")

    panels = [
        FieldRowPanel([FieldPanel("match"), FieldPanel("value")]),
        FieldPanel("section"),
        FieldPanel("then"),
    ]

    def __str__(self):
        return f"{self.get_match_display()} {self.value} → {self.section}"


@register_setting(icon="download")
class WireDeskSettings(BaseGenericSetting):
    """What the desk does with files that no source claims (`manage.py ingest`)."""

    default_section = models.ForeignKey(
        SectionPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where stories imported by hand go. Empty: they wait in the queue.",
    )

    panels = [FieldPanel("default_section")]

    class Meta:
        verbose_name = "Wire desk settings"


class ReceivedFile(models.Model):
    """A file exactly as it arrived, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be read"
        INGESTED = "ingested", "Ingested"
        QUARANTINED = "quarantined", "Quarantined"
        ASSET = "asset", "Picture file"

    source = models.ForeignKey(
        WireSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="files"
    )
    name = models.CharField(max_length=255, help_text="As the agency named it.")
    stored_as = models.CharField(max_length=300, editable=False)
    sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    size = models.PositiveBigIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(
        max_length=11, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    reason = models.TextField(blank=True, help_text="Why it was quarantined.")
    format = models.CharField(max_length=12, blank=True)
    outcome = models.JSONField(default=dict, blank=True, help_text="Items by what became of them.")
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "received file"

    def __str__(self):
        return self.name

    def read(self) -> bytes:
        with received_storage().open(self.stored_as, "rb") as stored:
            return stored.read()

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


class WireItemQuerySet(models.QuerySet):
    def latest_versions(self):
        return self.filter(is_latest=True)

    def of(self, *, agency, guid):
        return self.filter(agency=agency, guid=guid)


class WireItem(models.Model):
    """One version of one agency item: (agency, guid, version) is unique.

    The newest version of each guid has `is_latest`; older ones are its history. Every
    version points at the story the item became (or none while it waits in the queue).
    """

    class Desk(models.TextChoices):
        QUEUED = "queued", "In the queue"
        DRAFTED = "drafted", "Draft article"
        PUBLISHED = "published", "Published"
        SCHEDULED = "scheduled", "Embargoed: scheduled"
        HELD = "held", "Held"
        REVIEW = "review", "Update waiting for review"
        KILLED = "killed", "Killed by the agency"
        STORED = "stored", "Kept (not a story)"
        STALE = "stale", "Older than a version already in"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="wire_items")
    guid = models.CharField(max_length=400)
    version = models.CharField(max_length=40, blank=True)
    sequence = models.BigIntegerField(default=0)
    is_latest = models.BooleanField(default=True)
    kind = models.CharField(max_length=8)
    status = models.CharField(max_length=8)
    format = models.CharField(max_length=12)
    headline = models.CharField(max_length=500, blank=True)
    language = models.CharField(max_length=35, blank=True)
    urgency = models.PositiveSmallIntegerField(null=True, blank=True)
    version_created = models.DateTimeField(null=True, blank=True)
    embargo = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.ForeignKey(
        WireSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    received_file = models.ForeignKey(
        ReceivedFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    section = models.ForeignKey(
        SectionPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    story = models.ForeignKey(
        StoryPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="wire_items"
    )
    # The story revision this version wrote: a later revision by someone else means an
    # editor has worked on the story, and the next agency version must not overwrite it.
    revision_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    desk = models.CharField(max_length=9, choices=Desk.choices, default=Desk.QUEUED)
    note = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, help_text="The item as read, normalised.")

    objects = WireItemQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "guid", "version"], name="wire_item_version_once"
            )
        ]
        indexes = [models.Index(fields=["agency", "guid", "is_latest"])]
        verbose_name = "wire item"

    def __str__(self):
        return self.headline or self.guid

    @cached_property
    def item(self):
        """The normalised item, rebuilt from `payload`."""
        return item_from_payload(self.payload)

    def history(self):
        return WireItem.objects.of(agency=self.agency_id, guid=self.guid).order_by("-sequence")


class DeskAlert(models.Model):
    """Something the desk must look at: shown on the dashboard until someone resolves it."""

    class Kind(models.TextChoices):
        KILLED = "killed", "Story killed by the agency"
        REVIEW = "review", "Agency update waiting for review"
        HELD = "held", "Item held"
        QUIET = "quiet", "Source gone quiet"
        QUARANTINE = "quarantine", "File quarantined"
        FAILING = "failing", "Source failing"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    source = models.ForeignKey(WireSource, null=True, blank=True, on_delete=models.CASCADE)
    item = models.ForeignKey(WireItem, null=True, blank=True, on_delete=models.CASCADE)
    story = models.ForeignKey(StoryPage, null=True, blank=True, on_delete=models.SET_NULL)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "desk alert"

    def __str__(self):
        return self.message

    @classmethod
    def raise_once(cls, *, kind, message, source=None, item=None, story=None) -> "DeskAlert":
        """An open alert of this kind for this source/item/story, created if none is open,
        so a source that stays quiet or a file re-run does not fill the desk with copies."""
        alert, _ = cls.objects.get_or_create(
            kind=kind,
            source=source,
            item=item,
            story=story,
            resolved_at=None,
            defaults={"message": message[:500]},
        )
        return alert
