"""From a received file to the story readers see: routing, versions, kills, embargoes."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from broadsheet.news.models import ArticlePage
from broadsheet.news.services import revise_story
from broadsheet.newsletter.composing import compose
from broadsheet.newsletter.scheduling import issue_for
from broadsheet.wire import services
from broadsheet.wire.models import DeskAlert, ReceivedFile, WireItem
from broadsheet.wire.samples import Story, newsml_g2, ninjs, photo_bytes

POLITICS = "medtop:11000000"


def story(**fields):
    fields.setdefault("guid", "urn:cpa:2026:0001")
    fields.setdefault("headline", "Council agrees to rebuild the harbour wall")
    fields.setdefault("paragraphs", ["The council voted on Tuesday.", "Work starts in spring."])
    fields.setdefault("sent", timezone.now() - timedelta(minutes=30))
    fields.setdefault("provider", "CPA")
    return Story(**fields)


def ingest(source, data, name="cpa.xml"):
    received = services.receive_file(data=data, name=name, source=source)
    return services.process_file(received), received


def article(guid="urn:cpa:2026:0001") -> ArticlePage:
    row = WireItem.objects.get(guid=guid, is_latest=True)
    return ArticlePage.objects.get(pk=row.story_id)


def test_an_item_a_rule_routes_is_published_in_its_section_with_the_agency_byline(
    source, politics, client
):
    outcome, received = ingest(source, newsml_g2(story(subjects=[POLITICS], dateline="LEEDS")))

    assert outcome == {"imported": 1}
    page = article()
    assert page.live and page.get_parent().specific == politics
    assert page.byline_text == "By CPA"
    assert page.dateline == "LEEDS"
    assert [block.block_type for block in page.body] == ["paragraph", "paragraph"]
    response = client.get(page.url)
    assert response.status_code == 200
    assert "The council voted on Tuesday." in response.content.decode()
    received.refresh_from_db()
    assert received.status == ReceivedFile.Status.INGESTED
    assert received.read() == newsml_g2(story(subjects=[POLITICS], dateline="LEEDS"))


def test_an_item_no_rule_routes_becomes_a_draft_in_the_sources_default_section(source, world):
    ingest(source, newsml_g2(story()))

    page = article()
    assert not page.live and page.get_parent().specific == world
    assert WireItem.objects.get().desk == WireItem.Desk.DRAFTED


def test_without_any_section_the_item_waits_and_an_editor_picks_it_up(source, politics, admin_user):
    source.default_section = None
    source.save()
    ingest(source, newsml_g2(story()))
    row = WireItem.objects.get()
    assert row.desk == WireItem.Desk.QUEUED and row.story is None

    page = services.pick_up(row=row, section=politics, user=admin_user)

    assert not page.live and page.get_parent().specific == politics
    assert page.title == "Council agrees to rebuild the harbour wall"
    assert page.get_latest_revision().user == admin_user


def test_the_same_file_again_changes_nothing(source):
    data = newsml_g2(story(subjects=[POLITICS]))
    ingest(source, data)
    revisions = article().revisions.count()

    outcome, _ = ingest(source, data)

    assert outcome == {"unchanged": 1}
    assert WireItem.objects.count() == 1
    assert article().revisions.count() == revisions


def test_a_newer_version_updates_the_story_and_moves_last_updated(source, desk_morning):
    ingest(source, newsml_g2(story(subjects=[POLITICS])))
    first_updated = article().last_updated_at
    desk_morning.shift(timedelta(minutes=40))

    outcome, _ = ingest(
        source,
        newsml_g2(
            story(
                subjects=[POLITICS],
                version=2,
                headline="Council rebuilds the harbour wall after storm",
                paragraphs=["The council voted on Tuesday.", "The cost is £2m."],
            )
        ),
    )

    assert outcome == {"updated": 1}
    page = article()
    assert page.title == "Council rebuilds the harbour wall after storm"
    assert "The cost is £2m." in str(page.body)
    assert page.last_updated_at > first_updated
    assert [row.version for row in WireItem.objects.order_by("sequence")] == ["1", "2"]
    assert WireItem.objects.get(is_latest=True).version == "2"


def test_a_late_older_version_is_kept_in_the_history_and_changes_nothing(source):
    ingest(source, newsml_g2(story(subjects=[POLITICS], version=5, headline="Fifth take")))

    outcome, _ = ingest(source, newsml_g2(story(subjects=[POLITICS], version=4, headline="Fourth")))

    assert outcome == {"unchanged": 1}
    assert article().title == "Fifth take"
    late = WireItem.objects.get(version="4")
    assert late.desk == WireItem.Desk.STALE and not late.is_latest


def test_a_correction_adds_a_dated_note_for_readers(source, client):
    ingest(source, newsml_g2(story(subjects=[POLITICS])))

    ingest(source, newsml_g2(story(subjects=[POLITICS], version=2, correction=True)))

    page = article()
    notes = [correction.note for correction in page.corrections.all()]
    assert notes == ["This story was corrected by CPA."]
    assert "This story was corrected by CPA." in client.get(page.url).content.decode()


def test_an_update_to_a_story_an_editor_changed_waits_as_a_draft_and_the_desk_is_told(
    source, admin_user
):
    ingest(source, newsml_g2(story(subjects=[POLITICS])))
    revise_story(story=article(), user=admin_user, title="Harbour wall: council says yes")

    outcome, _ = ingest(
        source, newsml_g2(story(subjects=[POLITICS], version=2, headline="Agency's new headline"))
    )

    assert outcome == {"updated": 1}
    page = article()
    assert page.title == "Harbour wall: council says yes"  # the live page keeps the editor's work
    assert page.get_latest_revision_as_object().title == "Agency's new headline"
    assert page.has_unpublished_changes
    alert = DeskAlert.objects.get(kind=DeskAlert.Kind.REVIEW)
    assert alert.story_id == page.pk and "an editor has changed" in alert.message
    assert WireItem.objects.get(is_latest=True).desk == WireItem.Desk.REVIEW


def test_a_kill_takes_the_story_down_with_its_scheduled_versions_and_tells_the_desk(source, client):
    ingest(source, newsml_g2(story(subjects=[POLITICS])))
    url = article().url

    outcome, _ = ingest(source, newsml_g2(story(subjects=[POLITICS], version=2, status="canceled")))

    assert outcome == {"killed": 1}
    page = article()
    assert not page.live and page.go_live_at is None
    assert not page.revisions.filter(approved_go_live_at__isnull=False).exists()
    assert client.get(url).status_code == 404
    assert DeskAlert.objects.get(kind=DeskAlert.Kind.KILLED).story_id == page.pk


def test_a_kill_for_an_item_that_never_ran_is_recorded_and_the_desk_told(source):
    source.default_section = None
    source.save()

    outcome, _ = ingest(source, newsml_g2(story(status="canceled")))

    assert outcome == {"killed": 1}
    assert "never ran" in DeskAlert.objects.get(kind=DeskAlert.Kind.KILLED).message


def test_an_embargoed_item_is_scheduled_and_seen_nowhere_before_its_time(
    source, home, client, desk_morning
):
    embargo = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    ingest(source, newsml_g2(story(subjects=[POLITICS], embargo=embargo)))

    page = article()
    assert not page.live and page.go_live_at == embargo
    assert WireItem.objects.get().desk == WireItem.Desk.SCHEDULED
    assert client.get(f"/news/politics/{page.slug}/").status_code == 404
    for url in ("/", "/news/", "/news/politics/"):
        assert page.title not in client.get(url).content.decode()
    assert ArticlePage.objects.live().filter(pk=page.pk).count() == 0
    assert list(ArticlePage.objects.live().search("harbour wall")) == []  # the search index
    composition = compose(issue_for(timezone.localdate() + timedelta(days=1)))
    assert page.pk not in [
        item.story_id for item in composition.top_stories + composition.blog_posts
    ]

    desk_morning.shift(timedelta(hours=2, minutes=1))
    call_command("publish_scheduled")

    page.refresh_from_db()
    assert page.live
    assert client.get(f"/news/politics/{page.slug}/").status_code == 200
    assert [found.pk for found in ArticlePage.objects.live().search("harbour wall")] == [page.pk]


def test_an_embargo_without_a_release_time_is_held_and_the_desk_told(source):
    outcome, _ = ingest(source, newsml_g2(story(subjects=[POLITICS], embargo_pending=True)))

    assert outcome == {"held": 1}
    assert WireItem.objects.get().story is None
    assert DeskAlert.objects.filter(kind=DeskAlert.Kind.HELD).exists()


def test_a_withheld_version_takes_a_live_story_down_and_holds_it(source):
    ingest(source, newsml_g2(story(subjects=[POLITICS])))

    outcome, _ = ingest(source, newsml_g2(story(subjects=[POLITICS], version=2, status="withheld")))

    assert outcome == {"held": 1}
    assert not article().live


def test_the_packages_picture_becomes_the_lead_photo_with_the_agency_credit(source, client):
    services.receive_file(data=photo_bytes(), name="harbour-wall.jpg", source=source)
    item = story(
        subjects=[POLITICS], picture="harbour-wall.jpg", caption="The wall after the storm"
    )

    outcome, _ = ingest(source, newsml_g2(item, pictures={item.guid: "urn:cpa:2026:0001:pic"}))

    assert outcome == {"imported": 1, "stored": 2}
    page = article()
    assert page.lead_photo is not None
    assert page.lead_photo.credit == "CPA"
    assert page.lead_photo_caption == "The wall after the storm"
    assert "(CPA)" in client.get(page.url).content.decode()


def test_a_ninjs_picture_association_becomes_the_lead_photo_with_alt_text(source):
    services.receive_file(data=photo_bytes(), name="quay.jpg", source=source)

    ingest(
        source,
        ninjs(story(subjects=[POLITICS], picture="quay.jpg", caption="Boats at the quay")),
        "cpa.json",
    )

    photo = article().lead_photo
    assert photo.description == "Boats at the quay"
    assert photo.credit == "CPA photo"  # no credit in the file: the agency, as printed


def test_a_missing_picture_leaves_the_story_without_a_photo_and_says_why(source):
    ingest(source, ninjs(story(subjects=[POLITICS], picture="never-sent.jpg")), "cpa.json")

    assert article().live and article().lead_photo is None
    assert "never-sent.jpg" in WireItem.objects.get().note


def test_a_new_id_that_replaces_an_old_one_updates_the_same_story(source):
    from broadsheet.wire.parsers import parse

    ingest(source, newsml_g2(story(subjects=[POLITICS])))
    replacement = parse(
        newsml_g2(story(guid="urn:cpa:2026:0002", subjects=[POLITICS], headline="Replaced"))
    )[0]
    replacement.replaces = ["urn:cpa:2026:0001"]

    assert services.ingest_item(item=replacement, source=source) == "updated"

    assert ArticlePage.objects.count() == 1
    assert ArticlePage.objects.get().title == "Replaced"


def test_an_arabic_item_keeps_its_language(source):
    ingest(
        source,
        newsml_g2(
            story(
                subjects=[POLITICS],
                language="ar",
                headline="مجلس المدينة يوافق على إعادة بناء الجدار",
                paragraphs=["صوّت المجلس يوم الثلاثاء."],
            )
        ),
    )

    assert article().language == "ar"


def test_agency_markup_is_sanitised_into_body_blocks(source):
    item = story(subjects=[POLITICS])
    data = newsml_g2(item).replace(
        b"<p>The council voted on Tuesday.</p>",
        b'<p onclick="steal()" style="color:red">Voted <script>alert(1)</script>'
        b'<a href="javascript:alert(2)">here</a></p>',
    )

    ingest(source, data)

    body = str(article().body)
    assert "Voted" in body
    for hostile in ("script", "onclick", "style=", "javascript:", "alert"):
        assert hostile not in body


def test_a_bad_file_is_quarantined_with_its_reason_and_the_batch_goes_on(source):
    bad = services.receive_file(data=b"<newsMessage><itemSet>", name="cut-off.xml", source=source)
    good = services.receive_file(
        data=newsml_g2(story(subjects=[POLITICS])), name="ok.xml", source=source
    )

    outcome = services.process_pending(source=source)

    assert outcome == {"quarantined": 1, "imported": 1}
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status == ReceivedFile.Status.QUARANTINED and bad.reason
    assert good.status == ReceivedFile.Status.INGESTED
    assert DeskAlert.objects.filter(kind=DeskAlert.Kind.QUARANTINE).count() == 1


def test_a_file_that_trips_a_bug_is_quarantined_and_can_be_rerun_after_the_fix(source, monkeypatch):
    received = services.receive_file(
        data=newsml_g2(story(subjects=[POLITICS])), name="ok.xml", source=source
    )
    monkeypatch.setattr(services, "story_fields", lambda item: 1 / 0)

    assert services.process_file(received) == {"quarantined": 1}
    received.refresh_from_db()
    assert "ZeroDivisionError" in received.reason
    monkeypatch.undo()

    assert services.rerun(received) == {"imported": 1}
    received.refresh_from_db()
    assert received.status == ReceivedFile.Status.INGESTED and received.attempts == 2


@pytest.mark.parametrize(
    "data, reason",
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">'
            b'<!ENTITY b "&a;&a;&a;">]><x>&b;</x>',
            "entit",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "entit",
        ),
        (b"\x00\x01garbage", "Neither XML nor JSON"),
        (b"", "empty"),
    ],
)
def test_hostile_and_broken_files_are_quarantined_with_the_reason(source, data, reason):
    outcome, received = ingest(source, data, "hostile.xml")

    assert outcome == {"quarantined": 1}
    received.refresh_from_db()
    assert reason.lower() in received.reason.lower()
    assert received.read() == data  # kept exactly as it came


def test_an_item_with_no_headline_and_no_body_is_kept_but_never_becomes_a_story(source):
    data = b'{"uri": "urn:cpa:empty", "type": "text", "version": "1", "pubstatus": "usable"}'

    outcome, _ = ingest(source, data, "empty.json")

    assert outcome == {"stored": 1}
    assert ArticlePage.objects.count() == 0
    assert "nothing to publish" in WireItem.objects.get().note
