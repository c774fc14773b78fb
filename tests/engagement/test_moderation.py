"""Comment moderation in the Wagtail admin, through the URLs a moderator's browser uses."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from broadsheet.engagement.models import BlockedTerm, Comment
from broadsheet.engagement.services import COMMENT_MODERATORS, ensure_moderator_role
from broadsheet.news.services import EDITORS, REPORTERS, ensure_newsroom_roles

QUEUE = "wagtailsnippets_engagement_comment:list"
HELD, PUBLISHED = Comment.Status.HELD, Comment.Status.PUBLISHED
REJECTED, SPAM = Comment.Status.REJECTED, Comment.Status.SPAM


def bulk_url(action, *comments, **params):
    query = "&".join(
        [f"id={c.pk}" for c in comments] + [f"{key}={value}" for key, value in params.items()]
    )
    return reverse("wagtail_bulk_action", args=("engagement", "comment", action)) + f"?{query}"


@pytest.fixture
def roles(db):
    ensure_newsroom_roles()
    ensure_moderator_role()


@pytest.fixture
def login(client, django_user_model, roles):
    """Log the client in as a new user in the named group (or as a superuser)."""

    def log_in(group=None):
        if group is None:
            user = django_user_model.objects.create_superuser("chief", "chief@example.org", "pw")
        else:
            user = django_user_model.objects.create_user(group.split()[0].lower(), password="pw")
            user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        return user

    return log_in


@pytest.fixture
def moderator(login):
    return login(COMMENT_MODERATORS)


@pytest.fixture
def say(story):
    def make(body, *, status=HELD, name="Ruth", on=None, **fields):
        return Comment.objects.create(
            story=on or story, name=name, body=body, status=status, **fields
        )

    return make


def queue(client, **params):
    response = client.get(reverse(QUEUE), params)
    assert response.status_code == 200
    return response


def bodies(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return {title.get_text(strip=True) for title in soup.select("td.title [id^=snippet_]")}


def test_the_queue_lists_held_comments_by_default(client, moderator, say):
    say("Waiting for a moderator")
    say("Already on the page", status=PUBLISHED)
    say("Buy cheap watches", status=SPAM)

    assert "Waiting for a moderator" in bodies(queue(client))
    assert "Already on the page" not in bodies(queue(client))
    assert bodies(queue(client, status="held")) == {"Waiting for a moderator"}


def test_the_queue_shows_story_status_spam_reasons_and_flags(client, moderator, say):
    say("Suspicious text", spam_score=0.62, spam_reasons="blocked term 'casino'", flag_count=2)

    soup = BeautifulSoup(queue(client).content, "html.parser")
    row = soup.select_one("tbody tr")
    text = row.get_text(" ", strip=True)
    assert "Ruth" in text
    assert "Held for moderation" in text
    assert "0.62" in text and "blocked term 'casino'" in text
    story_link = row.select_one("a[target=_blank]")
    assert story_link.get_text(strip=True) == "Harbour bridge to close for repairs"
    assert story_link["href"].endswith("/harbour-bridge/")


def test_choosing_all_statuses_lists_every_comment(client, moderator, say):
    say("Waiting", status=HELD)
    say("Published", status=PUBLISHED)
    say("Rejected", status=REJECTED)

    assert {"Waiting", "Published", "Rejected"} <= bodies(queue(client, status=""))
    assert "Waiting" not in bodies(queue(client, status="published"))


def test_the_queue_filters_by_story(client, moderator, say, story, make_article):
    other = make_article(title="Ferry timetable changes", slug="ferry")
    say("About the bridge")
    say("About the ferry", on=other)

    listed = bodies(queue(client, story=other.pk))
    assert "About the ferry" in listed
    assert "About the bridge" not in listed


def test_the_queue_filters_by_the_day_a_comment_was_sent(client, moderator, say):
    old = say("Sent last month")
    Comment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    say("Sent today")
    week_ago = (timezone.now() - timedelta(days=7)).date().isoformat()

    listed = bodies(queue(client, created_at_from=week_ago))
    assert "Sent today" in listed
    assert "Sent last month" not in listed


def test_the_queue_searches_names_and_text(client, moderator, say):
    say("The bridge needed this", name="Graham Holt")
    say("Nothing to do with it", name="Samira")

    assert "The bridge needed this" in bodies(queue(client, q="Holt"))
    assert "Nothing to do with it" not in bodies(queue(client, q="bridge needed"))


def test_each_row_offers_the_decisions_that_change_something(client, moderator, say):
    held = say("Waiting")

    soup = BeautifulSoup(queue(client).content, "html.parser")
    urls = [b["data-w-action-url-value"] for b in soup.select("[data-action='w-action#post']")]
    assert urls == [bulk_url(a, held) for a in ("approve", "reject", "spam")]

    published = say("On the page", status=PUBLISHED)
    soup = BeautifulSoup(queue(client, status="published").content, "html.parser")
    urls = [b["data-w-action-url-value"] for b in soup.select("[data-action='w-action#post']")]
    assert urls == [bulk_url(a, published) for a in ("reject", "spam")]


@pytest.mark.parametrize(
    ("action", "status"), [("approve", PUBLISHED), ("reject", REJECTED), ("spam", SPAM)]
)
def test_a_row_button_decides_one_comment_and_returns_to_the_queue(
    client, moderator, say, action, status
):
    chosen = say("Chosen")
    other = say("Left alone")
    back = reverse(QUEUE) + "?status=held"

    response = client.post(bulk_url(action, chosen), {"next": back})

    assert response.status_code == 302
    assert response["Location"] == back
    chosen.refresh_from_db()
    assert chosen.status == status
    assert chosen.moderated_by == moderator
    assert chosen.moderated_at is not None
    other.refresh_from_db()
    assert (other.status, other.moderated_by) == (HELD, None)


@pytest.mark.parametrize(
    ("action", "status"), [("approve", PUBLISHED), ("reject", REJECTED), ("spam", SPAM)]
)
def test_a_bulk_action_confirms_then_decides_the_chosen_comments(
    client, moderator, say, action, status
):
    first, second = say("First", name="Ann"), say("Second", name="Ben")
    third = say("Third", name="Cal")
    url = bulk_url(action, first, second, next=reverse(QUEUE))

    confirmation = client.get(url)
    assert confirmation.status_code == 200
    text = BeautifulSoup(confirmation.content, "html.parser").get_text(" ", strip=True)
    assert "Ann" in text and "Ben" in text and "Cal" not in text
    assert not Comment.objects.exclude(status=HELD).exists()

    response = client.post(url)

    assert response.status_code == 302
    decided = Comment.objects.filter(pk__in=[first.pk, second.pk])
    assert {(c.status, c.moderated_by) for c in decided} == {(status, moderator)}
    third.refresh_from_db()
    assert third.status == HELD


def test_select_all_in_listing_acts_only_on_what_the_listing_showed(
    client, moderator, say, make_article
):
    other = make_article(title="Ferry timetable changes", slug="ferry")
    on_bridge = [say("Bridge one"), say("Bridge two")]
    on_ferry = say("Ferry", on=other)
    spam = say("Casino", status=SPAM)
    published = say("Already out", status=PUBLISHED)

    # The listing was filtered by story and, by default, showed held comments only.
    story_pk = on_bridge[0].story_id
    client.post(
        reverse("wagtail_bulk_action", args=("engagement", "comment", "approve"))
        + f"?story={story_pk}&id=all"
    )

    assert {c.status for c in Comment.objects.filter(pk__in=[c.pk for c in on_bridge])} == {
        PUBLISHED
    }
    for untouched, status in ((on_ferry, HELD), (spam, SPAM), (published, PUBLISHED)):
        untouched.refresh_from_db()
        assert (untouched.status, untouched.moderated_by) == (status, None)


def test_the_dashboard_counts_comments_awaiting_moderation(client, moderator, say):
    say("One")
    say("Two")
    say("Reported", status=PUBLISHED, reported_at=timezone.now())
    say("Out", status=PUBLISHED)

    soup = BeautifulSoup(client.get(reverse("wagtailadmin_home")).content, "html.parser")
    link = soup.select_one("#comments-awaiting-moderation-section a[href*='status=waiting']")
    assert link.get_text(strip=True) == "3 comments awaiting moderation"
    assert link["href"] == reverse(QUEUE) + "?status=waiting"


def test_a_reported_comment_still_on_the_page_waits_in_the_queue(client, moderator, say):
    reported = say("Rude but visible", status=PUBLISHED, flag_count=1, reported_at=timezone.now())
    say("Fine and visible", status=PUBLISHED)

    listing = queue(client)
    assert bodies(listing) == {"Rude but visible"}
    soup = BeautifulSoup(listing.content, "html.parser")
    assert "Published, reported" in soup.select_one("tbody tr").get_text(" ", strip=True)
    buttons = {b.get_text(strip=True) for b in soup.select("[data-action='w-action#post']")}
    assert buttons == {"Keep published", "Reject", "Mark as spam"}

    client.post(bulk_url("approve", reported))

    reported.refresh_from_db()
    assert (reported.status, reported.reported_at) == (PUBLISHED, None)
    assert bodies(queue(client)) == set()


def test_the_dashboard_panel_is_not_shown_to_reporters(client, login, say):
    login(REPORTERS)
    say("One")

    response = client.get(reverse("wagtailadmin_home"))

    assert response.status_code == 200
    assert b"comments-awaiting-moderation" not in response.content


def test_reporters_cannot_open_or_use_the_queue(client, login, say):
    login(REPORTERS)
    held = say("Waiting")

    assert client.get(reverse(QUEUE)).status_code in (302, 403)
    assert client.post(bulk_url("approve", held)).status_code in (302, 403)
    held.refresh_from_db()
    assert held.status == HELD


def test_moderators_cannot_edit_pages(client, moderator, story):
    response = client.get(reverse("wagtailadmin_pages:edit", args=(story.pk,)))

    assert response.status_code in (302, 403)
    assert client.get(reverse("wagtailadmin_explore_root")).status_code in (302, 403)


def test_moderators_read_blocked_terms_but_only_editors_change_them(client, login):
    BlockedTerm.objects.create(term="casino")
    terms = reverse("wagtailsnippets_engagement_blockedterm:list")
    add_term = reverse("wagtailsnippets_engagement_blockedterm:add")

    login(COMMENT_MODERATORS)
    assert b"casino" in client.get(terms).content
    assert client.get(add_term).status_code in (302, 403)

    login(EDITORS)
    assert client.get(add_term).status_code == 200
    assert client.get(reverse("wagtailsnippets_engagement_commentpolicy:add")).status_code == 200


def test_editors_moderate_too(client, login, say):
    editor = login(EDITORS)
    held = say("Waiting")

    assert "Waiting" in bodies(queue(client))
    client.post(bulk_url("approve", held))

    held.refresh_from_db()
    assert (held.status, held.moderated_by) == (PUBLISHED, editor)


def test_nobody_adds_comments_in_the_admin(client, login):
    login()  # even a superuser

    response = queue(client)

    assert b"Add comment" not in response.content
    add = client.get(reverse("wagtailsnippets_engagement_comment:add"))
    assert add.status_code in (302, 403)


def test_the_edit_form_changes_text_but_never_the_status(client, moderator, say):
    held = say("Call me on 0123 456789")
    edit = reverse("wagtailsnippets_engagement_comment:edit", args=(held.pk,))

    response = client.post(edit, {"name": "Ruth", "body": "Call me", "status": PUBLISHED})

    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.body, held.status) == ("Call me", HELD)


def test_the_queue_costs_the_same_queries_for_many_comments(client, moderator, say):
    say("First")
    queue(client)  # warms the per-process caches (site root paths, content types)
    with CaptureQueriesContext(connection) as one:
        queue(client)
    for n in range(15):
        say(f"Comment {n}")
    with CaptureQueriesContext(connection) as many:
        queue(client)

    assert len(many) == len(one)


def test_a_moderator_reads_the_whole_comment_with_its_address(client, moderator, say):
    held = say("A long comment " * 20, email="ruth@example.org", spam_reasons="already posted")

    response = client.get(reverse("wagtailsnippets_engagement_comment:inspect", args=(held.pk,)))

    assert response.status_code == 200
    text = BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)
    assert "ruth@example.org" in text and "already posted" in text


def test_the_roles_give_comment_permissions_to_moderators_and_editors_only(roles):
    ensure_moderator_role()  # a second run changes nothing

    def engagement_permissions(name):
        return set(
            Group.objects.get(name=name)
            .permissions.filter(content_type__app_label="engagement")
            .values_list("codename", flat=True)
        )

    assert engagement_permissions(COMMENT_MODERATORS) == {
        "view_comment",
        "change_comment",
        "view_blockedterm",
        "view_blockedaddress",
    }
    assert {"change_comment", "add_blockedterm", "delete_commentpolicy"} <= (
        engagement_permissions(EDITORS)
    )
    assert "delete_comment" not in engagement_permissions(EDITORS)
    assert engagement_permissions(REPORTERS) == set()
    moderators = Group.objects.get(name=COMMENT_MODERATORS)
    assert moderators.permissions.filter(codename="access_admin").exists()
    assert not moderators.page_permissions.exists()
