"""Copy comes in by itself: each active source is looked at every few minutes by a task
the worker runs (decision 0002: no cron on one machine), which then queues the next look.

A drop folder is read file by file: each is stored (`receive_file`) before it is removed
from the folder, so a crash at any point leaves it either still in the folder or safely
received. A feed is fetched with a conditional GET (ETag, Last-Modified), so an unchanged
feed costs the agency one 304.
"""

import logging
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django_tasks import task

from .models import DeskAlert, WireSource
from .parsers import MAX_BYTES
from .services import process_file, process_pending, receive_file

logger = logging.getLogger(__name__)

FEED_TIMEOUT = 20  # seconds
# A file younger than this may still be being written by the agency's upload.
SETTLE_SECONDS = 2
# Names an upload uses while it is still being written (FTP and SFTP clients, rsync).
PARTIAL = (".part", ".partial", ".tmp", ".filepart", ".crdownload")


class SourceFailed(Exception):
    pass


def drop_folder(source: WireSource) -> Path:
    folder = Path(source.folder).expanduser()
    return folder if folder.is_absolute() else Path(settings.WIRE_DIR) / "drop" / folder


def scan_drop_folder(source: WireSource, *, now: float | None = None) -> Counter:
    """Receive every settled file in the source's folder, then read them all.

    Every file is received before any is read, so a story and its photo delivered
    together are ingested together, whatever order they arrived in.
    """
    folder = drop_folder(source)
    if not folder.is_dir():
        raise SourceFailed(f"The drop folder {folder} does not exist")
    now = now if now is not None else time.time()
    arrived = []
    for path in folder.iterdir():
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() in PARTIAL:
            continue
        stat = path.stat()
        if now - stat.st_mtime >= SETTLE_SECONDS:
            arrived.append((stat.st_mtime, path.name, path))
    # In the order they arrived: a version and its update sent a minute apart are read
    # in that order, whatever their names.
    for _mtime, _name, path in sorted(arrived):
        data = path.read_bytes()  # an oversize file is kept too, and quarantined as such
        with transaction.atomic():
            receive_file(data=data, name=path.name, source=source)
        path.unlink()  # only once the stored copy and its row are committed
    return process_pending(source=source)


def fetch_feed(source: WireSource) -> bytes | None:
    """The feed's bytes, or None when unchanged since the last poll (304)."""
    headers = {
        "User-Agent": "Broadsheet wire desk",
        "Accept": "application/xml, application/json, */*",
    }
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    request = urllib.request.Request(source.url, headers=headers)
    if not source.url.startswith(("http://", "https://")):
        raise SourceFailed("A feed address must start with http:// or https://")
    try:
        with urllib.request.urlopen(request, timeout=FEED_TIMEOUT) as response:
            data = response.read(MAX_BYTES + 1)
            etag = response.headers.get("ETag", "")[:400]
            modified = response.headers.get("Last-Modified", "")[:100]
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return None
        raise SourceFailed(f"The feed answered {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise SourceFailed(
            f"The feed could not be reached: {getattr(error, 'reason', error)}"
        ) from error
    WireSource.objects.filter(pk=source.pk).update(etag=etag, last_modified=modified)
    source.etag, source.last_modified = etag, modified
    return data


def poll_feed(source: WireSource) -> Counter:
    data = fetch_feed(source)
    if data is None:
        return Counter()
    with transaction.atomic():
        received = receive_file(
            data=data,
            name=f"{slugify(source.name)[:60]}-{timezone.now():%Y%m%d-%H%M%S}.xml",
            source=source,
        )
    return process_file(received)


def poll_source(source: WireSource) -> Counter:
    """Look at one source now: new files in, the source's health recorded, the desk
    told when it fails or has gone quiet."""
    try:
        outcome = (
            scan_drop_folder(source)
            if source.kind == WireSource.Kind.DROP_FOLDER
            else poll_feed(source)
        )
        error = ""
    except SourceFailed as failure:
        outcome, error = Counter(), str(failure)
    WireSource.objects.filter(pk=source.pk).update(
        last_checked_at=timezone.now(), last_error=error[:500]
    )
    if error:
        DeskAlert.raise_once(
            kind=DeskAlert.Kind.FAILING, message=f"{source.name}: {error}", source=source
        )
    source.refresh_from_db(fields=["last_received_at"])
    if source.quiet_since:
        DeskAlert.raise_once(
            kind=DeskAlert.Kind.QUIET,
            message=f"{source.name} has sent nothing since "
            f"{timezone.localtime(source.quiet_since):%-d %b %H:%M} "
            f"(usually every {source.quiet_minutes} minutes or less)",
            source=source,
        )
    return outcome


def schedule_polling(source: WireSource, *, at=None) -> bool:
    """Start (or restart) the chain of looks at a source. A new token makes an earlier
    chain stand down, so saving a source twice never doubles its polling. False when the
    task backend cannot run tasks later (then cron runs `manage.py ingest --poll`)."""
    if not poll_source_task.get_backend().supports_defer:
        return False
    token = uuid4().hex
    WireSource.objects.filter(pk=source.pk).update(poll_token=token)
    poll_source_task.using(run_after=at or timezone.now()).enqueue(source.pk, token)
    return True


@task()
def poll_source_task(source_id: int, token: str) -> None:
    """One look at a source, then the next one queued `poll_minutes` later."""
    source = WireSource.objects.filter(pk=source_id, poll_token=token).first()
    if source is None or not source.active:
        return  # deleted, switched off, or replaced by a newer chain
    try:
        poll_source(source)
    finally:
        if poll_source_task.get_backend().supports_defer:
            next_at = timezone.now() + timedelta(minutes=source.poll_minutes)
            poll_source_task.using(run_after=next_at).enqueue(source.pk, token)


def poll_all(*, progress=None) -> Counter:
    """Every active source, once (for `manage.py ingest --poll` from cron)."""
    total = Counter()
    for source in WireSource.objects.filter(active=True).order_by("pk"):
        total += poll_source(source)
        if progress:
            progress()
    return total
