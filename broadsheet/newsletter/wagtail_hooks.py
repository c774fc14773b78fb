"""The newsletter in the admin: daily issues (picks, previews, tests, sending, the send log,
the dashboard panel) and subscribers (their history, CSV export and import).

Every rule lives in the modules below: `composing` and `rendering` make an issue,
`sending` and `scheduling` send it, `importing` reads a list of subscribers. This module
lists, routes and shows.
"""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.mail import BadHeaderError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import FormView
from wagtail import hooks
from wagtail.admin.auth import user_passes_test
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import HeaderButton
from wagtail.admin.widgets.button import MenuItem
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import EditView, IndexView, SnippetViewSet, SnippetViewSetGroup

from . import services
from .forms import DailyIssueForm
from .importing import MAX_BYTES, MAX_ROWS, ImportRefused, import_subscribers
from .models import DailyIssue, Delivery, Subscriber, send_moment
from .scheduling import issue_for, send_issue_task
from .sending import report_for
from .sending import send_test as send_test_to

logger = logging.getLogger(__name__)


# Daily issues -------------------------------------------------------------------------


CHANGE = "newsletter.change_dailyissue"


class DailyIssuePermissionPolicy(ModelPermissionPolicy):
    """Once an issue starts going out it is what readers received: no more edits."""

    def user_has_permission_for_instance(self, user, action, instance):
        if action in {"change", "delete"} and instance.status != DailyIssue.Status.DRAFT:
            return False
        return super().user_has_permission_for_instance(user, action, instance)


register_permission_policy(DailyIssue, DailyIssuePermissionPolicy(DailyIssue))


def send_log_url(issue):
    return reverse("newsletter_issue_admin:send_log", args=[issue.pk])


class DailyIssueIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        return [
            MenuItem("Send log", url=send_log_url(instance), icon_name="list-ul", priority=5),
            *super().get_list_more_buttons(instance),
        ]


class DailyIssueEditView(EditView):
    def dispatch(self, request, *args, **kwargs):
        issue = self.get_object()
        if issue.status != DailyIssue.Status.DRAFT:
            messages.info(
                request,
                f"{issue} is {issue.get_status_display().lower()}: it is what readers "
                "received, so it can no longer be changed.",
            )
            return redirect(send_log_url(issue))
        return super().dispatch(request, *args, **kwargs)

    def get_header_buttons(self):
        return [
            HeaderButton(
                "Send me a test",
                icon_name="mail",
                # A POST from the header (with the CSRF token), then back to this form.
                attrs={
                    "data-controller": "w-action",
                    "data-action": "w-action#post",
                    "data-w-action-url-value": reverse(
                        "newsletter_issue_admin:send_test", args=[self.object.pk]
                    ),
                },
            ),
            HeaderButton("Send log", url=send_log_url(self.object), icon_name="list-ul"),
            *super().get_header_buttons(),
        ]


class DailyIssueViewSet(SnippetViewSet):
    model = DailyIssue
    icon = "date"
    menu_label = "Daily issues"
    index_view_class = DailyIssueIndexView
    edit_view_class = DailyIssueEditView
    list_display = [
        "date",
        "status",
        Column("sent_subject", label="Subject"),
        Column("deliveries_summary", label="Deliveries"),
        "finished_at",
    ]
    list_filter = ["status"]
    copy_view_enabled = False
    edit_handler = ObjectList(DailyIssue.panels, base_form_class=DailyIssueForm)


@hooks.register("register_admin_urls")
def issue_admin_urls():
    urls = [
        path("<int:pk>/log/", send_log, name="send_log"),
        path("<int:pk>/send-now/", send_now, name="send_now"),
        path("<int:pk>/send-test/", send_test, name="send_test"),
    ]
    return [path("newsletter/issues/", include((urls, "newsletter_issue_admin")))]


