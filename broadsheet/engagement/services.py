"""Votes, comments, flags and moderation: every write readers and moderators make."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from broadsheet.core.caching import purge
from broadsheet.core.errors import BroadsheetError
from broadsheet.news.models import SectionPage, StoryPage
from broadsheet.news.services import EDITORS

from . import readers
from .models import Comment, CommentFlag, CommentPolicy, Vote, VoteTally
from .scoring import Draft, score_comment

logger = logging.getLogger(__name__)


class VotingClosed(BroadsheetError):
    """Votes are not taken on this story."""


class CommentsClosed(BroadsheetError):
    """Comments are closed on this story."""


class CommentRefused(BroadsheetError):
    """A reply to something that cannot be replied to."""


# Votes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    count: int
    total: int

    @property
    def average(self) -> float:
        return round(self.total / self.count, 1) if self.count else 0.0

    @property
    def text(self) -> str:
        if self.count == 0:
            return "No votes yet. Be the first to rate this story."
        if self.count == 1:
            return "1 user has voted."
        return f"{self.count:,} users have voted."


def tally_key(story_id: int) -> str:
    return f"engagement:tally:{story_id}"


def tally_for(story_id: int, *, fresh: bool = False) -> Tally:
    """The story's tally. Readers other than the voter may see one up to
    BROADSHEET_TALLY_CACHE_SECONDS old; `fresh` reads the database.
    """
    if not fresh and (cached := cache.get(tally_key(story_id))) is not None:
        return Tally(*cached)
    row = VoteTally.objects.filter(story_id=story_id).values_list("count", "total").first()
    tally = Tally(*(row or (0, 0)))
    cache.set(
        tally_key(story_id), (tally.count, tally.total), settings.BROADSHEET_TALLY_CACHE_SECONDS
    )
    return tally


def recount_tally(story_id: int) -> Tally:
    """Count the story's votes afresh and store the result (for repairs and checks)."""
    counted = Vote.objects.filter(story_id=story_id).aggregate(n=Count("pk"), total=Sum("stars"))
    tally = Tally(count=counted["n"], total=counted["total"] or 0)
    VoteTally.objects.update_or_create(
        story_id=story_id, defaults={"count": tally.count, "total": tally.total}
    )
    cache.delete(tally_key(story_id))
    return tally


def votes_open(story: StoryPage) -> bool:
    return bool(story.live and story.votes_open)


def cast_vote(*, story: StoryPage, reader: str, stars: int, address: str) -> Tally:
    """Record the reader's stars for the story, replacing their earlier vote if any.

    The vote is one upsert and the tally moves with it inside the database, so readers
    voting at the same moment lose no vote and count none twice, on SQLite and PostgreSQL.
    """
    if not votes_open(story):
        raise VotingClosed("Votes are closed on this story.")
    if not 1 <= stars <= 5:
        raise BroadsheetError("Choose from one to five stars.")
    # One transaction, so one commit: the limits are counted in the database, and with a
    # commit each they cut votes/s by a quarter on SQLite (bench/engagement_load.py: 470
    # before the limits were shared, 353 with three commits, 453 in one transaction).
    with transaction.atomic():
        address_key = readers.address_hash(address)
        readers.check_rate(
            scope="vote-address",
            key=address_key,
            limit=settings.BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE,
            window=60,
            message="Too many votes from your network in the last minute. Please try again soon.",
        )
        if not Vote.objects.filter(story_id=story.pk, reader=reader).exists():
            # A new reader id costs nothing (drop the cookie, get another), so what one address
            # adds to one story's tally is capped; readers changing their vote are not.
            readers.check_rate(
                scope=f"new-voters:{story.pk}",
                key=address_key,
                limit=settings.BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR,
                window=3600,
                message="Many readers on your network have rated this story in the last hour. "
                "Please try again later.",
            )
        # One statement: INSERT ... ON CONFLICT (story, reader) DO UPDATE. The database's
        # triggers (migration 0003) move the story's VoteTally in the same statement.
        now = timezone.now()
        Vote.objects.bulk_create(
            [Vote(story_id=story.pk, reader=reader, stars=stars, created_at=now, updated_at=now)],
            update_conflicts=True,
            unique_fields=["story", "reader"],
            update_fields=["stars", "updated_at"],
        )
    return tally_for(story.pk, fresh=True)


