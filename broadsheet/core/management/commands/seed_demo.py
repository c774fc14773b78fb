"""Seed the demo newsroom and its logins; safe to run again (nothing is duplicated).

Each installed app brings its own part of the demo in a `demo` module, found through the
app registry the way Django finds `admin` modules, so core knows none of them. A demo
module has:

    total_steps() -> int                  for the progress bar
    seed(*, progress) -> str              its part, and a line for the person waiting
    LOGINS = [(username, group, role)]    optional: logins it needs, created first

They run in INSTALLED_APPS order, so that news seeds before the apps that stand on it.
"""

import logging
import secrets
import sys
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils.module_loading import module_has_submodule

from broadsheet.core.progress import ProgressBar

SUPERUSER = ("admin", None, "superuser: everything, and Settings › Sign-in locks")
LOGINS_FILE = "demo-logins.txt"


def demo_modules() -> list:
    """Every installed app's `demo` module, in INSTALLED_APPS order."""
    return [
        import_module(f"{app.name}.demo")
        for app in apps.get_app_configs()
        if module_has_submodule(app.module, "demo")
    ]


class Command(BaseCommand):
    help = "Seed the demo newsroom (sections, staff, agencies, blogs, stories) and its logins."

    def handle(self, *args, **options):
        # Wagtail logs every page it creates and publishes; the bar says it better here.
        logging.getLogger("wagtail").setLevel(logging.WARNING)
        parts = demo_modules()
        logins = [SUPERUSER, *(login for part in parts for login in getattr(part, "LOGINS", []))]
        self._ensure_users(logins)
        bar = ProgressBar(
            sys.stdout, sum(part.total_steps() for part in parts), "Seeding the demo newsroom"
        )
        lines = [part.seed(progress=bar) for part in parts]
        bar.finish()
        self.stdout.write("\n".join(lines) + "\n")
        self.stdout.write(
            f"Emails (confirmations, newsletters) are written to {settings.EMAIL_FILE_PATH}/ "
            "unless EMAIL_BACKEND says otherwise.\n"
        )
        kept = settings.VAR_DIR / LOGINS_FILE
        self.stdout.write(self.style.SUCCESS(f"\n{kept.read_text()}"))
        self.stdout.write(f"(Kept in {kept}.)\n")

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

    def _write_logins(self, password: str, logins: list) -> None:
        """var/demo-logins.txt: where a person finds the logins again (the README says so)."""
        base = settings.WAGTAILADMIN_BASE_URL
        lines = [
            "The demo newsroom",
            f"  The site:   {base}/",
            f"  The admin:  {base}/admin/",
            f"Password: {password}",
            "Logins (all with that password):",
            *(f"  {username:<10} {role}" for username, _, role in logins),
        ]
        path = settings.VAR_DIR / LOGINS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        (settings.VAR_DIR / "demo-password").unlink(missing_ok=True)

    def _ensure_users(self, logins: list) -> None:
        """Create the demo logins once, all with the demo's password (written down first,
        so that it is never lost)."""
        password = self._password()
        self._write_logins(password, logins)
        user_model = get_user_model()
        for username, group, _ in logins:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "is_superuser": group is None,
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