@permission_required("newsletter.view_dailyissue", raise_exception=True)
def send_log(request, pk):
    """Where an issue's sending stands: counts, progress, the failures and their reasons."""
    issue = get_object_or_404(DailyIssue, pk=pk)
    report = report_for(issue)
    problems = (
        Delivery.objects.filter(
            issue=issue, status__in=[Delivery.Status.FAILED, Delivery.Status.UNCONFIRMED]
        )
        .select_related("subscriber")
        .order_by("pk")[:100]
    )
    labels = dict(Delivery.Status.choices)
    return TemplateResponse(
        request,
        "newsletter/admin/send_log.html",
        {
            "issue": issue,
            "report": report,
            "rows": [(labels[s], report.counts[s]) for s in Delivery.Status.values],
            "percent": round(100 * report.done / report.total) if report.total else 0,
            "problems": problems,
            "send_at": send_moment(issue),
            "can_send": request.user.has_perm(CHANGE)
            and issue.status in (DailyIssue.Status.DRAFT, DailyIssue.Status.SENDING),
            "can_test": request.user.has_perm(CHANGE),
            "refresh": issue.status == DailyIssue.Status.SENDING,
            "now": timezone.now(),
        },
    )


@require_POST
@permission_required(CHANGE, raise_exception=True)
def send_now(request, pk):
    issue = get_object_or_404(DailyIssue, pk=pk)
    if issue.status not in (DailyIssue.Status.DRAFT, DailyIssue.Status.SENDING):
        messages.error(
            request, f"{issue} is {issue.get_status_display().lower()}: nothing to send."
        )
    else:
        send_issue_task.enqueue(issue.pk)
        messages.success(request, f"{issue} is on its way. This page shows its progress.")
    return redirect(send_log_url(issue))


@require_POST
@permission_required(CHANGE, raise_exception=True)
def send_test(request, pk):
    """Mail the editor the issue as saved; back to where they pressed the button."""
    issue = get_object_or_404(DailyIssue, pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = send_log_url(issue)
    if not request.user.email:
        messages.error(request, "Your account has no email address: add one under Account.")
        return redirect(back)
    try:
        send_test_to(issue, to=request.user.email)
    except (OSError, BadHeaderError, ValueError) as exc:
        messages.error(request, f"The test could not be sent: {exc}")
    else:
        messages.success(
            request, f"A test of {issue}, as last saved, went to {request.user.email}."
        )
    return redirect(back)


class TodaysIssuePanel(Component):
    """Today's newsletter on the dashboard: when it goes out, or how it went."""

    name = "todays_newsletter"
    template_name = "newsletter/admin/todays_issue_panel.html"
    order = 95

    def get_context_data(self, parent_context):
        issue = issue_for(timezone.localdate())
        return {
            "edit_url": reverse(DailyIssue.snippet_viewset.get_url_name("edit"), args=[issue.pk]),
            "issue": issue,
            "send_at": send_moment(issue),
            "report": report_for(issue),
            "log_url": send_log_url(issue),
            "subscribers": Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED).count(),
            **growth_chart(services.daily_changes(days=30)),
        }


@hooks.register("construct_homepage_panels")
def add_todays_issue_panel(request, panels):
    if request.user.has_perm("newsletter.view_dailyissue"):
        panels.append(TodaysIssuePanel())


CHART_WIDTH, CHART_HALF = 480, 32


def growth_chart(changes) -> dict:
    """Bars for an inline SVG: each day's sign-ups above the line, leavers below.

    Drawn on the server as SVG: a chart library would be a script and a download for
    sixty rectangles.
    """
    peak = max([1, *(max(joined, left) for _, joined, left in changes)])
    step = CHART_WIDTH / len(changes)
    bars = [
        {
            "x": round(n * step + 1, 1),
            "width": round(step - 2, 1),
            "up": round(CHART_HALF * joined / peak, 1),
            "top": round(CHART_HALF - CHART_HALF * joined / peak, 1),
            "down": round(CHART_HALF * left / peak, 1),
            "title": f"{day:%-d %b}: {joined} joined, {left} left",
        }
        for n, (day, joined, left) in enumerate(changes)
    ]
    return {
        "bars": bars,
        "joined": sum(joined for _, joined, _ in changes),
        "left": sum(left for _, _, left in changes),
        "chart_width": CHART_WIDTH,
        "chart_half": CHART_HALF,
        "chart_height": 2 * CHART_HALF + 2,
    }


