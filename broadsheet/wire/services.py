"""The wire desk's writes: receive a file, read it, turn each item into a story.

    received = receive_file(data=..., name="afp-123.xml", source=source)  # stored first
    outcome = process_file(received)   # Counter: imported, updated, unchanged, ...

Everything that brings copy in (the drop-folder scan, the feed poller, `manage.py
ingest`, the demo) calls these two, so every path follows the same rules. Stories are
written only through `broadsheet.news.services`, so the wire's stories live the same
lifecycle as an editor's: "Last updated", scheduling, `story_changed`.
"""

import logging
import os
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from broadsheet.news import services as news
from broadsheet.news.models import Agency, ArticlePage, Correction, StoryPage

from .mapping import (
    CAPTION_MAX,
    PictureUnavailable,
    cut,
    item_to_payload,
    photo_for,
    route,
    slug_for,
    story_fields,
)
from .models import DeskAlert, ReceivedFile, WireDeskSettings, WireItem, received_storage
from .parsers import MAX_BYTES, NOTHING_TO_PUBLISH, Kind, Status, Unreadable, detect, parse
from .parsers import WireItem as ParsedItem

logger = logging.getLogger(__name__)

# What became of each item of a file (`process_file`'s counts, the command's summary).
IMPORTED, UPDATED, UNCHANGED, HELD, KILLED, QUEUED, STORED = (
    "imported",
    "updated",
    "unchanged",
    "held",
    "killed",
    "queued",
    "stored",
)
PICTURE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF")


# Receiving --------------------------------------------------------------------------


def receive_file(*, data: bytes, name: str, source=None) -> ReceivedFile:
    """Store a file exactly as it arrived, before anything reads it, and record it.

    The bytes are written to a temporary name and renamed, so a crash leaves either the
    whole file or nothing; the row is committed with them, so the next run finds a file
    it has not read yet (status pending) and reads it.
    """
    digest = ReceivedFile.digest(data)
    now = timezone.now()
    stored_as = f"{now:%Y/%m/%d}/{digest[:16]}-{Path(name).name[-120:] or 'file'}"
    storage = received_storage()
    target = Path(storage.path(stored_as))
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.replace(temporary.name, target)
    is_picture = data.startswith(PICTURE_MAGIC)
    received = ReceivedFile.objects.create(
        source=source,
        name=Path(name).name[:255] or "file",
        stored_as=stored_as,
        sha256=digest,
        size=len(data),
        received_at=now,
        status=ReceivedFile.Status.ASSET if is_picture else ReceivedFile.Status.PENDING,
    )
    if source is not None:
        type(source).objects.filter(pk=source.pk).update(last_received_at=now)
    return received


def process_file(received: ReceivedFile) -> Counter:
    """Read a received file and ingest its items; quarantine it with the reason if it
    cannot be read. Never raises for a bad file: the rest of the batch goes on.

    Each item is ingested in its own transaction, and ingesting is idempotent (keyed on
    agency, guid and version), so a file re-run after a crash or a fix changes only what
    had not been done.
    """
    outcome = Counter()
    ReceivedFile.objects.filter(pk=received.pk).update(attempts=received.attempts + 1)
    try:
        data = received.read()
        items = parse(data, filename=received.name)
        received.format = items[0].format if items else detect(data, filename=received.name)
        for item in items:
            outcome[ingest_item(item=item, source=received.source, received_file=received)] += 1
    except Unreadable as refusal:
        return quarantine(received, refusal.reason)
    except Exception as exc:  # a bug must not stop the batch: the file waits for a fix
        logger.exception("Wire file %s (%s) failed", received.pk, received.name)
        return quarantine(
            received, f"Broadsheet could not ingest this file ({exc!r}); re-run it once fixed."
        )
    received.status = ReceivedFile.Status.INGESTED
    received.reason = ""
    received.outcome = dict(outcome)
    received.processed_at = timezone.now()
    received.save(update_fields=["status", "reason", "format", "outcome", "processed_at"])
    return outcome


def quarantine(received: ReceivedFile, reason: str) -> Counter:
    received.status = ReceivedFile.Status.QUARANTINED
    received.reason = reason
    received.processed_at = timezone.now()
    received.save(update_fields=["status", "reason", "format", "processed_at"])
    DeskAlert.raise_once(
        kind=DeskAlert.Kind.QUARANTINE,
        message=f"{received.name} was quarantined: {reason}"[:500],
        source=received.source,
    )
    return Counter(quarantined=1)


