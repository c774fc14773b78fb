"""Readers for the demo newsroom: votes and a few conversations, through the services.

Seeded readers are given addresses from the documentation range (192.0.2.0/24), which no
real reader has. Idempotent: stories that already have comments are left alone.
"""

import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from broadsheet.news.models import ArticlePage
from broadsheet.news.services import EDITORS

from . import services
from .models import Comment

SEED = 2017
NAMES = [
    "Ruth A.",
    "Daniel K.",
    "Samira",
    "Graham Holt",
    "F. Diallo",
    "Peter L.",
    "Yusuf",
    "Helen from Eastmoor",
    "Nadia",
    "Tom W.",
]
REMARKS = [
    "This has been coming for years. Good to see it finally reported properly.",
    "I live two streets away and nobody asked us. The consultation was a formality.",
    "Does anyone know whether the evening hours will change?",
    "Balanced piece, thank you. More of this, please.",
    "The figures in the fact box are striking. Where do they come from?",
    "My grandmother worked there in the seventies; glad it is being looked after.",
    "Who is paying for this in the end? That is the question nobody answers.",
    "Went along on Saturday. Busy, friendly, and the coffee was good.",
]
FOLLOW_UPS = [
    "Said the same at the last meeting.",
    "Just my view.",
    "Thanks to the reporter.",
    "We'll see what happens next.",
    "Keep us posted.",
    "Anyone else noticed this?",
    "Long overdue.",
    "Well written.",
]
SIGN_OFFS = ["", "Cheers.", "(Eastmoor resident)", "Regards.", "From a long-time reader."]
REPLIES = [
    "Agreed. The meeting minutes are on the council website if anyone wants them.",
    "Not sure that is fair: there were three public meetings.",
]


def seed_readers(*, staff_user=None, progress=lambda n: None) -> int:
    """Votes on most stories and comments on the newest ones; returns comments created.

    With `staff_user`, the newsroom answers the first conversation (a "Staff" reply).
    """
    created = 0
    # The demo posts as many readers from few addresses: lift the limits while seeding.
    with override_settings(
        BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE=10**6,
        BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR=10**6,
        BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR=10**6,
        BROADSHEET_COMMENTS_PER_READER_PER_MINUTE=10**6,
    ):
        stories = list(ArticlePage.objects.for_readers().latest_first()[:40])
        for index, story in enumerate(stories):
            rng = random.Random(SEED + story.pk)
            for voter in range(rng.randint(0, 30)):
                services.cast_vote(
                    story=story,
                    reader=f"demo{story.pk:08d}{voter:020d}",
                    stars=rng.choice([2, 3, 4, 4, 5, 5]),
                    address=f"192.0.2.{voter % 250 + 1}",
                )
            if index < 12 and not Comment.objects.filter(story=story).exists():
                created += _conversation(story, rng)
                if index == 0 and staff_user is not None:
                    created += _staff_reply(story, staff_user)
            progress(1)
    return created


def _stamp(comment: Comment, *, after: datetime, rng) -> datetime:
    """Date a seeded comment some minutes after `after` (never in the future).

    The services stamp a comment with the moment it is posted, which for the seeder is
    the moment of seeding; readers comment after a story appears, over the hours after.
    """
    at = min(after + timedelta(minutes=rng.randint(12, 150)), timezone.now())
    Comment.objects.filter(pk=comment.pk).update(created_at=at)
    comment.created_at = at
    return at


def _conversation(story, rng) -> int:
    comments = []
    last = story.first_published_at
    for n, remark in enumerate(rng.sample(REMARKS, rng.randint(1, 4))):
        comment = services.post_comment(
            story=story,
            name=rng.choice(NAMES),
            email="",
            body=f"{remark} {rng.choice(FOLLOW_UPS)} {rng.choice(SIGN_OFFS)}".strip(),
            reader=f"demo-reader-{story.pk}-{n}",
            address=f"192.0.2.{n + 1}",
        )
        last = _stamp(comment, after=last, rng=rng)
        comments.append(comment)
    first = comments[0]
    if first.status == Comment.Status.PUBLISHED and rng.random() < 0.6:
        reply = services.post_comment(
            story=story,
            name=rng.choice(NAMES),
            email="",
            body=f"{rng.choice(REPLIES)} {rng.choice(SIGN_OFFS)}".strip(),
            reader=f"demo-reader-{story.pk}-r",
            address="192.0.2.200",
            parent=first,
        )
        _stamp(reply, after=first.created_at, rng=rng)
        comments.append(reply)
    return len(comments)


def _staff_reply(story, user) -> int:
    first = Comment.objects.filter(
        story=story, status=Comment.Status.PUBLISHED, parent=None
    ).first()
    if first is None:
        return 0
    reply = services.post_comment(
        story=story,
        name="The Courier newsroom",
        email="",
        parent=first,
        user=user,
        body="Thanks for reading. We will follow this up next week with the full figures.",
        reader="demo-newsroom",
        address="192.0.2.254",
    )
    _stamp(reply, after=first.created_at, rng=random.Random(SEED + story.pk))
    return 1


def total_steps() -> int:
    return 40


# The demo command's interface (broadsheet/core/management/commands/seed_demo.py).
LOGINS = [("moderator", services.COMMENT_MODERATORS, "Comment moderators: admin › Comments only")]


def seed(*, progress=lambda n: None) -> str:
    """With an editor in the demo, the newsroom answers the first conversation."""
    staff = get_user_model().objects.filter(groups__name=EDITORS).order_by("pk").first()
    return f"Reader comments: {seed_readers(staff_user=staff, progress=progress)} created."