# Subscribers --------------------------------------------------------------------------


logger = logging.getLogger(__name__)

# Room for the multipart envelope around a file of the largest size accepted.
UPLOAD_ENVELOPE = 64 * 1024


def may_import(user) -> bool:
    return user.is_active and user.has_perm("newsletter.import_subscriber")


def content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads no body from a request with a malformed length


def subscribers_url(view_name: str) -> str:
    return reverse(Subscriber.snippet_viewset.get_url_name(view_name))


class SubscriberIndexView(IndexView):
    """The subscribers listing, with an "Import CSV" button for those who may import."""

    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        if may_import(self.request.user):
            buttons = [
                *buttons,
                HeaderButton("Import CSV", url=subscribers_url("import"), icon_name="upload"),
            ]
        return buttons


class ImportForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8, comma or semicolon separated, at most {MAX_BYTES // 1024 // 1024} MB "
        f"and {MAX_ROWS:,} rows.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": "Choose a CSV file to import."},
    )


@method_decorator(user_passes_test(may_import), name="dispatch")
class ImportSubscribersView(WagtailAdminTemplateMixin, FormView):
    template_name = "newsletter/admin/import.html"
    form_class = ImportForm
    page_title = "Import subscribers"
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": subscribers_url("list"), "label": "Subscribers"},
            {"url": "", "label": "Import CSV"},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            action_url=subscribers_url("import"),
            list_url=subscribers_url("list"),
            submit_button_label="Import",
            submit_button_active_label="Importing…",
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        # Checked before Django reads the body, so an oversized upload is not first
        # spooled to disk only to be refused.
        if content_length(request) > MAX_BYTES + UPLOAD_ENVELOPE:
            form = self.form_class()
            refusal = (
                f"The file is larger than {MAX_BYTES // 1024 // 1024} MB. "
                "Split it into smaller files."
            )
            return self.render_to_response(
                self.get_context_data(form=form, refusal=refusal), status=413
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["csv_file"]
        try:
            report = import_subscribers(csv_file=upload, source=upload.name)
        except ImportRefused as exc:
            form.add_error("csv_file", exc.message)
            return self.form_invalid(form)
        logger.info("%s imported subscribers: %s", self.request.user, report.summary)
        return self.render_to_response(self.get_context_data(form=self.form_class(), report=report))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SubscriberPermissionPolicy(ModelPermissionPolicy):
    """Nobody adds or edits subscribers by hand: an address joins only by confirming."""

    def user_has_permission(self, user, action):
        return action not in {"add", "change"} and super().user_has_permission(user, action)


register_permission_policy(Subscriber, SubscriberPermissionPolicy(Subscriber))


class SubscriberViewSet(SnippetViewSet):
    model = Subscriber
    index_view_class = SubscriberIndexView  # adds the "Import CSV" button
    icon = "user"
    menu_label = "Subscribers"
    list_display = ["email", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_export = [
        "email",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "suppressed_reason",
    ]
    export_filename = "subscribers"
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [*list_export, "history"]
    panels = [FieldPanel("email", read_only=True)]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/", ImportSubscribersView.as_view(), name="import"),
        ]


class NewsletterGroup(SnippetViewSetGroup):
    """One Newsletter menu: the day's issues first, then who receives them."""

    menu_label = "Newsletter"
    menu_icon = "mail"
    menu_order = 225
    items = (DailyIssueViewSet, SubscriberViewSet)


register_snippet(NewsletterGroup)
