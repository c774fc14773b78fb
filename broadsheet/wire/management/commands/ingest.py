"""Import agency files by hand, through exactly the path the drop folders take.

    manage.py ingest afp-2026-11-26/ extra-item.xml
    manage.py ingest --poll          # look at every active source once (cron, if wanted)

Each file is stored as received, then read; files of a format that a source claims go
through that source's rules, the rest through the desk's defaults (Settings › Wire desk).
A file that cannot be read is quarantined with the reason and the run goes on.
"""

import sys
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from broadsheet.core.progress import ProgressBar
from broadsheet.wire.polling import poll_all
from broadsheet.wire.services import process_file, receive_file, source_for_format

ORDER = ("imported", "updated", "unchanged", "queued", "held", "killed", "stored", "quarantined")


def files_under(paths: list[str]) -> list[Path]:
    found = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{name}: no such file or folder.")
    return found


def summary(outcome: Counter, files: int) -> str:
    parts = [f"{outcome[key]:,} {key}" for key in ORDER if outcome[key]]
    return f"{files:,} file{'s' if files != 1 else ''}: " + (", ".join(parts) or "nothing in them")


class Command(BaseCommand):
    help = "Import agency files or folders (NewsML-G2, NewsML 1.2, ninjs, RSS/Atom, JSON Feed)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="Files, or folders read recursively.")
        parser.add_argument("--poll", action="store_true", help="Look at every active source once.")

    def handle(self, *args, paths, poll, **options):
        stream = options.get("stderr") or sys.stderr
        if poll:
            self.stdout.write(summary(poll_all(), 0).split(": ", 1)[1])
            return
        if not paths:
            raise CommandError("Name at least one file or folder, or --poll.")
        files = files_under(paths)
        bar = ProgressBar(stream, len(files), "Ingesting")
        outcome = Counter()
        pictures = [
            path
            for path in files
            if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".gif", ".webp")
        ]
        documents = [path for path in files if path not in pictures]
        # Pictures first, so that the stories that name them find them.
        for path in pictures + documents:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
            received = receive_file(
                data=data, name=path.name, source=source_for_format(data, name=path.name)
            )
            if received.status == received.Status.PENDING:
                outcome += process_file(received)
            bar(1)
            bar.update(bar.done, note=", ".join(f"{outcome[k]} {k}" for k in ORDER if outcome[k]))
        bar.finish()
        self.stdout.write(summary(outcome, len(files)))
        quarantined = outcome["quarantined"]
        if quarantined:
            self.stdout.write(
                f"{quarantined:,} file{'s' if quarantined != 1 else ''} quarantined: see "
                "admin › Wire desk › Received files for the reasons."
            )
