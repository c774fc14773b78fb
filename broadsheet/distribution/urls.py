"""The machine-readable doors: feeds, sitemaps and robots.txt, at the site's root."""

from django.urls import path  # noqa: F401

app_name = "distribution"

urlpatterns = [
    # Feeds (feeds.py)
    # Sitemaps and robots.txt (sitemaps.py)
    # Corrections (corrections page and feed)
]
