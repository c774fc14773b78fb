from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "broadsheet.distribution"
    label = "distribution"
    verbose_name = "Feeds, sitemaps and social cards"

    def ready(self):
        # Connects the WebSub notice to `story_changed`, and registers the hub setting's
        # start-up check.
        from . import receivers, websub  # noqa: F401
