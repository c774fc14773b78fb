from django.conf import settings
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from broadsheet.core.health import healthz
from broadsheet.core.media import serve_media
from broadsheet.news import views as news_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("engagement/", include("broadsheet.engagement.urls")),
    path("newsletter/", include("broadsheet.newsletter.urls")),
    path("search/", include("broadsheet.search.urls")),
    path("", include("broadsheet.distribution.urls")),
    path("", include("broadsheet.news.urls")),
]

if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    # An email service's bounce and complaint reports suppress addresses, so the webhooks
    # exist only behind their shared secret (HTTP basic auth, checked by django-anymail).
    from broadsheet.newsletter.receivers import webhook_urls

    urlpatterns += [path("anymail/", include((webhook_urls(), "anymail")))]

if settings.SERVE_MEDIA:
    # Run-time uploads on one machine, never as active content (broadsheet/core/media.py);
    # behind S3 or a CDN SERVE_MEDIA is off.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve_media, {"document_root": settings.MEDIA_ROOT}),
    ]

urlpatterns += [
    # Stories (any address of two steps or more) are found in one query, then served by
    # Wagtail as usual; Wagtail's own helpers (_util/) and everything else go its way.
    re_path(r"^(?!_util/)((?:[\w\-]+/){2,})$", news_views.serve, name="story"),
    path("", include(wagtail_urls)),
]