def process_pending(*, source=None, progress=None) -> Counter:
    """Read every file still waiting (new ones, and those a crash interrupted)."""
    pending = ReceivedFile.objects.filter(status=ReceivedFile.Status.PENDING).order_by("pk")
    if source is not None:
        pending = pending.filter(source=source)
    total = Counter()
    for received in pending.iterator():
        total += process_file(received)
        if progress:
            progress()
    return total


def source_for_format(data: bytes, *, name: str):
    """The active source that claims this format (files imported by hand), or None."""
    from .models import WireSource

    try:
        fmt = detect(data[:MAX_BYTES], filename=name)
    except Unreadable:
        return None
    family = "ninjs" if fmt.startswith("ninjs") else fmt
    return WireSource.objects.filter(active=True, format=family).order_by("pk").first()


# Ingesting one item -----------------------------------------------------------------


def ingest_item(*, item: ParsedItem, source=None, received_file=None) -> str:
    """Bring one item version into the newsroom; returns what became of it.

    Same agency, guid and version again: unchanged. A version older than one already in:
    kept in the history, nothing else. Otherwise the newest version of its guid acts:
    a story is created, updated, embargoed, held or killed as the item and the desk's
    rules say.
    """
    agency = source.agency if source is not None else agency_for(item)
    guids = [item.guid, *item.replaces]
    # Feeds carry no version: an entry's updated time tells one version from the next.
    version = item.version or (item.version_created.isoformat() if item.version_created else "")
    try:
        with transaction.atomic():
            if WireItem.objects.filter(agency=agency, guid=item.guid, version=version).exists():
                return UNCHANGED
            previous = (
                WireItem.objects.filter(agency=agency, guid__in=guids, is_latest=True)
                .select_related("story")
                .order_by("-sequence", "-pk")
                .first()
            )
            row = WireItem(
                agency=agency,
                guid=item.guid,
                version=version,
                sequence=item.sequence,
                kind=item.kind,
                status=item.status,
                format=item.format,
                headline=cut(item.headline, 500),
                language=item.language[:35],
                urgency=item.urgency,
                version_created=item.version_created,
                embargo=item.embargo,
                source=source,
                received_file=received_file,
                payload=item_to_payload(item),
            )
            if (
                previous is not None
                and previous.guid == item.guid
                and previous.sequence > item.sequence
            ):
                row.is_latest, row.desk, row.story = False, WireItem.Desk.STALE, previous.story
                row.note = f"Version {previous.version} was already in."
                row.save()
                return UNCHANGED
            if previous is not None:
                WireItem.objects.filter(agency=agency, guid__in=guids).update(is_latest=False)
            return act_on(row, item=item, previous=previous)
    except IntegrityError:
        return UNCHANGED  # the same version, written by a parallel run a moment ago


def agency_for(item: ParsedItem) -> Agency:
    """The agency a file names, for files no source claims; created when new."""
    name = cut(item.provider or "Wire", 60)
    agency = Agency.objects.filter(byline_name__iexact=name).first()
    if agency is None:
        agency, _ = Agency.objects.get_or_create(
            slug=slugify(name) or "wire", defaults={"name": name, "byline_name": name}
        )
    return agency


def act_on(row: WireItem, *, item: ParsedItem, previous: WireItem | None) -> str:
    """Do what the newest version of an item asks, and record it on `row`."""
    story = previous.story if previous is not None else None
    if item.kind != Kind.TEXT:
        row.desk = WireItem.Desk.STORED
        row.save()
        if item.kind == Kind.PACKAGE:
            apply_package(row, item=item)
        return STORED
    if item.status == Status.CANCELED:
        row.section = previous.section if previous is not None else None
        return kill(row, story=story)
    if NOTHING_TO_PUBLISH in item.warnings:  # a fragment, a test object: kept, never a story
        row.desk, row.note, row.story = WireItem.Desk.STORED, NOTHING_TO_PUBLISH, story
        row.save()
        return STORED
    if story is None:
        section, publish = route(item, source=row.source, default_section=desk_section(row.source))
        if item.status == Status.WITHHELD or item.embargo_pending:
            row.section = section
            return hold(
                row,
                why="withheld by the agency"
                if item.status == Status.WITHHELD
                else "embargoed, release time not yet given",
            )
        if section is None:
            row.desk = WireItem.Desk.QUEUED
            row.save()
            return QUEUED
        row.section = section
        create_story(row, item=item, section=section, publish=publish)
        return IMPORTED
    row.section = previous.section
    if item.status == Status.WITHHELD or item.embargo_pending:
        if story.live:
            news.withdraw_story(story=story)
        return hold(row, why="withheld by the agency", story=story)
    return update_story(row, item=item, story=story, previous=previous)


