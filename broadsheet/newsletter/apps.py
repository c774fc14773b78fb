from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NewsletterConfig(AppConfig):
    name = "broadsheet.newsletter"
    label = "newsletter"
    verbose_name = "Daily newsletter"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the email service's webhooks

        post_migrate.connect(let_editors_see_subscribers, sender=self)


def let_editors_see_subscribers(sender, **kwargs):
    """Editors read the subscriber list and export it, make each day's issue and set the
    send time; permissions exist only after migrate."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="newsletter",
            codename__in=[
                "view_subscriber",
                "add_dailyissue",
                "change_dailyissue",
                "delete_dailyissue",
                "view_dailyissue",
                "change_newslettersettings",
            ],
        )
    )
