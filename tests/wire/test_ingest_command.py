"""`manage.py ingest`: files and folders by hand, through the drop folders' own path."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from broadsheet.news.models import ArticlePage
from broadsheet.wire.models import ReceivedFile, WireDeskSettings, WireItem
from broadsheet.wire.samples import Story, newsml_g2, ninjs, photo_bytes


def story(n, **fields):
    fields.setdefault("sent", timezone.now() - timedelta(minutes=10))
    fields.setdefault("headline", f"Item by hand {n}")
    return Story(guid=f"urn:cpa:hand:{n}", provider="CPA", **fields)


def ingest(*paths):
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest", *map(str, paths), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_folder_is_ingested_with_a_progress_bar_and_a_summary(tmp_path, source, world):
    source.format = "newsml-g2"
    source.save()
    (tmp_path / "day").mkdir()
    (tmp_path / "day" / "a.xml").write_bytes(newsml_g2(story(1), story(2)))
    (tmp_path / "day" / "b.xml").write_bytes(
        newsml_g2(story(1, version=2, headline="Item by hand 1, v2"))
    )
    (tmp_path / "day" / "c.xml").write_bytes(b"<newsMessage><itemSet>")
    (tmp_path / "day" / "d.xml").write_bytes(newsml_g2(story(2)))

    out, err = ingest(tmp_path / "day")

    assert out.splitlines()[0] == "4 files: 2 imported, 1 updated, 1 unchanged, 1 quarantined"
    assert "Received files" in out
    assert "Ingesting" in err and "4/4" in err
    draft = WireItem.objects.get(guid="urn:cpa:hand:1", is_latest=True).story.specific
    assert draft.get_parent().specific == world and not draft.live  # drafts, as the source says
    assert draft.get_latest_revision_as_object().title == "Item by hand 1, v2"


def test_a_format_no_source_claims_goes_through_the_desks_defaults(tmp_path, source, politics):
    WireDeskSettings.objects.update_or_create(
        pk=WireDeskSettings.load().pk, defaults={"default_section": politics}
    )
    (tmp_path / "x.json").write_bytes(ninjs(story(3)))

    ingest(tmp_path / "x.json")

    row = WireItem.objects.get()
    assert row.source is None and row.agency.byline_name == "CPA"
    assert ArticlePage.objects.get().get_parent().specific == politics


def test_without_a_default_section_items_by_hand_wait_in_the_queue(tmp_path, db, desk_morning):
    (tmp_path / "x.json").write_bytes(ninjs(story(4)))

    out, _ = ingest(tmp_path / "x.json")

    assert out.startswith("1 file: 1 queued")
    assert WireItem.objects.get().desk == WireItem.Desk.QUEUED


def test_pictures_given_beside_a_story_become_its_photo(tmp_path, source):
    source.format = "ninjs"
    source.save()
    (tmp_path / "z-photo.jpg").write_bytes(photo_bytes())
    (tmp_path / "a-story.json").write_bytes(ninjs(story(5, picture="z-photo.jpg", caption="Quay")))

    ingest(tmp_path)

    assert ArticlePage.objects.get().lead_photo is not None
    assert ReceivedFile.objects.get(name="z-photo.jpg").status == ReceivedFile.Status.ASSET


def test_a_path_that_does_not_exist_is_refused_and_nothing_is_received(tmp_path, db):
    with pytest.raises(CommandError, match="no such file or folder"):
        ingest(tmp_path / "a.xml", tmp_path / "missing.xml")
    with pytest.raises(CommandError, match="at least one file"):
        ingest()

    assert ReceivedFile.objects.count() == 0
