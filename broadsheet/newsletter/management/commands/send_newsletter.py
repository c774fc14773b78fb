"""Send the daily newsletter: the cron entry point (the demo's worker does the same by itself).

    manage.py send_newsletter                    # today's issue, if its send time has passed
    manage.py send_newsletter --date 2026-11-26 --now   # that issue, now
    manage.py send_newsletter --schedule         # queue the worker's daily send

Safe to run every few minutes from cron: a sent issue is not sent again, a run that was
killed is resumed, and two runs never send the same issue at once.
"""

import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from broadsheet.core.progress import ProgressBar
from broadsheet.newsletter import scheduling, sending
from broadsheet.newsletter.models import DailyIssue, Delivery


class Command(BaseCommand):
    help = "Send today's newsletter once its send time has passed (or a given issue now)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The issue's date, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--now", action="store_true", help="Send even before the issue's send time."
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="Leave temporary failures for the next run instead of waiting for them.",
        )
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Queue the background worker's daily send and say when it will run.",
        )

    def handle(self, *args, **options):
        if options["schedule"]:
            at = scheduling.schedule_daily_send()
            if at is None:
                raise CommandError(
                    "The task backend cannot run tasks later: run this command from cron."
                )
            when = timezone.localtime(at)
            self.stdout.write(f"The worker will send the next issue at {when:%Y-%m-%d %H:%M %Z}.")
            return
        issue = self.issue(options)
        if issue is None:
            self.stdout.write("Nothing due: today's issue is sent, skipped, or not due yet.")
            return
        bar = None

        def progress(report):
            nonlocal bar
            if bar is None and report.total:
                bar = ProgressBar(sys.stderr, report.total, "Sending")
            if bar is not None:
                failed = report.counts[Delivery.Status.FAILED]
                retry = report.counts[Delivery.Status.RETRY]
                bar.update(report.done, note=f"failed {failed:,}, to retry {retry:,}")

        while True:
            try:
                report = sending.send_issue(issue, progress=progress)
            except sending.SendingInProgress as exc:
                raise CommandError(exc.message) from exc
            if bar is not None:
                bar.finish()
                bar = None
            self.stdout.write(str(report))
            if report.stopped:
                raise CommandError(report.stopped)
            if not report.retry_at or options["no_wait"]:
                return
            wait = max((report.retry_at - timezone.now()).total_seconds(), 0)
            self.stdout.write(
                f"Waiting {wait:.0f} s for the next retries (Ctrl-C leaves them for the next run)."
            )
            time.sleep(wait)

    def issue(self, options) -> DailyIssue | None:
        if not options["date"]:
            if options["now"]:
                return scheduling.issue_for(timezone.localdate())
            return scheduling.due_issue()
        try:
            day = date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(
                f"--date wants a date like 2026-11-26, not {options['date']!r}."
            ) from exc
        issue = scheduling.issue_for(day)
        if not options["now"] and scheduling.due_issue() != issue:
            raise CommandError(f"{issue} is not due now. Add --now to send it anyway.")
        return issue
