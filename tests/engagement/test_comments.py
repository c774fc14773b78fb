"""Comments behind the math challenge, the quiet defences, and what readers see."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from bs4 import BeautifulSoup
from django.test import override_settings
from django.utils import timezone

from broadsheet.engagement.models import BlockedAddress, BlockedTerm, Comment, CommentPolicy
from broadsheet.engagement.services import moderate
from tests.engagement.conftest import answered_challenge, forged_token, wrong_answer

TEXT = "The bridge has needed this for years; glad the council finally acted."


def post(client, story, *, json_reply=False, **fields):
    data = {"name": "Ruth", "email": "ruth@example.org", "body": TEXT, **fields}
    headers = {"HTTP_ACCEPT": "application/json"} if json_reply else {}
    return client.post(f"/engagement/stories/{story.pk}/comments/", data, **headers)


def answered(client, story, **fields):
    return post(client, story, **answered_challenge(story.pk), **fields)


def test_a_good_comment_is_published_and_shown_under_the_story(client, story):
    response = answered(client, story)

    assert response.status_code == 201
    assert b"your comment is published" in response.content
    page = BeautifulSoup(client.get(story.url).content, "html.parser")
    assert page.select_one(".comment__body").get_text().strip() == TEXT
    assert page.select_one("#comments-title").get_text().strip() == "Comments (1)"
    assert "ruth@example.org" not in str(page)


def test_the_form_shows_the_challenge_as_on_the_reference_page(client, story):
    response = client.get(f"/engagement/stories/{story.pk}/comments/new/")
    text = " ".join(BeautifulSoup(response.content, "html.parser").get_text().split())

    assert "Add new comment" in text
    assert (
        "This question is for testing whether or not you are a human visitor and to "
        "prevent automated spam submissions."
    ) in text
    assert "Solve this simple math problem and enter the result. E.g. for 1+3, enter 4." in text
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("[data-challenge-question]").get_text().endswith(" =")


def test_without_javascript_the_first_submit_asks_the_question_and_keeps_the_text(client, story):
    response = post(client, story)  # the cached form has no challenge yet

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("textarea[name=body]").get_text().strip() == TEXT
    assert soup.select_one("input[name=name]")["value"] == "Ruth"
    assert "Please answer the math question." in soup.get_text()
    assert soup.select_one("[data-challenge-token]")["value"]
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("challenge", "message"),
    [
        (wrong_answer, "That is not the right answer to the math question."),
        (forged_token, "The math question could not be checked."),
        (
            lambda story_id: answered_challenge(story_id + 1),
            "That math question was for another story.",
        ),
        (
            lambda story_id: {**answered_challenge(story_id), "challenge_answer": "twelve"},
            "Please answer the math question with a number.",
        ),
    ],
    ids=["wrong", "forged", "other-story", "not-a-number"],
)
def test_a_failed_challenge_gives_the_form_back_with_the_text_kept(
    client, story, challenge, message
):
    response = post(client, story, **challenge(story.pk))

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert message in soup.get_text()
    assert soup.select_one("textarea[name=body]").get_text().strip() == TEXT
    assert not Comment.objects.exists()


def test_a_challenge_answer_counts_once(client, story):
    challenge = answered_challenge(story.pk)
    assert post(client, story, **challenge).status_code == 201

    replay = post(client, story, **challenge, body="A second comment with the same answer.")

    assert replay.status_code == 400
    assert b"already been answered" in replay.content
    assert Comment.objects.count() == 1


@override_settings(BROADSHEET_CHALLENGE_MAX_AGE=-1)
def test_an_expired_challenge_is_refused(client, story):
    response = answered(client, story)

    assert response.status_code == 400
    assert b"The math question expired." in response.content


@override_settings(BROADSHEET_CHALLENGE_MIN_SECONDS=60)
def test_a_form_filled_faster_than_a_person_types_is_refused(client, story):
    response = answered(client, story)

    assert response.status_code == 400
    assert b"quicker than anyone can type" in response.content


def test_the_honeypot_keeps_the_comment_as_spam_and_tells_the_bot_nothing(client, story):
    response = answered(client, story, website="http://spam.example")

    assert response.status_code == 201
    assert b"once a moderator has read it" in response.content
    assert Comment.objects.get().status == Comment.Status.SPAM


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": "   "}, "This field is required."),
        ({"body": "x" * 5001}, "Please keep comments under 5,000 characters (5001 now)."),
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 81}, "Ensure this value has at most 80 characters"),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "ruth@example.org\r\nBcc: all@example.org"}, "Enter a valid email address."),
        ({"parent": "abc"}, "The comment you replied to could not be found."),
    ],
    ids=["empty", "huge", "no-name", "long-name", "bad-email", "header-injection", "bad-parent"],
)
def test_bad_input_comes_back_as_form_errors_with_the_text_kept(client, story, fields, message):
    response = answered(client, story, **fields)

    assert response.status_code == 400
    assert message in response.content.decode()
    body = BeautifulSoup(response.content, "html.parser").select_one("textarea[name=body]")
    assert body.get_text().strip() == fields.get("body", TEXT).strip()
    assert not Comment.objects.exists()


def test_json_errors_name_the_fields_and_bring_a_new_challenge(client, story):
    response = post(client, story, json_reply=True, body="", **answered_challenge(story.pk))

    assert response.status_code == 400
    data = response.json()
    assert data["errors"]["body"] == ["This field is required."]
    assert data["challenge"]["question"].endswith(" =")


def test_replies_are_one_level_deep(client, story):
    answered(client, story)
    top = Comment.objects.get()
    reply = answered(client, story, parent=top.pk, body="I agree with Ruth entirely here.")
    nested = answered(
        client,
        story,
        parent=Comment.objects.latest("pk").pk,
        body="A reply to a reply should not nest.",
    )

    assert reply.status_code == 201
    assert nested.status_code == 403
    assert b"You can only reply to a published comment on this story." in nested.content
    page = BeautifulSoup(client.get(story.url).content, "html.parser")
    assert len(page.select(".comments__replies .comment")) == 1


def test_unknown_and_unpublished_stories_take_no_comments(client, story):
    story.unpublish()

    assert answered(client, story).status_code == 404
    assert client.post("/engagement/stories/99999999999/comments/", {}).status_code == 404


def test_comments_closed_by_the_editor(client, story):
    story.comments_open = False
    story.save_revision().publish()

    response = answered(client, story)
    page = client.get(story.url).content

    assert response.status_code == 403
    assert b"Comments are closed on this story." in response.content
    assert b"Comments are closed on this story." in page and b"data-comment-form" not in page


@override_settings(BROADSHEET_COMMENTS_CLOSE_AFTER_DAYS=14)
def test_comments_close_by_themselves_after_the_configured_days(client, make_article):
    old = make_article(published_at=timezone.now() - timedelta(days=15))

    assert answered(client, old).status_code == 403


@override_settings(BROADSHEET_COMMENTS_PER_READER_PER_MINUTE=2)
def test_a_reader_posting_too_fast_is_slowed_down_with_the_text_kept(client, story):
    statuses = [
        answered(client, story, body=f"Comment number {n} about the bridge.").status_code
        for n in range(3)
    ]
    last = answered(client, story, body="One more comment about the bridge.")

    assert statuses == [201, 201, 429]
    assert last.status_code == 429
    assert b"One more comment about the bridge." in last.content


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            "Read http://a.example http://b.example http://c.example http://d.example",
            Comment.Status.SPAM,
        ),
        (
            "Cheap pills at http://a.example and http://b.example for everyone here",
            Comment.Status.HELD,
        ),
        ("buy buy buy buy buy buy buy buy buy buy now now now", Comment.Status.HELD),
        (TEXT, Comment.Status.PUBLISHED),
        ('Great piece, see <a href="https://a.example">my site</a> too.', Comment.Status.HELD),
        ("Good read [url=https://a.example]cheap flights[/url]", Comment.Status.HELD),
        ("Interesting <script>document.location='//x.example'</script>", Comment.Status.SPAM),
        ('<img src="x" onerror="alert(1)"> nice article', Comment.Status.SPAM),
        ("Click javascript:alert(document.cookie) for the full story", Comment.Status.SPAM),
        (
            "Turnout was < 40% and costs > £2m. I had javascript: off, the page still worked.",
            Comment.Status.PUBLISHED,
        ),
    ],
    ids=[
        "many-links",
        "two-links",
        "repetitive",
        "clean",
        "html-link",
        "bbcode-link",
        "script",
        "event-handler",
        "javascript-url",
        "prose-with-angle-brackets",
    ],
)
def test_spam_score_decides_publish_hold_or_reject(client, story, body, status):
    answered(client, story, body=body)

    assert Comment.objects.get().status == status


def test_blocked_terms_and_addresses_mark_comments_as_spam(client, story, django_client_factory):
    BlockedTerm.objects.create(term="casino", weight=1.0)
    BlockedAddress.objects.create(pattern="@spam.example")

    answered(client, story, body="Visit my casino tonight, friends of the bridge.")
    answered(django_client_factory(), story, email="bot@spam.example")

    assert list(Comment.objects.values_list("status", flat=True)) == ["spam", "spam"]


def test_a_section_can_hold_every_comment(client, news, story):
    CommentPolicy.objects.create(section=news, mode=CommentPolicy.Mode.HOLD_ALL)

    response = answered(client, story)

    assert b"once a moderator has read it" in response.content
    assert Comment.objects.get().status == Comment.Status.HELD
    assert b"No comments yet." in client.get(story.url).content


class SpamService(BaseHTTPRequestHandler):
    """A stand-in outside spam service on loopback: answers, fails or hangs."""

    behaviour = "ok"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.behaviour == "hang":
            threading.Event().wait(2)
        if self.behaviour == "error":
            self.send_response(500)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"score": 0.0, "reason": "looks fine"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def spam_service(settings):
    server = HTTPServer(("127.0.0.1", 0), SpamService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.BROADSHEET_SPAM_SERVICE_URL = f"http://127.0.0.1:{server.server_port}/check"
    settings.BROADSHEET_COMMENT_SCORERS = [
        *settings.BROADSHEET_COMMENT_SCORERS,
        "broadsheet.engagement.scoring.HttpScorer",
    ]
    settings.BROADSHEET_SCORING_TIMEOUT = 0.5
    yield SpamService
    server.shutdown()
    SpamService.behaviour = "ok"


@pytest.mark.parametrize(
    ("behaviour", "status"),
    [
        ("ok", Comment.Status.PUBLISHED),
        ("error", Comment.Status.HELD),
        ("hang", Comment.Status.HELD),
    ],
)
def test_a_failing_or_slow_spam_service_holds_the_comment_never_loses_it(
    client, story, spam_service, behaviour, status
):
    spam_service.behaviour = behaviour

    response = answered(client, story)

    assert response.status_code == 201
    comment = Comment.objects.get()
    assert comment.status == status and comment.body == TEXT
    if status == Comment.Status.HELD:
        assert "HttpScorer failed" in comment.spam_reasons


def test_links_are_clickable_and_markup_stays_text(client, story):
    body = (
        "See https://example.org/report and <b>bold</b> <script>alert(1)</script> "
        "javascript:alert(2) <img src=x onerror=alert(3)>"
    )
    answered(client, story, body=body)
    # Scored as spam for its markup; a moderator who publishes it anyway shows only text.
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.SPAM
    assert "script or active markup" in comment.spam_reasons
    moderate(comments=[comment], status=Comment.Status.PUBLISHED, moderator=None)

    html = client.get(story.url).content.decode()
    comment = BeautifulSoup(html, "html.parser").select_one(".comment__body")

    assert [a["href"] for a in comment.find_all("a")] == ["https://example.org/report"]
    assert "nofollow" in comment.a["rel"]
    assert comment.find("script") is None and comment.find("img") is None
    assert comment.find("b") is None
    assert "<script>alert(1)</script>" in comment.get_text()


def test_reports_from_three_readers_on_three_addresses_send_a_comment_back_to_moderation(
    client, story, django_client_factory
):
    answered(client, story)
    comment = Comment.objects.get()
    flag = f"/engagement/comments/{comment.pk}/flag/"

    reader = django_client_factory()
    reader.post(flag, REMOTE_ADDR="198.51.100.1")
    reader.post(flag, REMOTE_ADDR="198.51.100.1")  # the same reader twice counts once
    django_client_factory().post(flag, REMOTE_ADDR="198.51.100.2")
    comment.refresh_from_db()
    assert (comment.flag_count, comment.status) == (2, Comment.Status.PUBLISHED)

    django_client_factory().post(flag, REMOTE_ADDR="198.51.100.3")
    comment.refresh_from_db()
    assert (comment.flag_count, comment.status) == (3, Comment.Status.HELD)
    assert client.post(flag).status_code == 404  # no longer published


def test_one_client_dropping_its_cookie_cannot_hide_a_comment(client, story):
    answered(client, story)
    comment = Comment.objects.get()

    answers = []
    for _ in range(5):
        client.cookies.clear()
        answers.append(client.post(f"/engagement/comments/{comment.pk}/flag/"))

    # Each report is thanked, and the moderators see it, but one address counts once.
    assert {a.status_code for a in answers} == {200}
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.flag_count == 1
    assert comment.reported_at is not None


def test_a_staff_reply_is_never_hidden_by_reports(client, story, django_user_model):
    answered(client, story)
    editor = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    staff = type(client)()
    staff.force_login(editor)
    answered(staff, story, parent=Comment.objects.get().pk, body="We corrected the date.")
    reply = Comment.objects.get(is_staff_reply=True)

    for n in range(5):
        type(client)().post(f"/engagement/comments/{reply.pk}/flag/", REMOTE_ADDR=f"192.0.2.{n}")

    reply.refresh_from_db()
    assert reply.status == Comment.Status.PUBLISHED
    assert reply.flag_count == 5
    assert reply.reported_at is not None  # in the moderators' queue all the same


def test_staff_replies_are_published_with_a_badge(client, story, django_user_model):
    answered(client, story)
    editor = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    staff = type(client)()
    staff.force_login(editor)

    answered(
        staff,
        story,
        parent=Comment.objects.get().pk,
        name="Miriam (Courier)",
        body="Thanks Ruth: the council has now published the timetable.",
    )

    reply = Comment.objects.latest("pk")
    assert reply.is_staff_reply and reply.status == Comment.Status.PUBLISHED
    page = BeautifulSoup(client.get(story.url).content, "html.parser")
    assert page.select_one(".comments__replies .badge").get_text() == "Staff"


def test_comment_counts_appear_on_story_listings(client, news, story):
    answered(client, story)

    card = BeautifulSoup(client.get("/news/").content, "html.parser").select_one(".card")

    assert "1 comment" in card.select_one(".card__comments").get_text()


def test_comments_add_no_queries_to_the_story_page(client, make_article):
    from tests.news.test_article_page import count_queries

    quiet, busy = make_article(), make_article()
    for n in range(5):
        answered(type(client)(), busy, body=f"Comment {n} on the bridge closure, thoughtful.")
    answered(type(client)(), busy, parent=Comment.objects.first().pk, body="A reply to that.")

    assert Comment.objects.filter(status=Comment.Status.PUBLISHED).count() == 6
    assert count_queries(client, busy.url) == count_queries(client, quiet.url)


def test_a_comments_time_reads_like_every_other_date_on_the_site(client, story):
    answered(client, story)
    Comment.objects.update(created_at=datetime(2026, 12, 1, 10, 23, tzinfo=UTC))

    page = BeautifulSoup(client.get(story.url).content, "html.parser")

    assert page.select_one(".comment__meta time").get_text() == "1 Dec 2026, 10:23"
