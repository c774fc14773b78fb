from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NewsConfig(AppConfig):
    name = "broadsheet.news"
    label = "news"
    verbose_name = "Newsroom"

    def ready(self):
        from . import receivers

        receivers.connect()
        # Permissions exist only once every app has migrated, so the newsroom's roles are
        # set up after migrate rather than in a data migration.
        post_migrate.connect(receivers.ensure_roles_after_migrate, sender=self)
