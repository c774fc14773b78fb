"""Sign-up, confirmation and unsubscribe endpoints.

The sign-up box is on cached pages, so its endpoint takes posts without a CSRF token and
checks the Origin instead (docs/decisions/0003). Links in emails only show a page with a
button when opened (mail scanners open every link); the button's POST acts. The RFC 8058
one-click POST, sent by mail clients without any page, unsubscribes at once.
"""

import datetime
import re

from csp.decorators import csp_update
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from broadsheet.core.http import client_address, reply, same_origin
from broadsheet.core.ratelimit import RateLimited, address_hash, check_rate

from . import services
from .forms import SignUpForm
from .models import DailyIssue
from .rendering import web_copy

SAME_ANSWER = (
    "Thank you. If this address is not subscribed yet, we have sent it an email: "
    "follow the link in it to start receiving the daily newsletter."
)


def answer(request, status, *, message="", form=None, template="newsletter/signup_done.html"):
    data = {"message": message}
    if form is not None and form.errors:
        data["errors"] = {f: list(e) for f, e in form.errors.items()}
    return reply(
        request,
        status=status,
        json=data,
        template=template,
        context={"message": message, "form": form},
    )


@csrf_exempt
@require_POST
def subscribe(request):
    if not same_origin(request):
        return answer(request, 403, message="Sign-ups must come from this site's own pages.")
    form = SignUpForm(request.POST)
    if not form.is_valid():
        return answer(
            request,
            400,
            message=form.errors["email"][0],
            form=form,
            template="newsletter/signup_page.html",
        )
    try:
        check_rate(
            scope="newsletter-address",
            key=address_hash(client_address(request)),
            limit=settings.BROADSHEET_NEWSLETTER_SIGNUPS_PER_ADDRESS_PER_HOUR,
            window=3600,
            message="Too many sign-ups from your network in the last hour. Please try later.",
        )
    except RateLimited as exc:
        return answer(
            request, 429, message=exc.message, form=form, template="newsletter/signup_page.html"
        )
    if not form.cleaned_data["website"]:
        services.request_subscription(email=form.cleaned_data["email"])
    return answer(request, 200, message=SAME_ANSWER)


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    try:
        if request.method == "GET":
            services.subscriber_from(
                token,
                salt=services.CONFIRM_SALT,
                max_age=settings.BROADSHEET_NEWSLETTER_CONFIRM_DAYS * 86400,
            )
            return render(request, "newsletter/confirm.html", {"token": token})
        services.confirm(token=token)
    except services.BadLink as exc:
        return render(request, "newsletter/bad_link.html", {"message": exc.message}, status=400)
    return render(
        request,
        "newsletter/done.html",
        {
            "title": "You are subscribed",
            "message": "The daily newsletter will arrive each morning. Every issue has a link "
            "to stop it.",
        },
    )


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        if request.method == "GET":
            services.subscriber_from(token, salt=services.UNSUBSCRIBE_SALT)
            return render(request, "newsletter/unsubscribe.html", {"token": token})
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.unsubscribe(token=token, how="one-click" if one_click else "link")
    except services.BadLink as exc:
        return render(request, "newsletter/bad_link.html", {"message": exc.message}, status=400)
    return render(
        request,
        "newsletter/done.html",
        {
            "title": "You are unsubscribed",
            "message": "We will not send you the daily newsletter again. You can sign up again "
            "at any time from any page of the site.",
        },
    )


ISSUE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# Public and cacheable: what went out changes only when a story in it is taken down. The
# page itself drops the story at once (services.withdraw_story_from_issues), but nothing
# can reach into browsers' and proxies' copies: a day rather than longer, so that a story
# taken down for legal reasons leaves them within a day. A CDN put in front of the site
# would need this URL purged from the same receiver (receivers.drop_withdrawn_story).
@cache_control(public=True, max_age=86400)
# Email needs its CSS inlined (style attributes, one <style> for phones): allowed here alone.
@csp_update({"style-src": ["'unsafe-inline'"]})
@require_http_methods(["GET", "HEAD"])
def issue_in_browser(request, date):
    """The web copy of a sent (or sending) issue, as readers received it, less any story
    taken down since."""
    try:
        if not ISSUE_DATE.fullmatch(date):
            raise ValueError(date)
        day = datetime.date.fromisoformat(date)
    except ValueError:
        raise Http404("No issue for that date.") from None
    issue = (
        DailyIssue.objects.filter(
            date=day, status__in=[DailyIssue.Status.SENT, DailyIssue.Status.SENDING]
        )
        .exclude(sent_html="")
        .only("sent_html", "withdrawn_story_ids")
        .first()
    )
    if issue is None:
        raise Http404("No issue went out on that date.")
    return HttpResponse(web_copy(issue.sent_html, withdrawn=issue.withdrawn_story_ids))
