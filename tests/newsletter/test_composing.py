"""What goes into a day's issue: editors' picks, then the ranking, then the blog posts."""

from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.models import Site

from broadsheet.engagement.models import Comment
from broadsheet.engagement.services import cast_vote
from broadsheet.news import services as news_services
from broadsheet.newsletter.composing import compose
from broadsheet.newsletter.models import DailyIssue, IssuePick, NewsletterSettings, send_moment


@pytest.fixture
def issue(db):
    return DailyIssue.objects.create(date=timezone.localdate())


@pytest.fixture
def hours_before(issue):
    moment = send_moment(issue)
    return lambda hours: moment - timedelta(hours=hours)


def titles(items):
    return [item.title for item in items]


def compose_at_send_time(issue):
    return compose(issue, now=send_moment(issue))


def publish_comments(story, count):
    for n in range(count):
        Comment.objects.create(
            story=story, name=f"Reader {n}", body="Well put.", status=Comment.Status.PUBLISHED
        )


def test_picks_lead_in_the_editors_order_whatever_their_score(issue, make_article, hours_before):
    fresh = make_article(title="Fresh", slug="fresh", published_at=hours_before(1))
    older = make_article(title="Older pick", slug="older", published_at=hours_before(20))
    oldest = make_article(title="Week-old pick", slug="oldest", published_at=hours_before(24 * 7))
    IssuePick.objects.create(issue=issue, story=oldest, sort_order=0)
    IssuePick.objects.create(issue=issue, story=older, sort_order=1)

    composition = compose_at_send_time(issue)

    assert titles(composition.top_stories) == ["Week-old pick", "Older pick", "Fresh"]
    assert [item.picked for item in composition.top_stories] == [True, True, False]
    assert fresh.pk in composition.story_ids


def test_a_story_readers_engaged_with_outranks_one_of_the_same_age(
    issue, make_article, hours_before
):
    # Created first, so the tie-break (newest id first) would put it second on its own.
    discussed = make_article(title="Discussed", slug="discussed", published_at=hours_before(3))
    ignored = make_article(title="Ignored", slug="ignored", published_at=hours_before(3))
    for n in range(3):
        cast_vote(story=discussed, reader=f"reader-{n}", stars=5, address=f"192.0.2.{n}")
    publish_comments(discussed, 2)

    ranked = compose_at_send_time(issue).top_stories

    assert titles(ranked) == ["Discussed", "Ignored"]
    assert ranked[0].votes == 3 and ranked[0].comment_count == 2
    assert ranked[0].score > ranked[1].score
    assert ignored.pk == ranked[1].story_id


def test_a_fresh_story_beats_a_day_old_one_with_a_little_engagement(
    issue, make_article, hours_before
):
    make_article(title="Fresh", slug="fresh", published_at=hours_before(1))
    old = make_article(title="Day old", slug="day-old", published_at=hours_before(22))
    publish_comments(old, 1)

    assert titles(compose_at_send_time(issue).top_stories) == ["Fresh", "Day old"]


def test_only_the_24_hours_before_the_send_time_count(issue, make_article, hours_before):
    make_article(title="Inside", slug="inside", published_at=hours_before(23))
    make_article(title="Too old", slug="too-old", published_at=hours_before(25))
    make_article(title="After the send", slug="late", published_at=hours_before(-1))

    assert titles(compose_at_send_time(issue).top_stories) == ["Inside"]


def test_blog_posts_are_listed_apart_newest_first(
    issue, make_article, make_blog_post, hours_before
):
    make_article(title="A story", slug="story", published_at=hours_before(2))
    earlier = make_blog_post(title="Earlier post", slug="earlier")
    later = make_blog_post(title="Later post", slug="later")
    news_services.backdate_story(story=earlier, published_at=hours_before(6))
    news_services.backdate_story(story=later, published_at=hours_before(4))

    composition = compose_at_send_time(issue)

    assert titles(composition.top_stories) == ["A story"]
    assert titles(composition.blog_posts) == ["Later post", "Earlier post"]
    assert composition.blog_posts[0].section == "Northgate Notebook"


def test_the_issue_carries_the_number_of_top_stories_editors_set(issue, make_article, hours_before):
    settings = NewsletterSettings.load()
    settings.top_story_count = 2
    settings.save()
    for n in range(4):
        make_article(title=f"Story {n}", slug=f"story-{n}", published_at=hours_before(n + 1))

    assert titles(compose_at_send_time(issue).top_stories) == ["Story 0", "Story 1"]


def test_items_carry_absolute_links_bylines_and_the_photo(
    issue, make_article, agency, photo, reporter_author, hours_before
):
    # Links are made from the site's own address (Settings › Sites), not a setting.
    Site.objects.filter(is_default_site=True).update(hostname="courier.test", port=80)
    make_article(title="Wire story", slug="wire", agency=agency, published_at=hours_before(1))

    (item,) = compose_at_send_time(issue).top_stories

    assert item.url == "http://courier.test/news/wire/"
    assert item.section == "News"
    assert item.byline == "By Miriam Okafor and CPA"
    assert item.photo_url.startswith("http://courier.test/media/")
    assert item.photo_alt == photo.description
