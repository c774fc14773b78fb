"""Importing subscribers from a CSV file in the admin: the upload page and its report.

Only those with the "Can import subscribers from CSV" permission may import (superusers,
and any group given it). An import can add thousands of people who will receive the
daily email; the viewing permission editors hold is not consent to mail anyone. All the
rules live in `importing.import_subscribers`; this module only routes the upload and
shows the report.
"""

import logging

from django import forms
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.generic import FormView
from wagtail.admin.auth import user_passes_test
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import HeaderButton
from wagtail.snippets.views.snippets import IndexView

from .importing import MAX_BYTES, MAX_ROWS, ImportRefused, import_subscribers
from .models import Subscriber

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
