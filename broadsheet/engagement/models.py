"""What readers leave on stories: star votes, comments, flags; and the rules editors set."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.search import index

from broadsheet.news.models import SectionPage, StoryPage


class Vote(models.Model):
    """One reader's star rating of one story; a reader may change it but not add another."""

    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="+")
    reader = models.CharField(max_length=64, help_text="The id in the reader's signed cookie.")
    stars = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["story", "reader"], name="one_vote_per_reader"),
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="stars_between_1_and_5"
            ),
        ]
        # Covers the tally (COUNT and SUM of stars for a story) without touching the table.
        indexes = [models.Index(fields=["story", "stars"])]

    def __str__(self):
        return f"{self.stars} stars on {self.story_id}"


class VoteTally(models.Model):
    """A story's vote count and star total, kept in step with its votes by triggers.

    The database changes it in the statement that records each vote (migration 0003), so
    reading a tally is one row whatever the number of votes (counting a million votes
    takes SQLite 86 ms).
    """

    story = models.OneToOneField(
        StoryPage, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.count} votes on {self.story_id}"


class Comment(index.Indexed, models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        HELD = "held", "Held for moderation"
        REJECTED = "rejected", "Rejected"
        SPAM = "spam", "Spam"

    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        help_text="The comment this replies to; replies are one level deep.",
    )
    name = models.CharField(max_length=80)
    email = models.EmailField(blank=True, help_text="Never shown to readers.")
    body = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    spam_score = models.FloatField(default=0)
    spam_reasons = models.CharField(max_length=500, blank=True)
    reader = models.CharField(max_length=64, blank=True)
    address_hash = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_staff_reply = models.BooleanField(default=False)
    flag_count = models.PositiveIntegerField(
        default=0, help_text="Readers' reports, one per reader and address."
    )
    reported_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The latest report a moderator has not yet looked at; cleared by a decision.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    search_fields = [
        index.SearchField("body"),
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("status"),
    ]

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["story", "status", "created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self):
        return f"{self.name} on {self.story_id}: {self.body[:40]}"


class CommentFlag(models.Model):
    """A reader's report that a published comment breaks the rules.

    One per reader and one per address: a script that drops its cookie is a new reader
    each time, but not a new address.
    """

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    reader = models.CharField(max_length=64)
    address_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "reader"], name="one_flag_per_reader"),
            models.UniqueConstraint(
                fields=["comment", "address_hash"],
                condition=~models.Q(address_hash=""),
                name="one_flag_per_address",
            ),
        ]

    def __str__(self):
        return f"Flag on comment {self.comment_id}"


class UsedChallenge(models.Model):
    """Nonces of answered math challenges, so that each answer counts once."""

    nonce = models.CharField(max_length=32, unique=True)
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return self.nonce


class CommentPolicy(models.Model):
    """How a section's comments are moderated; subsections inherit the nearest policy."""

    class Mode(models.TextChoices):
        SCORE = "score", "Publish clean comments at once; hold doubtful ones; reject spam"
        HOLD_ALL = "hold_all", "Hold every comment for a moderator"

    section = models.OneToOneField(
        SectionPage, on_delete=models.CASCADE, related_name="comment_policy"
    )
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.SCORE)
    hold_at = models.FloatField(
        default=0.5, help_text="Hold comments whose spam score reaches this (0 to 1)."
    )
    reject_at = models.FloatField(
        default=0.9, help_text="Reject as spam comments whose score reaches this."
    )

    panels = [
        FieldPanel("section"),
        FieldPanel("mode"),
        FieldPanel("hold_at"),
        FieldPanel("reject_at"),
    ]

    class Meta:
        verbose_name_plural = "comment policies"

    def __str__(self):
        return f"{self.section.title}: {self.get_mode_display()}"


class BlockedTerm(models.Model):
    """A word or phrase that marks a comment as spam or abuse."""

    term = models.CharField(max_length=100, unique=True)
    weight = models.FloatField(default=1.0, help_text="1 rejects outright; 0.5 holds.")

    panels = [FieldPanel("term"), FieldPanel("weight")]

    def __str__(self):
        return self.term


class BlockedAddress(models.Model):
    """An email address, an email domain (@example.com) or an IP address known for abuse."""

    pattern = models.CharField(max_length=254, unique=True)
    note = models.CharField(max_length=200, blank=True)

    panels = [FieldPanel("pattern"), FieldPanel("note")]

    class Meta:
        verbose_name_plural = "blocked addresses"

    def __str__(self):
        return self.pattern
