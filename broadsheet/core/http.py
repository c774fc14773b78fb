"""Request and reply helpers shared by the apps that take posts from cached pages."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


def same_origin(request) -> bool:
    """True unless the browser says the form was posted from another site.

    Pages served from a shared cache carry no CSRF token, so their forms' endpoints check
    the Origin header (or Referer) instead; see docs/decisions/0003.
    """
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return source is None
    netloc = urlsplit(source).netloc
    trusted = {urlsplit(origin).netloc for origin in settings.CSRF_TRUSTED_ORIGINS}
    return netloc == request.get_host() or netloc in trusted


def client_address(request) -> str:
    """The reader's IP address: REMOTE_ADDR, or the proxy's view of it when trusted.

    X-Forwarded-For is only believed when BROADSHEET_TRUSTED_PROXIES says how many proxies
    (Varnish, a load balancer) stand in front; otherwise anyone could pick their address.
    """
    proxies = settings.BROADSHEET_TRUSTED_PROXIES
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def wants_json(request) -> bool:
    """The page's script asks for JSON; a form posted without JavaScript wants a page."""
    return "application/json" in request.headers.get("Accept", "")


def reply(request, *, status=200, json, template, context):
    """The answer to a form that works with and without JavaScript: `json` for the page's
    script, or `template` rendered with `context` for a browser posting the form itself.

    `json` and `context` may be functions, called only for the kind of answer given: some
    parts cost a render or a query that the other kind does not need.
    """
    if wants_json(request):
        return JsonResponse(json() if callable(json) else json, status=status)
    return render(request, template, context() if callable(context) else context, status=status)