def reader_vote(*, story_id: int, reader: str) -> int | None:
    return (
        Vote.objects.filter(story_id=story_id, reader=reader)
        .values_list("stars", flat=True)
        .first()
    )


# Comments -----------------------------------------------------------------------------


def comments_open(story: StoryPage) -> bool:
    """Open if the editor has not closed them and the story is young enough."""
    if not (story.live and story.comments_open):
        return False
    days = settings.BROADSHEET_COMMENTS_CLOSE_AFTER_DAYS
    published = story.first_published_at or timezone.now()
    return not days or timezone.now() < published + timedelta(days=days)


def policy_for(story: StoryPage) -> CommentPolicy:
    """The nearest section's policy, or the default (score and decide)."""
    sections = SectionPage.objects.ancestor_of(story).order_by("-depth")
    policy = CommentPolicy.objects.filter(section__in=sections).order_by("-section__depth").first()
    return policy or CommentPolicy(mode=CommentPolicy.Mode.SCORE)


def decide(verdict, policy: CommentPolicy) -> str:
    if verdict.failed or policy.mode == CommentPolicy.Mode.HOLD_ALL:
        return Comment.Status.HELD
    if verdict.score >= policy.reject_at:
        return Comment.Status.SPAM
    if verdict.score >= policy.hold_at:
        return Comment.Status.HELD
    return Comment.Status.PUBLISHED


def post_comment(
    *,
    story: StoryPage,
    name: str,
    email: str,
    body: str,
    reader: str,
    address: str,
    parent: Comment | None = None,
    user=None,
    honeypot_filled: bool = False,
) -> Comment:
    """Save a reader's comment as published, held or spam, as scoring and policy decide.

    A comment is always saved (even one a bot sent): moderators can rescue a false
    positive; nothing a reader typed is thrown away.
    """
    if not comments_open(story):
        raise CommentsClosed("Comments are closed on this story.")
    if parent is not None and (
        parent.story_id != story.pk
        or parent.parent_id is not None
        or parent.status != Comment.Status.PUBLISHED
    ):
        raise CommentRefused("You can only reply to a published comment on this story.")
    address_key = readers.address_hash(address)
    is_staff = bool(user and user.is_authenticated and user.is_staff)
    if not is_staff:
        readers.check_rate(
            scope="comment-address",
            key=address_key,
            limit=settings.BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR,
            window=3600,
            message="Too many comments from your network in the last hour. "
            "Your text is below: please try again later.",
        )
        readers.check_rate(
            scope="comment-reader",
            key=reader,
            limit=settings.BROADSHEET_COMMENTS_PER_READER_PER_MINUTE,
            window=60,
            message="You are commenting very fast. Your text is below: wait a minute and "
            "send it again.",
        )
    if is_staff:
        status, verdict_score, reasons = Comment.Status.PUBLISHED, 0.0, ""
    elif honeypot_filled:
        status, verdict_score, reasons = Comment.Status.SPAM, 1.0, "honeypot field filled"
    else:
        verdict = score_comment(
            Draft(
                story_id=story.pk, name=name, email=email, body=body, address=address, reader=reader
            )
        )
        status = decide(verdict, policy_for(story))
        verdict_score, reasons = verdict.score, "; ".join(r for r in verdict.reasons if r)
    comment = Comment.objects.create(
        story=story,
        parent=parent,
        name=name,
        email=email,
        body=body,
        status=status,
        spam_score=verdict_score,
        spam_reasons=reasons[:500],
        reader=reader,
        address_hash=address_key,
        user=user if is_staff else None,
        is_staff_reply=is_staff,
    )
    if status == Comment.Status.PUBLISHED:
        comments_changed([story.pk], taken_down=False)
    return comment


