from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WireConfig(AppConfig):
    name = "broadsheet.wire"
    label = "wire"
    verbose_name = "Wire desk"

    def ready(self):
        from . import receivers  # noqa: F401 - a saved source starts its polling

        post_migrate.connect(let_editors_work_the_desk, sender=self)


# Editors run the desk: they read the queue, pick items up, re-run files, resolve alerts
# and set up sources. Reporters see nothing of it. Permissions exist only after migrate.
EDITORS_PERMISSIONS = [
    "view_wireitem",
    "change_wireitem",
    "view_receivedfile",
    "view_deskalert",
    "view_wiresource",
    "add_wiresource",
    "change_wiresource",
    "change_wiredesksettings",
]


def let_editors_work_the_desk(sender, **kwargs):
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    create_permissions(sender, verbosity=0, using=kwargs.get("using", "default"))
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(
        *Permission.objects.filter(content_type__app_label="wire", codename__in=EDITORS_PERMISSIONS)
    )
