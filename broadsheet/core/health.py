"""Whether the app can serve, and what readers get when its database cannot answer.

`healthz` is what a cache in front (Varnish) probes: while it fails, Varnish serves the
last good copy of each page (grace). `DatabaseUnavailableMiddleware` turns a database that
is down or restarting into 503 with Retry-After instead of a 500, so a form's script knows
to send the same thing again shortly, and a reader without one is told nothing was saved.
"""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

from .http import wants_json

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = (
    "The newsroom is briefly unavailable; nothing was saved. Please try again in a few seconds."
)


@never_cache
def healthz(request):
    """200 "ok" when the database answers a trivial query, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return unavailable(request)
    return HttpResponse("ok", content_type="text/plain")


def unavailable(request) -> HttpResponse:
    if wants_json(request):
        response = JsonResponse({"error": UNAVAILABLE, "retry_after": RETRY_AFTER_SECONDS})
        response.status_code = 503
    else:
        html = render_to_string("core/unavailable.html", {"message": UNAVAILABLE})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "private, no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that could not reach the database answers 503 with Retry-After, not 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning(
                "Database unavailable for %s %s: %s", request.method, request.path, exception
            )
            # Django drops the broken connection when the request ends, so the next one
            # connects afresh (CONN_HEALTH_CHECKS too).
            return unavailable(request)
        return None
