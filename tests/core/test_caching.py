"""The shared-page layer itself: purges reach every Varnish, parts of pages are kept until
a key they show is purged, and a database that is down answers 503 with Retry-After."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from broadsheet.core import caching, health


class PurgeRecorder(BaseHTTPRequestHandler):
    received: list = []

    def do_PURGE(self):
        kind = "hard" if "xkey-purge" in self.headers else "soft"
        keys = self.headers.get("xkey-purge") or self.headers.get("xkey-softpurge")
        self.received.append((kind, keys))
        self.send_response(200)
        self.send_header("X-Purged", "1")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def varnish(settings):
    """A stand-in for Varnish on loopback that records the purges it is sent."""
    PurgeRecorder.received = []
    server = HTTPServer(("127.0.0.1", 0), PurgeRecorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.BROADSHEET_VARNISH_URLS = [f"http://127.0.0.1:{server.server_port}"]
    yield PurgeRecorder.received
    server.shutdown()
    server.server_close()


def test_an_update_is_a_soft_purge_of_its_keys_in_every_varnish(varnish):
    caching.purge("s12", "nav")

    assert varnish == [("soft", "nav s12")]


def test_what_was_taken_down_is_purged_hard(varnish):
    caching.purge("s12", taken_down=True)

    assert varnish == [("hard", "s12")]


def test_varnish_is_told_again_for_pages_rendering_during_the_first_purge(varnish, settings):
    settings.BROADSHEET_PURGE_REPEAT_SECONDS = 0.2

    caching.purge("s12")

    deadline = time.monotonic() + 5
    while len(varnish) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert varnish == [("soft", "s12"), ("soft", "s12")]


def test_an_unreachable_varnish_is_logged_and_does_not_stop_the_purge(settings, caplog):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.BROADSHEET_VARNISH_URLS = [f"http://127.0.0.1:{port}"]
    kept = caching.remembered("part", 60, lambda: (caching.shows("s1"), "old")[1])

    caching.purge("s1")

    assert kept == "old"
    assert caching.remembered("part", 60, lambda: "new") == "new"  # Django's copy went
    assert "Could not purge" in caplog.text


def test_a_kept_part_lasts_until_a_key_it_shows_is_purged():
    builds = []

    def build():
        builds.append(1)
        caching.shows("s7", "in-3")
        return f"version {len(builds)}"

    assert caching.remembered("box", 60, build) == "version 1"
    assert caching.remembered("box", 60, build) == "version 1"
    caching.purge("s8")  # another story: the part stays
    assert caching.remembered("box", 60, build) == "version 1"
    caching.purge("in-3")
    assert caching.remembered("box", 60, build) == "version 2"


def test_a_page_using_a_kept_part_shows_the_parts_keys():
    caching.remembered("box", 60, lambda: (caching.shows("s7"), "html")[1])
    shown = caching.Shown()
    token = caching._shown.set(shown)
    try:
        caching.remembered("box", 60, lambda: "rebuilt")
    finally:
        caching._shown.reset(token)

    assert shown.keys == {"s7"}


def test_health_says_ok_while_the_database_answers(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200 and response.content == b"ok"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_database_that_is_down_answers_503_with_retry_after(accept):
    request = RequestFactory().post("/engagement/stories/1/vote/", HTTP_ACCEPT=accept)
    middleware = health.DatabaseUnavailableMiddleware(lambda request: None)

    response = middleware.process_exception(request, OperationalError("server closed"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"nothing was saved" in response.content
    assert "public" not in response["Cache-Control"]


def test_other_errors_are_left_to_the_usual_500():
    request = RequestFactory().get("/")
    middleware = health.DatabaseUnavailableMiddleware(lambda request: None)

    assert middleware.process_exception(request, ValueError("a bug")) is None
