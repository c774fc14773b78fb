"""The desk at work in the Wagtail admin: the queue, a preview, picking up, re-running."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from broadsheet.news import services as news
from broadsheet.news.models import ArticlePage
from broadsheet.wire import services
from broadsheet.wire.models import DeskAlert, ReceivedFile, WireItem
from broadsheet.wire.samples import Story, newsml_g2

QUEUE = reverse("wagtailsnippets_wire_wireitem:list")


@pytest.fixture
def staff(django_user_model, db):
    groups = news.ensure_newsroom_roles()

    def make(username, role):
        user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(groups[role])
        return user

    return make


@pytest.fixture
def editor(client, staff):
    client.force_login(staff("ed", news.EDITORS))
    return client


def queued(source, n=1, **fields):
    source.default_section = None
    source.save()
    fields.setdefault("sent", timezone.now() - timedelta(minutes=5))
    data = newsml_g2(
        Story(guid=f"urn:cpa:{n}", headline=f"Ferry strike day {n}", provider="CPA", **fields)
    )
    services.process_file(services.receive_file(data=data, name=f"{n}.xml", source=source))
    return WireItem.objects.get(guid=f"urn:cpa:{n}", is_latest=True)


def test_the_queue_lists_items_with_agency_state_and_section(editor, source):
    queued(source, 1)
    queued(source, 2)

    page = editor.get(QUEUE).content.decode()

    assert "Ferry strike day 1" in page and "Ferry strike day 2" in page
    assert "In the queue" in page and "Continental Press Agency" in page
    assert "Pick up" in page


def test_the_queue_shows_only_the_latest_version_unless_asked(editor, source):
    queued(source, 1)
    services.process_file(
        services.receive_file(
            data=newsml_g2(
                Story(guid="urn:cpa:1", version=2, headline="Ferry strike ends", provider="CPA")
            ),
            name="1v2.xml",
            source=source,
        )
    )

    latest = editor.get(QUEUE).content.decode()
    every = editor.get(QUEUE + "?versions=all").content.decode()

    assert "Ferry strike ends" in latest and "Ferry strike day 1" not in latest
    assert "Ferry strike day 1" in every


def test_the_preview_shows_text_the_editors_note_and_every_version(editor, source):
    row = queued(source, 1, ednote="Eds: adds quotes from the union", crosshead="Union speaks")

    page = editor.get(
        reverse("wagtailsnippets_wire_wireitem:inspect", args=[row.pk])
    ).content.decode()

    assert "Ferry strike day 1" in page
    assert "Union speaks" in page
    assert "never printed" in page and "adds quotes from the union" in page
    assert "Versions" in page


def test_picking_up_makes_a_draft_in_the_chosen_section_and_opens_its_editor(
    editor, source, politics
):
    row = queued(source, 1)

    response = editor.post(reverse("wire:pick_up", args=[row.pk]), {"section": politics.pk})

    story = ArticlePage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[story.pk])
    assert not story.live and story.get_parent().specific == politics
    row.refresh_from_db()
    assert row.story_id == story.pk and row.desk == WireItem.Desk.DRAFTED


def test_picking_up_twice_opens_the_same_draft(editor, source, politics):
    row = queued(source, 1)
    editor.post(reverse("wire:pick_up", args=[row.pk]), {"section": politics.pk})

    editor.post(reverse("wire:pick_up", args=[row.pk]), {"section": politics.pk})

    assert ArticlePage.objects.count() == 1


def test_picking_up_into_no_section_says_so_and_creates_nothing(editor, source):
    row = queued(source, 1)

    response = editor.post(reverse("wire:pick_up", args=[row.pk]), {"section": "not-a-section"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert ArticlePage.objects.count() == 0


def test_reporters_see_no_desk_and_cannot_pick_up(client, staff, source, politics):
    row = queued(source, 1)
    client.force_login(staff("rep", news.REPORTERS))

    # Wagtail answers a refusal in its admin by sending the user back to the dashboard.
    assert client.get(QUEUE)["Location"] == reverse("wagtailadmin_home")
    response = client.post(reverse("wire:pick_up", args=[row.pk]), {"section": politics.pk})
    assert response["Location"] == reverse("wagtailadmin_home")
    assert ArticlePage.objects.count() == 0


def test_a_quarantined_file_shows_its_reason_and_can_be_rerun(editor, source):
    received = services.receive_file(data=b"<newsMessage>", name="cut.xml", source=source)
    services.process_file(received)

    listing = editor.get(reverse("wagtailsnippets_wire_receivedfile:list")).content.decode()
    response = editor.post(reverse("wire:rerun", args=[received.pk]), follow=True)

    assert "cut.xml" in listing and "Quarantined" in listing
    assert "still quarantined" in response.content.decode()
    received.refresh_from_db()
    assert received.attempts == 2


def test_an_alert_is_on_the_dashboard_until_resolved(editor, source):
    services.process_file(services.receive_file(data=b"{", name="bad.json", source=source))
    alert = DeskAlert.objects.get()

    assert "bad.json was quarantined" in editor.get(reverse("wagtailadmin_home")).content.decode()
    editor.post(reverse("wire:resolve", args=[alert.pk]))

    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert "No wire alerts" in editor.get(reverse("wagtailadmin_home")).content.decode()


def test_nobody_adds_or_edits_received_files_by_hand(editor, source):
    received = services.receive_file(data=b"{}", name="x.json", source=source)

    home = reverse("wagtailadmin_home")
    assert editor.get(reverse("wagtailsnippets_wire_receivedfile:add"))["Location"] == home
    edit = reverse("wagtailsnippets_wire_receivedfile:edit", args=[received.pk])
    assert editor.post(edit, {"name": "renamed"})["Location"] == home
    received.refresh_from_db()
    assert received.name == "x.json"
    assert ReceivedFile.objects.count() == 1
