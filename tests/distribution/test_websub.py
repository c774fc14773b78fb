"""WebSub: publishing, updating or withdrawing a story tells the hub about every feed that
lists it, checked against a real hub on the loopback interface."""

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from wagtail.models import PageViewRestriction

from broadsheet.distribution import websub
from broadsheet.news import services
from broadsheet.news.models import ArticlePage
from tests.conftest import add_section

ROOT = "http://127.0.0.1:8000"


class LoopbackHub:
    """A hub on 127.0.0.1 that records each notice's form and answers `status`."""

    def __init__(self):
        self.notices = []  # (content type, {field: [values]})
        self.status = 204
        self.delay = 0.0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hub.notices.append((self.headers["Content-Type"], parse_qs(body.decode())))
                time.sleep(hub.delay)
                self.send_response(hub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def topics(self):
        return [form["hub.url"][0] for _, form in self.notices]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub(settings):
    loopback = LoopbackHub()
    settings.BROADSHEET_WEBSUB_HUB = loopback.url
    yield loopback
    loopback.close()


@pytest.fixture
def publish(django_capture_on_commit_callbacks, make_article):
    """Publish an article and run what waits for the commit (story_changed, the task)."""

    def run(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            return make_article(**fields)

    return run


def feeds_of(*paths):
    return {f"{ROOT}{path}{name}" for path in paths for name in FORMATS}


FORMATS = ["rss.xml", "atom.xml", "feed.json"]


def test_publishing_a_story_tells_the_hub_about_every_feed_that_lists_it(
    client, newsroom_morning, hub, world, agency, publish
):
    publish(parent=world, agency=agency, tags=("harbour", "ferries"), slug="ferry")

    assert sorted(hub.topics()) == sorted(
        feeds_of(
            "/feeds/",
            "/feeds/sections/news/",
            "/feeds/sections/news/world/",
            "/feeds/tags/harbour/",
            "/feeds/tags/ferries/",
            "/feeds/authors/miriam-okafor/",
            "/feeds/agencies/cpa/",
        )
    )
    for content_type, form in hub.notices:
        assert content_type == "application/x-www-form-urlencoded"
        assert form["hub.mode"] == ["publish"]
        assert len(form["hub.url"]) == 1
    for topic in hub.topics():  # each one is a feed the hub can fetch, listing the story
        response = client.get(urlsplit(topic).path)
        assert response.status_code == 200
        assert b"/news/world/ferry/" in response.content


def test_a_blog_post_tells_the_hub_about_its_blog(
    newsroom_morning, hub, make_blog_post, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_blog_post()

    assert set(hub.topics()) == feeds_of(
        "/feeds/", "/feeds/blogs/notebook/", "/feeds/authors/miriam-okafor/"
    )


def test_updating_and_withdrawing_a_story_tell_the_hub_again(
    newsroom_morning, hub, publish, django_capture_on_commit_callbacks
):
    story = publish(tags=("harbour",))
    hub.notices.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.revise_story(story=ArticlePage.objects.get(pk=story.pk), title="Revised")
    updated = set(hub.topics())
    hub.notices.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_story(story=ArticlePage.objects.get(pk=story.pk))
    withdrawn = set(hub.topics())

    expected = feeds_of(
        "/feeds/", "/feeds/sections/news/", "/feeds/tags/harbour/", "/feeds/authors/miriam-okafor/"
    )
    assert updated == expected
    assert withdrawn == expected


def test_without_a_hub_nothing_is_sent(newsroom_morning, settings, publish):
    loopback = LoopbackHub()
    try:
        settings.BROADSHEET_WEBSUB_HUB = ""
        publish()
    finally:
        loopback.close()

    assert loopback.notices == []


def test_a_story_behind_a_password_tells_the_hub_nothing(newsroom_morning, hub, home, publish):
    members = add_section(home, "Members")
    PageViewRestriction.objects.create(
        page=members, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )

    publish(parent=members)

    assert hub.notices == []


def test_a_hub_that_is_down_never_stops_publishing(
    client, newsroom_morning, settings, publish, caplog
):
    closed = LoopbackHub()
    closed.close()  # its port now refuses connections
    settings.BROADSHEET_WEBSUB_HUB = closed.url

    with caplog.at_level(logging.WARNING, logger="broadsheet.distribution.websub"):
        story = publish(title="Published all the same", slug="anyway")

    assert client.get("/news/anyway/").status_code == 200
    assert ArticlePage.objects.for_readers().filter(pk=story.pk).exists()
    (record,) = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert closed.url in record.getMessage()


def test_a_hub_that_refuses_is_logged_and_every_feed_still_tried(
    newsroom_morning, hub, publish, caplog
):
    hub.status = 500

    with caplog.at_level(logging.WARNING, logger="broadsheet.distribution.websub"):
        publish(tags=("harbour",))

    assert len(hub.topics()) == 12
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 12
    assert "HTTP 500" in refusals[0].getMessage()


def test_a_slow_hub_costs_one_time_out(newsroom_morning, hub, publish, monkeypatch, caplog):
    hub.delay = 2
    monkeypatch.setattr(websub, "HUB_TIMEOUT", 0.2)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="broadsheet.distribution.websub"):
        publish(tags=("harbour",))
    elapsed = time.monotonic() - started

    assert len(hub.notices) == 1  # the first notice timed out; the others were not sent
    assert elapsed < 2
    assert any("cannot be reached" in r.getMessage() for r in caplog.records)


def test_a_hub_address_that_is_not_http_fails_the_start_up_checks(settings):
    settings.BROADSHEET_WEBSUB_HUB = "file:///etc/passwd"

    with pytest.raises(SystemCheckError, match=r"distribution\.E001"):
        call_command("check")


def test_an_http_hub_address_passes_the_start_up_checks(settings):
    settings.BROADSHEET_WEBSUB_HUB = "https://pubsubhubbub.appspot.com/"

    assert websub.check_hub_setting() == []
