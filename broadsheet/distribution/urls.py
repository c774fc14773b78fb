"""The machine-readable doors: feeds, sitemaps and robots.txt, at the site's root."""

from . import feeds, sitemaps

app_name = "distribution"

urlpatterns = [
    *feeds.urlpatterns,  # every feed, the corrections' too
    *sitemaps.urlpatterns,  # the sitemaps and robots.txt
]