def desk_section(source):
    return None if source is not None else WireDeskSettings.load().default_section


def hold(row: WireItem, *, why: str, story=None) -> str:
    row.desk, row.note, row.story = WireItem.Desk.HELD, why, story
    row.save()
    DeskAlert.raise_once(
        kind=DeskAlert.Kind.HELD,
        message=f"Held: {row.headline or row.guid} ({why})",
        item=row,
        story=story,
    )
    return HELD


def kill(row: WireItem, *, story) -> str:
    """The agency withdrew the item: down at once, with every scheduled version, and
    the desk told. Whatever listens to `story_changed` (newsletter web copies) follows."""
    row.desk, row.story = WireItem.Desk.KILLED, story
    row.save()
    was_live = bool(story and story.live)
    if story is not None:
        news.withdraw_story(story=story)
    fate = "taken down" if was_live else "its draft stays unpublished" if story else "it never ran"
    title = story.title if story else row.headline or row.guid
    DeskAlert.raise_once(
        kind=DeskAlert.Kind.KILLED,
        message=f"Killed by {row.agency.byline_name}: {title} ({fate})",
        item=row,
        story=story,
    )
    return KILLED


def create_story(
    row: WireItem, *, item: ParsedItem, section, publish: bool, user=None
) -> StoryPage:
    fields = story_fields(item)
    story = ArticlePage(**fields, slug=slug_for(item, fields["title"]), agency=row.agency)
    attach_pictures(story, item=item, row=row)
    if item.embargo and item.embargo > timezone.now():
        story.go_live_at = item.embargo
        publish = True  # publishing a story with a future go-live schedules it
    if publish:
        story = news.publish_story(parent=section, story=story, user=user)
    else:
        story = news.draft_story(parent=section, story=story, user=user)
    row.story = story
    row.revision_id = story.latest_revision_id
    row.desk = (
        WireItem.Desk.SCHEDULED
        if story.go_live_at and not story.live
        else WireItem.Desk.PUBLISHED
        if story.live
        else WireItem.Desk.DRAFTED
    )
    row.save()
    return story


def update_story(row: WireItem, *, item: ParsedItem, story: StoryPage, previous: WireItem) -> str:
    """A newer version: the story follows it, unless an editor has worked on it since the
    wire last wrote it; then the update waits as a draft revision and the desk is told."""
    story = story.specific
    fields = story_fields(item)
    latest = story.get_latest_revision()
    edited_by_hand = latest is not None and previous.revision_id not in (None, latest.pk)
    current = story.get_latest_revision_as_object()
    # The corrections the story has (those an editor added too), and the agency's own.
    fields["corrections"] = list(current.corrections.all())
    note = agency_note(item, agency=row.agency)
    if note:
        fields["corrections"].append(Correction(date=note[0], note=note[1]))
    picture_owner = ArticlePage(
        lead_photo=story.lead_photo, lead_photo_caption=story.lead_photo_caption
    )
    attach_pictures(picture_owner, item=item, row=row)
    fields["lead_photo"], fields["lead_photo_caption"] = (
        picture_owner.lead_photo,
        picture_owner.lead_photo_caption,
    )
    scheduled = story.go_live_at and not story.live
    if item.embargo and item.embargo > timezone.now() and not story.live:
        fields["go_live_at"], scheduled = item.embargo, True
    publish = not edited_by_hand and (story.live or scheduled)
    revision = news.revise_story(story=story, publish=publish, **fields)
    row.story, row.revision_id = story, revision.pk
    if edited_by_hand:
        row.desk = WireItem.Desk.REVIEW
        row.save()
        DeskAlert.raise_once(
            kind=DeskAlert.Kind.REVIEW,
            message=f"{row.agency.byline_name} updated “{story.title}”, which an editor has "
            "changed: the update waits as a draft revision.",
            item=row,
            story=story,
        )
        return UPDATED
    story.refresh_from_db()
    row.desk = (
        WireItem.Desk.PUBLISHED
        if story.live
        else WireItem.Desk.SCHEDULED
        if scheduled
        else WireItem.Desk.DRAFTED
    )
    row.save()
    return UPDATED


