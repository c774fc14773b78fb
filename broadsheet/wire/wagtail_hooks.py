"""The wire desk in the Wagtail admin: the incoming queue, sources, received files and
alerts, in the shape of the comment moderation queue.

Every action goes through `broadsheet.wire.services`; this module lists, filters, routes.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.widgets import ListingButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import (
    IndexView,
    InspectView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from broadsheet.news.models import SectionPage

from . import services
from .models import DeskAlert, ReceivedFile, WireItem, WireSource


class ReadOnlyPolicy(ModelPermissionPolicy):
    """Nobody adds or edits these by hand: they are what agencies sent and what the desk
    did. The desk's actions (pick up, re-run, resolve) have their own buttons."""

    def user_has_permission(self, user, action):
        return action not in ("add", "change", "delete") and super().user_has_permission(
            user, action
        )


for model in (ReceivedFile, DeskAlert):
    register_permission_policy(model, ReadOnlyPolicy(model))


def may_act(user, model) -> bool:
    return user.has_perm(f"wire.change_{model._meta.model_name}")


def post_button(label, url, *, aria, priority=0):
    """One click posts to `url` (Wagtail's w-action controller), as the comment queue does."""
    return ListingButton(
        label,
        attrs={
            "data-controller": "w-action",
            "data-action": "w-action#post",
            "data-w-action-url-value": url,
            "aria-label": aria,
        },
        priority=priority,
    )


# The queue --------------------------------------------------------------------------


