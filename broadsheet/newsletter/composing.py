"""What goes into a day's issue: editors' picks, then the ranking, then the day's blog posts.

The ranking (documented for editors in docs/newsletter.md) rewards what readers did with
a story and lets it fade with age, the way the "hot" lists of link sites do:

    engagement = 1 + 2 × votes × (average stars ÷ 5) + 3 × published comments
    score      = engagement ÷ (hours since first published + 2) ^ 1.5

A fresh story with no reaction yet still beats a day-old one with a little, and a story
readers argue about beats one they ignore. Only stories first published in the 24 hours
before the issue's send time take part, and blog posts of the same 24 hours follow the top
stories, newest first.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from broadsheet.engagement.models import VoteTally
from broadsheet.engagement.services import comment_counts
from broadsheet.news.models import ArticlePage, BlogPostPage, StoryPage, default_site
from broadsheet.news.paper import absolute_url

logger = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)
BLOG_POST_LIMIT = 10
PHOTO_SPEC = "fill-1200x675"  # shown at 600 × 338 in the email; twice that for sharp screens


@dataclass
class IssueItem:
    """A story as the email shows it: everything absolute, nothing left to look up."""

    story_id: int
    title: str
    url: str
    standfirst: str
    section: str
    byline: str
    published_at: datetime
    photo_url: str = ""
    photo_alt: str = ""
    photo_credit: str = ""
    photo_width: int = 0
    photo_height: int = 0
    comment_count: int = 0
    votes: int = 0
    score: float = 0.0
    picked: bool = False


@dataclass
class Composition:
    """An issue's contents. `issue` is its DailyIssue: this module stands below the models
    (whose preview composes), so it reads the issue and its settings, never the table."""

    issue: object
    subject: str
    introduction: str
    postal_address: str = ""
    top_stories: list[IssueItem] = field(default_factory=list)
    blog_posts: list[IssueItem] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.top_stories and not self.blog_posts

    @property
    def story_ids(self) -> list[int]:
        return [item.story_id for item in self.top_stories + self.blog_posts]


def default_subject(issue) -> str:
    return subject_for(issue.date)


def subject_for(day) -> str:
    """The subject of the issue for `day` when editors leave it blank."""
    return f"Top stories for {day:%A %-d %B}"


def score(*, votes: int, stars_total: int, comments: int, age: timedelta) -> float:
    average = stars_total / votes if votes else 0
    engagement = 1 + 2 * votes * (average / 5) + 3 * comments
    hours = max(age.total_seconds(), 0) / 3600
    return engagement / (hours + 2) ** 1.5


def item_for(story: StoryPage, *, comments: int, tally: tuple[int, int], now, picked=False):
    votes, stars_total = tally
    item = IssueItem(
        story_id=story.pk,
        title=story.title,
        url=story.get_full_url(),
        standfirst=story.standfirst,
        section=story.parent_title,
        byline=story.byline_text,
        published_at=story.first_published_at,
        comment_count=comments,
        votes=votes,
        score=score(
            votes=votes,
            stars_total=stars_total,
            comments=comments,
            age=now - story.first_published_at,
        ),
        picked=picked,
    )
    if story.lead_photo_id:
        try:
            rendition = story.lead_photo.get_rendition(PHOTO_SPEC)
        except OSError:  # wagtail.images.models.SourceImageIOError among them
            # A photo whose file went missing must not stop the morning's email.
            logger.warning("Newsletter: no rendition of photo %s", story.lead_photo_id)
            return item
        item.photo_url = absolute_url(rendition.url)
        item.photo_alt = story.lead_photo.description or story.lead_photo.title
        item.photo_credit = story.lead_photo.credit
        item.photo_width, item.photo_height = rendition.width // 2, rendition.height // 2
    return item


def compose(issue, *, now: datetime | None = None) -> Composition:
    """The issue as it would go out now: picks in the editors' order, then the best of the
    rest by score, then the blog posts. Unpublished picks are left out."""
    now = now or timezone.now()
    until = min(now, issue.send_moment())
    since = until - WINDOW
    count = issue.newsletter_settings.top_story_count

    # Read through the relation rather than a query: in a preview the picks are the
    # editor's unsaved ones, held in memory by modelcluster.
    picked_ids = [
        pick.story_id
        for pick in sorted(issue.picks.all(), key=lambda pick: pick.sort_order or 0)
        if pick.story_id
    ]
    site = default_site()
    readable = StoryPage.objects.for_readers(site)
    picks = {s.pk: s for s in readable.filter(pk__in=picked_ids).for_listing()}
    recent = list(
        ArticlePage.objects.for_readers(site)
        .filter(first_published_at__gt=since, first_published_at__lte=until)
        .exclude(pk__in=picked_ids)
        .for_listing()
    )
    posts = list(
        BlogPostPage.objects.for_readers(site)
        .filter(first_published_at__gt=since, first_published_at__lte=until)
        .exclude(pk__in=picked_ids)
        .order_by("-first_published_at", "-pk")
        .for_listing()[:BLOG_POST_LIMIT]
    )
    story_ids = [*picks, *(s.pk for s in recent), *(p.pk for p in posts)]
    comments = comment_counts(story_ids)
    tallies = {
        row.story_id: (row.count, row.total)
        for row in VoteTally.objects.filter(story_id__in=story_ids)
    }

    def item(story, picked=False):
        return item_for(
            story,
            comments=comments.get(story.pk, 0),
            tally=tallies.get(story.pk, (0, 0)),
            now=until,
            picked=picked,
        )

    top = [item(picks[pk], picked=True) for pk in picked_ids if pk in picks]
    ranked = sorted((item(story) for story in recent), key=lambda i: (-i.score, -i.story_id))
    top += ranked[: max(count - len(top), 0)]
    return Composition(
        issue=issue,
        subject=issue.subject or default_subject(issue),
        introduction=issue.introduction,
        postal_address=issue.newsletter_settings.postal_address,
        top_stories=top,
        blog_posts=[item(post) for post in posts],
    )