def agency_note(item: ParsedItem, *, agency) -> tuple[date, str] | None:
    """The dated note readers see when the agency marks a version as a correction."""
    if not item.correction:
        return None
    when = timezone.localdate(item.version_created or timezone.now())
    return when, f"This story was corrected by {agency.byline_name}."


def attach_pictures(story: StoryPage, *, item: ParsedItem, row: WireItem) -> None:
    """The item's first picture becomes the lead photo, with its caption; a picture
    that cannot be had is noted on the item, and the story goes without it."""
    problems = []
    for picture in item.pictures:
        try:
            photo = photo_for(picture, agency=row.agency, beside=asset_reader(row))
        except PictureUnavailable as why:
            problems.append(str(why))
            continue
        story.lead_photo = photo
        story.lead_photo_caption = cut(picture.caption or picture.headline, CAPTION_MAX)
        break
    if problems:
        row.note = cut("No lead photo: " + "; ".join(problems), 500)


def asset_reader(row: WireItem):
    """Finds a picture file that arrived by the same route as the item, by its name."""

    def read(name: str) -> bytes | None:
        assets = ReceivedFile.objects.filter(status=ReceivedFile.Status.ASSET, name=name)
        # The same source's file first; a picture imported by hand has no source.
        asset = assets.filter(source_id=row.source_id).order_by("-pk").first() or (
            assets.order_by("-pk").first()
        )
        return asset.read() if asset else None

    return read


def apply_package(row: WireItem, *, item: ParsedItem) -> None:
    """A package ties a story to its pictures: its main picture, once both are in,
    becomes the story's lead photo (when the story has none yet)."""
    members = {member.guid: member for member in item.members}
    rows = {
        r.guid: r
        for r in WireItem.objects.filter(agency=row.agency, guid__in=members, is_latest=True)
    }
    story = next((r.story for r in rows.values() if r.story_id and r.kind == Kind.TEXT), None)
    picture_rows = [r for r in rows.values() if r.kind == Kind.PICTURE]
    if story is None or not picture_rows or story.specific.lead_photo_id:
        return
    picture_rows.sort(key=lambda r: members[r.guid].role not in ("main", "mainpicture"))
    pictured = picture_rows[0].item
    donor = ParsedItem(format=pictured.format, guid=pictured.guid, pictures=pictured.pictures)
    holder = ArticlePage()
    attach_pictures(holder, item=donor, row=picture_rows[0])
    if holder.lead_photo is not None:
        revision = news.revise_story(
            story=story.specific,
            publish=story.live,
            lead_photo=holder.lead_photo,
            lead_photo_caption=holder.lead_photo_caption,
        )
        # The wire's own revision: the story's next agency update must not take it for
        # an editor's work.
        WireItem.objects.filter(story=story, is_latest=True, kind=Kind.TEXT).update(
            revision_id=revision.pk
        )


# The desk's actions -----------------------------------------------------------------


@transaction.atomic
def pick_up(*, row: WireItem, section, user) -> StoryPage:
    """An editor takes a queued item into a draft article in `section`."""
    row = WireItem.objects.select_for_update().get(pk=row.pk)
    if row.story_id:
        return row.story.specific
    row.section = section
    return create_story(row, item=row.item, section=section, publish=False, user=user)


def rerun(received: ReceivedFile) -> Counter:
    """Read a quarantined file again (after a parser fix, or a source's settings)."""
    return process_file(received)


def resolve_alert(*, alert: DeskAlert, user) -> None:
    DeskAlert.objects.filter(pk=alert.pk, resolved_at=None).update(
        resolved_at=timezone.now(), resolved_by=user
    )