def flag_comment(*, comment: Comment, reader: str, address: str) -> Comment:
    """Record a reader's report and put the comment in front of a moderator.

    A report counts once per reader and once per address, so a client that drops its
    cookie and reports again adds nothing. A published comment is held (taken off the
    page until a moderator decides) once readers from BROADSHEET_FLAGS_TO_HOLD different
    addresses have reported it; a staff reply never is. Every report, whether it hides the
    comment or not, puts it in the moderation queue.
    """
    address_key = readers.address_hash(address)
    readers.check_rate(
        scope="flag-address",
        key=address_key,
        limit=30,
        window=3600,
        message="Too many reports from your network. Thank you; moderators have been told.",
    )
    with transaction.atomic():
        counted = not CommentFlag.objects.filter(
            Q(reader=reader) | Q(address_hash=address_key), comment=comment
        ).exists()
        if counted:
            try:
                with transaction.atomic():
                    CommentFlag.objects.create(
                        comment=comment, reader=reader, address_hash=address_key
                    )
            except IntegrityError:  # the same reader or address, a moment earlier
                counted = False
        if counted:
            Comment.objects.filter(pk=comment.pk).update(
                flag_count=F("flag_count") + 1, reported_at=timezone.now()
            )
            comment.refresh_from_db()
            if (
                comment.status == Comment.Status.PUBLISHED
                and not comment.is_staff_reply
                and comment.flag_count >= settings.BROADSHEET_FLAGS_TO_HOLD
            ):
                Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HELD)
                comment.status = Comment.Status.HELD
                comments_changed([comment.story_id])
    return comment


def moderate(*, comments, status: str, moderator) -> int:
    """Set the status of several comments at once (approve, reject, mark as spam).

    A decision answers the reports too: the comment leaves the queue until reported again.
    """
    if status not in Comment.Status.values:
        raise BroadsheetError("Unknown moderation decision.")
    comments = list(comments)
    # Published before or after: either way the story's page shows a different thread.
    comments_changed((c.story_id for c in comments), taken_down=status != Comment.Status.PUBLISHED)
    return Comment.objects.filter(pk__in=[c.pk for c in comments]).update(
        status=status, moderated_at=timezone.now(), moderated_by=moderator, reported_at=None
    )


def comments_key(story_id: int) -> str:
    """The surrogate key of a story's comments as its page shows them
    (broadsheet/core/caching.py): purged when one is published or taken off, which
    refreshes that one page and nothing else (docs/decisions/0004)."""
    return f"c{story_id}"


def comments_changed(story_ids, *, taken_down: bool = True) -> None:
    """Once committed, refresh the pages of the stories whose published comments changed.

    A comment added is a soft refresh (`taken_down=False`); anything else (rejected, held,
    edited, deleted) may be a comment that must not be shown again, even from a stale copy.
    """
    keys = [comments_key(story_id) for story_id in set(story_ids)]
    transaction.on_commit(lambda: purge(*keys, taken_down=taken_down))


def published_comments(story_id: int):
    """Published top-level comments with their published replies, oldest first."""
    comments = list(
        Comment.objects.filter(story_id=story_id, status=Comment.Status.PUBLISHED).only(
            "pk", "parent_id", "name", "body", "created_at", "is_staff_reply", "story_id"
        )
    )
    replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    threads = [c for c in comments if not c.parent_id]
    for comment in threads:
        comment.published_replies = replies.get(comment.pk, [])
    return threads, len(comments)


def comment_counts(story_ids) -> dict[int, int]:
    rows = (
        Comment.objects.filter(story_id__in=list(story_ids), status=Comment.Status.PUBLISHED)
        .values("story_id")
        .annotate(n=Count("pk"))
    )
    return {row["story_id"]: row["n"] for row in rows}


# Roles --------------------------------------------------------------------------------

COMMENT_MODERATORS = "Comment moderators"
# Wagtail ships a "Moderators" group for page workflows; comment moderators are another role.
MODERATE_COMMENTS = ["view_comment", "change_comment", "view_blockedterm", "view_blockedaddress"]
SET_COMMENT_RULES = [
    f"{action}_{model}"
    for model in ("blockedterm", "blockedaddress", "commentpolicy")
    for action in ("add", "change", "delete", "view")
]


def ensure_moderator_role() -> Group:
    """Create the comment moderators' role and let editors moderate too; safe to run again.

    Moderators reach the admin, read the queue and decide on comments; they cannot touch
    pages. Editors also set the blocked terms, blocked addresses and section policies.
    """
    engagement = Permission.objects.filter(content_type__app_label="engagement")
    moderators, _ = Group.objects.get_or_create(name=COMMENT_MODERATORS)
    moderators.permissions.add(
        *Permission.objects.filter(content_type__app_label="wagtailadmin", codename="access_admin"),
        *engagement.filter(codename__in=MODERATE_COMMENTS),
    )
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.add(*engagement.filter(codename__in=MODERATE_COMMENTS + SET_COMMENT_RULES))
    return moderators
