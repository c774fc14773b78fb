from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "broadsheet.distribution"
    label = "distribution"
    verbose_name = "Feeds, sitemaps and social cards"
