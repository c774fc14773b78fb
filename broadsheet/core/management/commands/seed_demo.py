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
    # username, group, is_superuser
    ("admin", None, True),
    ("editor", services.EDITORS, False),
    ("reporter", services.REPORTERS, False),
    ("moderator", COMMENT_MODERATORS, False),
]


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
        password = self._ensure_users()
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
        base = settings.WAGTAILADMIN_BASE_URL
        self.stdout.write(
            self.style.SUCCESS(
                f"\nThe site:   {base}/\nThe admin:  {base}/admin/\n"
                f"Logins (password {password}): admin (superuser), editor (publishes), "
                f"reporter (drafts only), moderator (comments only)\n"
            )
        )

    def _ensure_users(self) -> str:
        """Create the demo logins once; their password is kept in var/demo-password."""
        password_file = settings.VAR_DIR / "demo-password"
        if password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(9)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
        user_model = get_user_model()
        for username, group, is_superuser in DEMO_USERS:
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
        return password