class WireItemFilterSet(WagtailFilterSet):
    desk = django_filters.ChoiceFilter(label="On the desk", choices=WireItem.Desk.choices)
    agency = django_filters.ModelChoiceFilter(queryset=None, label="Agency")
    source = django_filters.ModelChoiceFilter(queryset=WireSource.objects.all(), label="Source")
    language = django_filters.CharFilter(label="Language", lookup_expr="istartswith")
    received_at = django_filters.DateFromToRangeFilter(
        label="Received", widget=DateRangePickerWidget
    )
    versions = django_filters.ChoiceFilter(
        label="Versions",
        choices=[("all", "Every version")],
        empty_label="The latest of each item",
        method="filter_versions",
    )

    class Meta:
        model = WireItem
        fields = ["desk", "agency", "source", "language", "received_at"]

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        from broadsheet.news.models import Agency

        self.filters["agency"].queryset = Agency.objects.filter(wire_items__isnull=False).distinct()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        every = self.form.cleaned_data.get("versions") == "all"
        return queryset if every else queryset.latest_versions()

    def filter_versions(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which also sees the default


class WireItemIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("agency", "section", "story")

    def get_edit_url(self, instance):
        return None  # the headline opens the preview: the item is the agency's, not ours

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.story_id:
            url = reverse("wagtailadmin_pages:edit", args=(instance.story_id,))
            buttons.insert(0, ListingButton("Open the article", url=url, priority=0))
        if (
            instance.story_id is None
            and instance.kind == "text"
            and may_act(self.request.user, WireItem)
        ):
            buttons.insert(
                0,
                ListingButton(
                    "Pick up",
                    url=reverse("wire:pick_up", args=(instance.pk,)),
                    attrs={"aria-label": f"Pick up: {instance}"},
                    priority=0,
                ),
            )
        return buttons


class WireItemInspectView(InspectView):
    """The item as the agency sent it: text, pictures, editor's note, every version."""

    template_name = "wire/admin/item_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["wire"] = self.object.item
        context["versions"] = self.object.history().select_related("received_file", "story")
        context["sections"] = SectionPage.objects.order_by("path")
        context["may_pick_up"] = self.object.story_id is None and may_act(
            self.request.user, WireItem
        )
        return context


class WireItemViewSet(SnippetViewSet):
    model = WireItem
    index_view_class = WireItemIndexView
    inspect_view_class = WireItemInspectView
    inspect_view_enabled = True
    icon = "download"
    menu_label = "Incoming"
    filterset_class = WireItemFilterSet
    search_fields = ["headline", "guid"]
    search_backend_name = None  # icontains: an item is findable the moment it arrives
    ordering = "-received_at"
    list_per_page = 50
    copy_view_enabled = False
    panels = [FieldPanel("note")]  # the desk's own note; the item itself is the agency's
    list_display = [
        "headline",
        Column("agency", label="Agency"),
        StatusTagColumn(
            "desk",
            accessor="get_desk_display",
            label="On the desk",
            sort_key="desk",
            primary=lambda item: item.desk in ("queued", "review", "held", "killed"),
        ),
        Column("section", label="Section"),
        Column("language", label="Lang."),
        DateColumn("received_at", label="Received", sort_key="received_at"),
    ]


class PickUpForm(forms.Form):
    section = forms.ModelChoiceField(
        queryset=SectionPage.objects.order_by("path"), empty_label=None
    )


def pick_up_view(request, pk):
    """Choose a section, and the item becomes a draft article there (then its editor)."""
    if not may_act(request.user, WireItem):
        raise PermissionDenied
    row = get_object_or_404(WireItem, pk=pk)
    if row.story_id:
        return redirect("wagtailadmin_pages:edit", row.story_id)
    form = PickUpForm(request.POST or None, initial={"section": row.section_id})
    if request.method == "POST" and form.is_valid():
        story = services.pick_up(row=row, section=form.cleaned_data["section"], user=request.user)
        messages.success(request, f"“{story.title}” is a draft in {form.cleaned_data['section']}.")
        return redirect("wagtailadmin_pages:edit", story.pk)
    return TemplateResponse(request, "wire/admin/pick_up.html", {"row": row, "form": form})


# Sources, files, alerts -------------------------------------------------------------


class WireSourceViewSet(SnippetViewSet):
    model = WireSource
    icon = "rss"
    menu_label = "Sources"
    list_display = ["name", "agency", "kind", "default_section", "last_received_at", "last_error"]
    copy_view_enabled = False


class ReceivedFileIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("source")

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status == ReceivedFile.Status.QUARANTINED and self.request.user.has_perm(
            "wire.view_receivedfile"
        ):
            url = reverse("wire:rerun", args=(instance.pk,))
            buttons.insert(0, post_button("Re-run", url, aria=f"Read {instance.name} again"))
        return buttons


class ReceivedFileViewSet(SnippetViewSet):
    model = ReceivedFile
    index_view_class = ReceivedFileIndexView
    icon = "doc-full"
    menu_label = "Received files"
    inspect_view_enabled = True
    copy_view_enabled = False
    list_filter = ["status", "source", "format"]
    search_fields = ["name", "reason"]
    search_backend_name = None
    ordering = "-received_at"
    list_display = [
        "name",
        "source",
        StatusTagColumn(
            "status",
            accessor="get_status_display",
            label="Status",
            primary=lambda file: file.status == "quarantined",
        ),
        Column("reason", accessor=lambda file: Truncator(file.reason).chars(120), label="Reason"),
        Column(
            "outcome",
            accessor=lambda file: ", ".join(f"{n} {k}" for k, n in file.outcome.items()),
            label="Items",
        ),
        DateColumn("received_at", label="Received"),
    ]
    inspect_view_fields = [
        "name",
        "source",
        "status",
        "reason",
        "format",
        "outcome",
        "sha256",
        "size",
        "received_at",
        "processed_at",
        "attempts",
        "stored_as",
    ]


@require_POST
def rerun_view(request, pk):
    if not request.user.has_perm("wire.view_receivedfile"):
        raise PermissionDenied
    received = get_object_or_404(ReceivedFile, pk=pk)
    outcome = services.rerun(received)
    received.refresh_from_db()
    if received.status == ReceivedFile.Status.QUARANTINED:
        messages.error(request, f"{received.name} is still quarantined: {received.reason}")
    else:
        messages.success(
            request,
            f"{received.name} read again: " + ", ".join(f"{n} {k}" for k, n in outcome.items()),
        )
    return redirect(ReceivedFile.snippet_viewset.get_url_name("list"))


class DeskAlertIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("story", "source")

    def get_edit_url(self, instance):
        """An alert about a story opens that story's editor."""
        return (
            reverse("wagtailadmin_pages:edit", args=(instance.story_id,))
            if instance.story_id
            else None
        )

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.resolved_at is None:
            url = reverse("wire:resolve", args=(instance.pk,))
            buttons.insert(0, post_button("Resolve", url, aria=f"Resolve: {instance.message}"))
        return buttons


class DeskAlertFilterSet(WagtailFilterSet):
    open = django_filters.BooleanFilter(
        label="Open", field_name="resolved_at", lookup_expr="isnull"
    )

    class Meta:
        model = DeskAlert
        fields = ["kind", "open"]


class DeskAlertViewSet(SnippetViewSet):
    model = DeskAlert
    index_view_class = DeskAlertIndexView
    icon = "warning"
    menu_label = "Alerts"
    filterset_class = DeskAlertFilterSet
    copy_view_enabled = False
    ordering = "-created_at"
    list_display = [
        "message",
        StatusTagColumn(
            "kind",
            accessor="get_kind_display",
            label="Kind",
            primary=lambda alert: alert.resolved_at is None,
        ),
        DateColumn("created_at", label="Raised"),
        DateColumn("resolved_at", label="Resolved"),
    ]


@require_POST
def resolve_view(request, pk):
    if not request.user.has_perm("wire.view_deskalert"):
        raise PermissionDenied
    services.resolve_alert(alert=get_object_or_404(DeskAlert, pk=pk), user=request.user)
    return redirect(
        request.META.get("HTTP_REFERER") or DeskAlert.snippet_viewset.get_url_name("list")
    )


class WireDeskGroup(SnippetViewSetGroup):
    items = (WireItemViewSet, DeskAlertViewSet, ReceivedFileViewSet, WireSourceViewSet)
    menu_label = "Wire desk"
    menu_icon = "download"
    menu_order = 220


register_snippet(WireDeskGroup)


@hooks.register("register_admin_urls")
def wire_admin_urls():
    urls = [
        path("pick-up/<int:pk>/", pick_up_view, name="pick_up"),
        path("files/<int:pk>/rerun/", rerun_view, name="rerun"),
        path("alerts/<int:pk>/resolve/", resolve_view, name="resolve"),
    ]
    return [path("wire/", include((urls, "wire"), namespace="wire"))]


# The dashboard ----------------------------------------------------------------------


class WireDeskPanel(Component):
    """What waits on the desk: open alerts first, then the queue."""

    name = "wire_desk"
    template_name = "wire/admin/desk_panel.html"
    order = 80  # above the comments: a kill waits on nobody

    def get_context_data(self, parent_context):
        return {
            "alerts": list(DeskAlert.objects.filter(resolved_at=None)[:6]),
            "open_alerts": DeskAlert.objects.filter(resolved_at=None).count(),
            "queued": WireItem.objects.latest_versions().filter(desk=WireItem.Desk.QUEUED).count(),
            "queue_url": reverse(WireItem.snippet_viewset.get_url_name("list")) + "?desk=queued",
            "alerts_url": reverse(DeskAlert.snippet_viewset.get_url_name("list")) + "?open=true",
        }


@hooks.register("construct_homepage_panels")
def add_wire_desk_panel(request, panels):
    if request.user.has_perm("wire.view_wireitem"):
        panels.append(WireDeskPanel())
