"""Star votes: one per reader per story, exact under concurrency, safe on cached pages."""

import threading
from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.db import connection
from django.test import override_settings

from broadsheet.engagement import services
from broadsheet.engagement.models import Vote
from broadsheet.engagement.readers import READER_COOKIE
from tests.conftest import NEWSROOM_MORNING


def vote(client, story, stars, **headers):
    return client.post(f"/engagement/stories/{story.pk}/vote/", {"stars": stars}, **headers)


def vote_json(client, story, stars):
    return vote(client, story, stars, HTTP_ACCEPT="application/json")


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "No votes yet. Be the first to rate this story."),
        (1, "1 user has voted."),
        (25, "25 users have voted."),
        (1234, "1,234 users have voted."),
    ],
)
def test_tally_speaks_like_the_reference_page(count, text):
    assert services.Tally(count=count, total=count * 4).text == text


def test_a_vote_without_javascript_thanks_the_reader_and_counts(client, story):
    response = vote(client, story, 4)

    assert response.status_code == 200
    assert b"Thank you for voting" in response.content
    assert b"1 user has voted." in response.content
    assert READER_COOKIE in response.cookies
    assert Vote.objects.get(story=story).stars == 4


def test_a_reader_changes_their_vote_but_does_not_add_one(client, story):
    vote_json(client, story, 5)
    response = vote_json(client, story, 2)

    assert response.json() == {
        "votes": {"count": 1, "average": 2.0, "text": "1 user has voted."},
        "your_vote": 2,
    }
    assert Vote.objects.filter(story=story).count() == 1


def test_each_reader_counts_once(client, django_client_factory, story):
    vote_json(client, story, 5)
    other = django_client_factory()
    response = vote_json(other, story, 2)

    assert response.json()["votes"] == {"count": 2, "average": 3.5, "text": "2 users have voted."}


@pytest.mark.parametrize("stars", ["0", "6", "abc", "", "3.5", "-1", "9" * 50])
def test_invalid_stars_are_refused_with_a_message(client, story, stars):
    response = vote_json(client, story, stars)

    assert response.status_code == 400
    assert response.json()["error"] == "Choose from one to five stars."
    assert not Vote.objects.exists()


def test_invalid_stars_without_javascript_get_a_page_not_a_500(client, story):
    response = client.post(f"/engagement/stories/{story.pk}/vote/", {})

    assert response.status_code == 400
    assert b"Choose from one to five stars." in response.content


@pytest.mark.parametrize("story_id", ["999999", "2147483648", "99999999999999999999999"])
def test_votes_on_unknown_stories_are_404(client, db, story_id):
    assert client.post(f"/engagement/stories/{story_id}/vote/", {"stars": 3}).status_code == 404


def test_votes_on_unpublished_stories_are_404(client, story):
    story.unpublish()

    assert vote(client, story, 3).status_code == 404
    assert not Vote.objects.exists()


def test_votes_closed_by_the_editor_are_refused(client, story):
    story.votes_open = False
    story.save_revision().publish()

    response = vote_json(client, story, 3)

    assert response.status_code == 403
    assert response.json()["error"] == "Votes are closed on this story."


