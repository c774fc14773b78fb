"""Seed the demo newsroom and its logins; safe to run again (nothing is duplicated)."""

import logging
import secrets
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from broadsheet.core.progress import ProgressBar
from broadsheet.engagement import demo as readers_demo
from broadsheet.engagement.services import COMMENT_MODERATORS
from broadsheet.news import demo, services
from broadsheet.newsletter import demo as newsletter_demo

DEMO_USERS = [
    # username, group, is_superuser, what they do
    ("admin", None, True, "superuser: everything, and Settings › Sign-in locks"),
    ("editor", services.EDITORS, False, "Editors: write, publish, schedule; the newsletter"),
    ("reporter", services.REPORTERS, False, "Reporters: write and submit drafts; cannot publish"),
    ("moderator", COMMENT_MODERATORS, False, "Comment moderators: admin › Comments only"),
]
LOGINS_FILE = "demo-logins.txt"


class Command(BaseCommand):
    help = "Seed the demo newsroom (sections, staff, agencies, blogs, stories) and its logins."

    def handle(self, *args, **options):
        # Wagtail logs every page it creates and publishes; the bar says it better here.
        logging.getLogger("wagtail").setLevel(logging.WARNING)
        bar = ProgressBar(
            sys.stdout,
            demo.total_steps() + readers_demo.total_steps() + newsletter_demo.total_steps(),
            "Seeding the demo newsroom",
        )
        report = demo.seed_newsroom(progress=bar)
        self._ensure_users()
        comments = readers_demo.seed_readers(
            staff_user=get_user_model().objects.get(username="editor"), progress=bar
        )
        newsletter = newsletter_demo.seed_newsletter(progress=bar)
        bar.finish()
        self.stdout.write(
            f"Stories: {report.created} created, {report.existing} already there. "
            f"Reader comments: {comments} created.\n{newsletter}\n"
            f"Emails (confirmations, newsletters) are written to {settings.EMAIL_FILE_PATH}/ "
            "unless EMAIL_BACKEND says otherwise.\n"
        )
        if report.scheduled_title:
            self.stdout.write(
                f"Scheduled: '{report.scheduled_title}' goes live at "
                f"{report.scheduled_at:%H:%M} UTC; the background worker publishes it.\n"
            )
        logins = settings.VAR_DIR / LOGINS_FILE
        self.stdout.write(self.style.SUCCESS(f"\n{logins.read_text()}"))
        self.stdout.write(f"(Kept in {logins}.)\n")

    def _password(self) -> str:
        """The demo's one password: made once, then read back from var/demo-logins.txt
        (or from var/demo-password, where earlier versions kept it)."""
        for name, prefix in ((LOGINS_FILE, "Password: "), ("demo-password", "")):
            path = settings.VAR_DIR / name
            if path.exists():
                for line in path.read_text().splitlines():
                    if line.startswith(prefix) and line[len(prefix) :].strip():
                        return line[len(prefix) :].strip()
        return secrets.token_urlsafe(9)

    def _write_logins(self, password: str):
        """var/demo-logins.txt: where a person finds the logins again (the README says so)."""
        base = settings.WAGTAILADMIN_BASE_URL
        lines = [
            "The demo newsroom",
            f"  The site:   {base}/",
            f"  The admin:  {base}/admin/",
            f"Password: {password}",
            "Logins (all with that password):",
            *(f"  {username:<10} {role}" for username, _, _, role in DEMO_USERS),
        ]
        path = settings.VAR_DIR / LOGINS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        (settings.VAR_DIR / "demo-password").unlink(missing_ok=True)
        return path

    def _ensure_users(self) -> None:
        """Create the demo logins once, all with the demo's password (written down first,
        so that it is never lost)."""
        password = self._password()
        self._write_logins(password)
        user_model = get_user_model()
        for username, group, is_superuser, _ in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "is_superuser": is_superuser,
                    "is_staff": True,
                    "email": f"{username}@broadsheet.invalid",
                    "first_name": username.capitalize(),
                },
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
