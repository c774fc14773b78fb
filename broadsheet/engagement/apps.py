from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EngagementConfig(AppConfig):
    name = "broadsheet.engagement"
    label = "engagement"
    verbose_name = "Reader engagement"

    def ready(self):
        from . import receivers

        # Permissions exist only once every app has migrated, so the moderators' role is set
        # up after migrate rather than in a data migration.
        post_migrate.connect(receivers.ensure_role_after_migrate, sender=self)