def test_a_vote_posted_from_another_site_is_refused(client, story):
    response = vote(client, story, 5, HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_a_forged_reader_cookie_is_a_new_reader(client, story):
    vote_json(client, story, 5)
    client.cookies[READER_COOKIE] = "0" * 32  # unsigned: not ours
    response = vote_json(client, story, 1)

    assert response.json()["votes"]["count"] == 2
    assert response.cookies[READER_COOKIE].value != "0" * 32


@override_settings(BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE=3)
def test_a_flood_from_one_address_is_rate_limited(django_client_factory, story):
    statuses = [vote_json(django_client_factory(), story, 4).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert Vote.objects.count() == 3


def test_state_gives_the_reader_their_vote_a_fresh_tally_and_a_challenge(client, story):
    vote_json(client, story, 3)

    response = client.get(f"/engagement/stories/{story.pk}/state/")
    state = response.json()

    assert state["your_vote"] == 3
    assert state["votes"]["count"] == 1
    assert state["challenge"]["question"].endswith(" =")
    assert "no-store" in response["Cache-Control"]


def test_the_cached_article_page_holds_nothing_of_the_reader(client, django_client_factory, story):
    vote_json(client, story, 4)
    voter_page = client.get(story.url)
    stranger_page = django_client_factory().get(story.url)

    assert voter_page.content == stranger_page.content
    html = voter_page.content.decode()
    assert "csrfmiddlewaretoken" not in html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("[data-challenge-token]")["value"] == ""
    assert not soup.select("input[name=stars][checked]")
    assert "Set-Cookie" not in voter_page.headers


def vote_in_parallel(story, voters, rounds):
    """Each voter thread casts `rounds` votes, as the same reader, at the same moment."""
    barrier = threading.Barrier(len(voters))
    errors = []

    def cast(reader, stars):
        try:
            barrier.wait()
            for round_ in range(rounds):
                services.cast_vote(
                    story=story,
                    reader=reader,
                    stars=(stars + round_) % 5 + 1,
                    address=f"10.0.0.{stars}",
                )
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        # A reader voting from two browsers sends the same stars from both.
        threading.Thread(target=cast, args=(reader, voters.index(reader)))
        for reader in voters
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE=10_000)
def test_parallel_voters_lose_no_vote_and_count_none_twice(story):
    voters = [f"{n:032x}" for n in range(16)]
    voters += voters[:4]  # four readers vote from two browsers at once

    errors = vote_in_parallel(story, voters, rounds=5)

    kept = services.tally_for(story.pk, fresh=True)
    counted = services.recount_tally(story.pk)
    assert errors == []
    assert kept == counted
    assert counted.count == 16
    assert counted.total == sum((n + 4) % 5 + 1 for n in range(16))  # each reader's last vote


def test_the_tally_follows_votes_changed_or_removed_in_the_database(client, story):
    vote_json(client, story, 5)
    vote_json(type(client)(), story, 3)
    Vote.objects.filter(stars=5).delete()  # e.g. a moderator removing a ballot-stuffer

    assert services.tally_for(story.pk, fresh=True) == services.recount_tally(story.pk)
    assert services.tally_for(story.pk, fresh=True).count == 1


def test_a_client_dropping_its_cookie_adds_only_a_handful_of_votes(client, story, settings):
    for n in range(10):
        services.cast_vote(story=story, reader=f"{n:032x}", stars=4, address=f"198.51.100.{n}")

    # One script, one address, no cookie kept: each vote is a "new reader".
    answers = []
    for _ in range(40):
        client.cookies.clear()
        answers.append(vote_json(client, story, 5))

    cap = settings.BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR
    assert [a.status_code for a in answers] == [200] * cap + [429] * (40 - cap)
    assert answers[-1].json()["error"] == (
        "Many readers on your network have rated this story in the last hour. "
        "Please try again later."
    )
    assert services.tally_for(story.pk, fresh=True).count == 10 + cap


def test_readers_behind_one_address_may_still_change_their_votes(client, story, settings):
    cap = settings.BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR
    colleagues = [type(client)() for _ in range(cap)]
    for colleague in colleagues:
        vote_json(colleague, story, 3)

    assert vote_json(type(client)(), story, 3).status_code == 429
    assert [vote_json(c, story, 5).status_code for c in colleagues] == [200] * cap
    assert services.tally_for(story.pk, fresh=True).average == 5.0


def test_the_cap_is_per_story_and_lifts_after_the_hour(
    newsroom_morning, client, story, make_article, settings
):
    other_story = make_article(title="Ferry timetable changes")
    cap = settings.BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR
    for _ in range(cap):
        vote_json(type(client)(), story, 4)
    assert vote_json(type(client)(), story, 4).status_code == 429
    assert vote_json(type(client)(), other_story, 4).status_code == 200

    with time_machine.travel(NEWSROOM_MORNING + timedelta(hours=1)):
        assert vote_json(type(client)(), story, 4).status_code == 200
