"""The demo newsroom: seeded through the services, complete, and never duplicated.

Seeding takes seconds, so it runs once for the whole class (Django's setUpTestData) and
each test reads the result inside its own rolled-back transaction.
"""

import io
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase, override_settings
from wagtail.models import Site

from broadsheet.news.models import (
    Agency,
    ArticlePage,
    Author,
    BlogIndexPage,
    BlogPostPage,
    SectionPage,
    StoryPage,
)
from broadsheet.wire.models import DeskAlert, ReceivedFile, WireItem, WireSource

VAR_DIR = Path(tempfile.mkdtemp(prefix="broadsheet-demo-test-"))


def seed():
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    return output.getvalue()


def block_types(story):
    return [block.block_type for block in story.body]


@override_settings(VAR_DIR=VAR_DIR)
class DemoNewsroomTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        with override_settings(VAR_DIR=VAR_DIR):
            cls.output = seed()

    def test_demo_newsroom_has_what_the_issue_asks_for(self):
        articles = ArticlePage.objects.live()

        assert SectionPage.objects.live().count() >= 6
        assert SectionPage.objects.filter(depth__gte=5).exists(), "no nested sections"
        assert articles.count() >= 60
        assert Agency.objects.count() >= 2 and Author.objects.count() >= 4
        assert BlogIndexPage.objects.live().count() == 2
        assert BlogPostPage.objects.live().count() >= 10
        oldest = articles.order_by("first_published_at").first().first_published_at
        assert (articles.latest_first().first().first_published_at - oldest).days >= 21

    def test_every_demo_article_has_a_credited_captioned_photo_and_a_real_body(self):
        # The newsroom's own demo copy; the wire desk's comes as agencies send it.
        staff_copy = ArticlePage.objects.live().filter(wire_items__isnull=True)
        for story in staff_copy.select_related("lead_photo"):
            assert story.lead_photo and story.lead_photo.credit and story.lead_photo_caption
            assert block_types(story).count("crosshead") == 2, story.title
            assert "quote" in block_types(story)

    def test_demo_has_corrections_updates_wire_copy_and_a_scheduled_story(self):
        stories = list(StoryPage.objects.live())

        assert any(story.corrections.exists() for story in stories)
        assert any(story.last_updated_at > story.first_published_at for story in stories)
        assert ArticlePage.objects.live().filter(agency__isnull=False).exists()
        scheduled = ArticlePage.objects.filter(live=False, go_live_at__isnull=False)
        assert scheduled.filter(wire_items__isnull=True).count() == 1

    def test_the_wire_desk_shows_a_morning_of_agency_copy(self):
        items = WireItem.objects.latest_versions()

        assert WireSource.objects.count() == 2
        assert items.filter(kind="text").count() >= 24
        assert set(items.values_list("language", flat=True)) >= {"en", "fr", "es", "ar", "he"}
        updated = items.get(version="2", desk=WireItem.Desk.PUBLISHED)
        assert [c.note for c in updated.story.specific.corrections.all()] == [
            "This story was corrected by CPA."
        ]
        killed = items.get(desk=WireItem.Desk.KILLED)
        assert killed.story is not None and not killed.story.live
        embargoed = items.get(desk=WireItem.Desk.SCHEDULED)
        assert not embargoed.story.live and embargoed.story.go_live_at == embargoed.embargo
        assert ReceivedFile.objects.filter(status=ReceivedFile.Status.QUARANTINED).count() == 1
        assert set(DeskAlert.objects.values_list("kind", flat=True)) == {"killed", "quarantine"}
        assert ArticlePage.objects.filter(
            wire_items__isnull=False, lead_photo__isnull=False
        ).exists()
        assert "goes live at" in self.output

    def test_demo_readers_voted_and_talked_with_a_staff_reply(self):
        from broadsheet.engagement.models import Comment, Vote

        published = Comment.objects.filter(status=Comment.Status.PUBLISHED)
        assert Vote.objects.values("story").distinct().count() >= 20
        assert published.count() >= 15
        assert published.filter(is_staff_reply=True, parent__isnull=False).count() == 1
        # A few land in the moderation queue, as on a real day; most do not.
        assert Comment.objects.exclude(status=Comment.Status.PUBLISHED).count() < 10

    def test_demo_site_root_is_the_papers_front_page(self):
        site = Site.objects.get(is_default_site=True)

        assert site.root_page.specific_class.__name__ == "HomePage"
        assert self.client.get("/").status_code == 200

    def test_demo_logins_are_printed_kept_and_work(self):
        logins = (VAR_DIR / "demo-logins.txt").read_text()
        password = logins.split("Password: ")[1].split()[0]

        assert f"Password: {password}" in self.output
        assert "editor" in logins and "/admin/" in logins
        signed_in = self.client.post("/admin/login/", {"username": "editor", "password": password})
        assert signed_in.status_code == 302
        assert signed_in["Location"] == "/admin/"
        editor = get_user_model().objects.get(username="editor")
        assert editor.groups.filter(name="Editors").exists()

    def test_the_demo_reporters_copy_goes_to_the_demo_editor(self):
        from wagtail.models import Page

        workflow = Page.get_first_root_node().get_workflow()
        task = workflow.tasks.first().specific
        reviewers = get_user_model().objects.filter(groups__in=task.groups.all())

        assert workflow.name == "Editors' review"
        assert list(reviewers.values_list("username", flat=True)) == ["editor"]
        assert reviewers.get().email  # the notification reaches an address

    def test_seeded_comments_come_after_their_story_and_before_now(self):
        from django.utils import timezone

        from broadsheet.engagement.models import Comment

        comments = Comment.objects.select_related("story", "parent")
        assert comments.count() > 10
        for comment in comments:
            assert comment.story.first_published_at < comment.created_at <= timezone.now()
            if comment.parent:
                assert comment.parent.created_at < comment.created_at
        assert len({c.created_at for c in comments}) == comments.count()

    def test_money_in_headlines_keeps_its_currency_sign(self):
        money = ArticlePage.objects.filter(title__contains="million")

        assert money.exists()
        assert all("£" in story.title for story in money)

    def test_seeding_again_duplicates_nothing(self):
        counts = (StoryPage.objects.count(), Author.objects.count(), SectionPage.objects.count())
        logins = (VAR_DIR / "demo-logins.txt").read_text()

        output = seed()

        assert (
            StoryPage.objects.count(),
            Author.objects.count(),
            SectionPage.objects.count(),
        ) == counts
        assert "Stories: 0 created" in output
        assert "Reader comments: 0 created" in output
        assert (VAR_DIR / "demo-logins.txt").read_text() == logins  # the same password
