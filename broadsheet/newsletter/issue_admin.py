"""The daily issue in the admin: pick and order stories, preview, test, send, follow the log.

Previews use Wagtail's own preview panel (DailyIssue is previewable as the HTML email and
as the plain text), so editors see the issue change as they pick stories.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.mail import BadHeaderError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets.button import HeaderButton, MenuItem
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views.snippets import EditView, IndexView, SnippetViewSet

from . import delivery, services
from .composing import send_moment
from .forms import DailyIssueForm
from .models import DailyIssue, Delivery, Subscriber
from .tasks import send_issue_task

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
    report = delivery.report_for(issue)
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
        delivery.send_test(issue, to=request.user.email)
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
        issue = delivery.issue_for(timezone.localdate())
        return {
            "edit_url": reverse(DailyIssue.snippet_viewset.get_url_name("edit"), args=[issue.pk]),
            "issue": issue,
            "send_at": send_moment(issue),
            "report": delivery.report_for(issue),
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
