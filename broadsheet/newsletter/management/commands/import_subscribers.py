"""Import newsletter subscribers from a CSV file, as the admin's "Import CSV" page does.

    manage.py import_subscribers subscribers.csv

For lists too big to upload, or a migration from another platform run by an engineer.
Nobody is emailed; people who left are never re-subscribed (see newsletter/importing.py).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from broadsheet.core.progress import ProgressBar
from broadsheet.newsletter.importing import ImportRefused, import_subscribers


class Command(BaseCommand):
    help = "Import newsletter subscribers from a CSV file (columns: email, status, confirmed_at)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file: UTF-8, with a header row.")

    def handle(self, *args, path, **options):
        file_path = Path(path)
        # The raw stream, not self.stderr: that wrapper ends every write with a newline,
        # which would stack the bar's redraws on a terminal.
        stream = options.get("stderr") or sys.stderr
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = ProgressBar(stream, total, "Importing subscribers")
            bar.update(done)

        try:
            with file_path.open("rb") as csv_file:
                report = import_subscribers(
                    csv_file=csv_file, source=file_path.name, progress=progress
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        except ImportRefused as exc:
            raise CommandError(f"{path} was not imported: {exc.message}") from exc
        if bar is not None:
            bar.finish()
        self.stdout.write(report.summary)
        for row in report.invalid:
            self.stdout.write(f"  line {row.line} skipped, {row.reason}: {row.value}")
        if report.invalid_count > len(report.invalid):
            self.stdout.write(f"  … and {report.invalid_count - len(report.invalid):,} more.")
