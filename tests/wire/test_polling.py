"""Copy comes in by itself: drop folders read safely, feeds polled with conditional GET."""

import os
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from broadsheet.news.models import ArticlePage
from broadsheet.wire import polling, services
from broadsheet.wire.models import DeskAlert, ReceivedFile, WireItem, WireSource
from broadsheet.wire.samples import Story, newsml_g2, photo_bytes, rss


def story(n=1, **fields):
    fields.setdefault("sent", timezone.now() - timedelta(minutes=10))
    return Story(guid=f"urn:cpa:feed:{n}", headline=f"Story number {n}", provider="CPA", **fields)


def settled(path, data):
    path.write_bytes(data)
    old = time.time() - 60
    os.utime(path, (old, old))


def test_a_drop_folder_is_emptied_into_the_desk_and_nothing_is_lost(source):
    folder = polling.drop_folder(source)
    settled(folder / "a.xml", newsml_g2(story(1)))
    settled(folder / "b.xml", b"<not-closed>")
    settled(folder / "photo.jpg", photo_bytes())
    (folder / "c.xml.part").write_bytes(b"half an upload")
    settled(folder / "d.xml", newsml_g2(story(4)))

    outcome = polling.scan_drop_folder(source)

    assert outcome == {"imported": 2, "quarantined": 1}
    assert sorted(p.name for p in folder.iterdir()) == ["c.xml.part"]
    statuses = dict(ReceivedFile.objects.values_list("name", "status"))
    assert statuses == {
        "a.xml": "ingested",
        "b.xml": "quarantined",
        "photo.jpg": "asset",
        "d.xml": "ingested",
    }


def test_a_file_still_being_written_is_left_for_the_next_look(source):
    folder = polling.drop_folder(source)
    (folder / "fresh.xml").write_bytes(newsml_g2(story(1)))

    assert polling.scan_drop_folder(source) == {}
    assert (folder / "fresh.xml").exists()


def test_a_crash_after_storing_loses_nothing_and_the_next_run_reads_what_was_pending(
    source, monkeypatch
):
    folder = polling.drop_folder(source)
    settled(folder / "a.xml", newsml_g2(story(1)))
    monkeypatch.setattr(
        polling, "process_pending", lambda **kwargs: (_ for _ in ()).throw(SystemExit)
    )

    with pytest.raises(SystemExit):
        polling.scan_drop_folder(source)

    assert not (folder / "a.xml").exists()
    assert ReceivedFile.objects.get().status == ReceivedFile.Status.PENDING
    monkeypatch.undo()
    assert services.process_pending() == {"imported": 1}
    assert ArticlePage.objects.count() == 1


def test_a_file_received_twice_after_a_crash_before_its_removal_changes_nothing(source):
    folder = polling.drop_folder(source)
    data = newsml_g2(story(1))
    services.process_file(services.receive_file(data=data, name="a.xml", source=source))
    settled(folder / "a.xml", data)  # still there: the crash came before the unlink

    assert polling.scan_drop_folder(source) == {"unchanged": 1}
    assert WireItem.objects.count() == 1


class Feed(BaseHTTPRequestHandler):
    """An agency feed on loopback that honours If-None-Match, as a good server does."""

    body = b""
    etag = '"v1"'
    requests: list = []

    def do_GET(self):
        Feed.requests.append(dict(self.headers))
        if self.headers.get("If-None-Match") == Feed.etag:
            self.send_response(304)
            self.end_headers()
            return
        if self.path == "/broken":
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", Feed.etag)
        self.send_header("Last-Modified", "Thu, 26 Nov 2026 06:00:00 GMT")
        self.end_headers()
        self.wfile.write(Feed.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Feed.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def feed_source(source, feed_server):
    return WireSource.objects.create(
        name="CPA feed",
        agency=source.agency,
        kind=WireSource.Kind.FEED,
        url=f"{feed_server}/rss",
        default_section=source.default_section,
        publish_at_once=True,
    )


def test_a_feed_is_read_then_asked_only_whether_it_changed(feed_source):
    Feed.body = rss(story(1), story(2))

    assert polling.poll_source(feed_source) == {"imported": 2}
    assert polling.poll_source(feed_source) == {}

    assert Feed.requests[1]["If-None-Match"] == '"v1"'
    assert Feed.requests[1]["If-Modified-Since"] == "Thu, 26 Nov 2026 06:00:00 GMT"
    assert ArticlePage.objects.live().count() == 2


def test_a_changed_feed_brings_only_the_new_entries(feed_source):
    Feed.body = rss(story(1))
    polling.poll_source(feed_source)
    Feed.body, Feed.etag = rss(story(2), story(1)), '"v2"'

    assert polling.poll_source(feed_source) == {"imported": 1, "unchanged": 1}


def test_a_feed_entry_sent_again_with_a_later_time_updates_its_story(feed_source):
    Feed.body = rss(story(1))
    polling.poll_source(feed_source)
    Feed.body, Feed.etag = rss(story(1, sent=timezone.now())), '"v3"'
    Feed.body = Feed.body.replace(b"Story number 1", b"Story number 1, updated")

    assert polling.poll_source(feed_source) == {"updated": 1}
    assert ArticlePage.objects.get().title == "Story number 1, updated"


def test_a_failing_feed_is_recorded_and_the_desk_told_once(feed_source, feed_server):
    feed_source.url = f"{feed_server}/broken"
    feed_source.save()

    polling.poll_source(feed_source)
    polling.poll_source(feed_source)

    feed_source.refresh_from_db()
    assert "503" in feed_source.last_error
    assert DeskAlert.objects.filter(kind=DeskAlert.Kind.FAILING).count() == 1


def test_a_source_quiet_for_longer_than_usual_raises_an_alert(source, desk_morning):
    services.receive_file(data=newsml_g2(story(1)), name="a.xml", source=source)
    polling.poll_source(source)
    assert not DeskAlert.objects.filter(kind=DeskAlert.Kind.QUIET).exists()

    desk_morning.shift(timedelta(minutes=source.quiet_minutes + 5))
    polling.poll_source(source)

    alert = DeskAlert.objects.get(kind=DeskAlert.Kind.QUIET)
    assert "has sent nothing since" in alert.message and alert.source == source


def test_a_replaced_polling_chain_stands_down(source, monkeypatch):
    looked = []
    monkeypatch.setattr(polling, "poll_source", looked.append)
    WireSource.objects.filter(pk=source.pk).update(poll_token="current")

    polling.poll_source_task.call(source.pk, "an-older-chain")
    polling.poll_source_task.call(source.pk, "current")

    assert [s.pk for s in looked] == [source.pk]
