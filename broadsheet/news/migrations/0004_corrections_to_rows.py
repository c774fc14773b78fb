"""Every correction moves from the story's StreamField into news.Correction rows.

Two copies are moved, and both must be, or corrections would be lost later:

- the story's own row (the live content, or a draft's first content) becomes rows;
- every stored revision of a story, whose content JSON holds the StreamField as a JSON
  string under "corrections", gets the child rows modelcluster expects under that same
  key instead. A revision published, reverted to or compared later then still has its
  corrections; left as a string, it could not even be opened.

A revision's correction that is also one of the live page's rows keeps that row's id,
so publishing the current revision again rewrites nothing. The reverse puts both copies
back as StreamField data.
"""

import json
import uuid
from datetime import date

from django.db import migrations
from django.utils import timezone

STORY_MODELS = ("storypage", "articlepage", "blogpostpage")
BATCH = 500


def stream_blocks(value) -> list[dict]:
    """The raw blocks of a StreamField value, whatever form it comes in."""
    if value is None:
        return []
    if isinstance(value, str):
        return json.loads(value or "[]") or []
    raw = getattr(value, "raw_data", value)  # a StreamValue keeps its raw JSON
    return [dict(block) for block in raw]


def as_date(value) -> date:
    """A DateBlock's stored "YYYY-MM-DD"; a block saved without one gets today's date,
    so its note is kept rather than dropped."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return timezone.localdate()


def corrections_of(value) -> list[tuple[date, str]]:
    notes = []
    for block in stream_blocks(value):
        if block.get("type") != "correction":
            continue
        fields = block.get("value") or {}
        notes.append((as_date(fields.get("date")), str(fields.get("note") or "")))
    return notes


def story_revisions(apps, db):
    """The revisions of stories (articles, blog posts), in id order."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Revision = apps.get_model("wagtailcore", "Revision")
    types = ContentType.objects.using(db).filter(app_label="news", model__in=STORY_MODELS)
    return Revision.objects.using(db).filter(content_type__in=types).order_by("pk")


def save_in_batches(model, db, objects, fields):
    for start in range(0, len(objects), BATCH):
        model.objects.using(db).bulk_update(objects[start : start + BATCH], fields)


def streams_to_rows(apps, schema_editor):
    db = schema_editor.connection.alias
    StoryPage = apps.get_model("news", "StoryPage")
    Correction = apps.get_model("news", "Correction")
    Revision = apps.get_model("wagtailcore", "Revision")

    rows = []
    for story_id, stream in StoryPage.objects.using(db).values_list("pk", "legacy_corrections"):
        for position, (when, note) in enumerate(corrections_of(stream)):
            rows.append(Correction(story_id=story_id, sort_order=position, date=when, note=note))
    Correction.objects.using(db).bulk_create(rows, batch_size=BATCH)

    # The ids the rows were given, by story and content, for the revisions to point at.
    ids = {}
    for pk, story_id, when, note in Correction.objects.using(db).values_list(
        "pk", "story_id", "date", "note"
    ):
        ids.setdefault((story_id, when, note), []).append(pk)

    changed = []
    for revision in story_revisions(apps, db).iterator(chunk_size=BATCH):
        content = revision.content or {}
        stored = content.get("corrections")
        if isinstance(stored, list):  # already rows (a migration run twice)
            continue
        story_id = int(revision.object_id)
        children, used = [], set()
        for position, (when, note) in enumerate(corrections_of(stored)):
            match = next((pk for pk in ids.get((story_id, when, note), []) if pk not in used), None)
            used.add(match)
            children.append(
                {
                    "pk": match,
                    "sort_order": position,
                    "story": story_id,
                    "date": when.isoformat(),
                    "note": note,
                }
            )
        content["corrections"] = children
        revision.content = content
        changed.append(revision)
        if len(changed) >= BATCH:
            save_in_batches(Revision, db, changed, ["content"])
            changed = []
    save_in_batches(Revision, db, changed, ["content"])


def rows_to_streams(apps, schema_editor):
    db = schema_editor.connection.alias
    StoryPage = apps.get_model("news", "StoryPage")
    Correction = apps.get_model("news", "Correction")
    Revision = apps.get_model("wagtailcore", "Revision")

    def block(when, note):
        value = {"date": str(when), "note": note}
        return {"type": "correction", "value": value, "id": str(uuid.uuid4())}

    # The column comes back empty (""): an empty stream, as a new story has.
    StoryPage.objects.using(db).update(legacy_corrections=[])
    by_story = {}
    for story_id, when, note in (
        Correction.objects.using(db)
        .order_by("story_id", "sort_order", "pk")
        .values_list("story_id", "date", "note")
    ):
        by_story.setdefault(story_id, []).append(block(when, note))
    for story_id, blocks in by_story.items():
        StoryPage.objects.using(db).filter(pk=story_id).update(legacy_corrections=blocks)

    changed = []
    for revision in story_revisions(apps, db).iterator(chunk_size=BATCH):
        content = revision.content or {}
        stored = content.get("corrections")
        if not isinstance(stored, list):
            continue
        ordered = sorted(stored, key=lambda row: row.get("sort_order") or 0)
        content["corrections"] = json.dumps(
            [block(row.get("date"), row.get("note", "")) for row in ordered]
        )
        revision.content = content
        changed.append(revision)
        if len(changed) >= BATCH:
            save_in_batches(Revision, db, changed, ["content"])
            changed = []
    save_in_batches(Revision, db, changed, ["content"])


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0003_correction"),
        ("wagtailcore", "0098_apitoken"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(streams_to_rows, rows_to_streams)]
