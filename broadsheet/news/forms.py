from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.models import Page

NO_BYLINE = (
    "A story needs a byline before it can be published: add an author, choose an agency, or both."
)


class StoryPageForm(WagtailAdminPageForm):
    """The story editing form.

    - 'Minor update' starts unticked on every edit: the flag is stored with each revision
      so that a scheduled publish knows what kind of update it is, but it must never carry
      over silently from the previous edit.
    - A story that has never been published gets a free slug from its headline: another
      story with the same headline, or a draft someone abandoned, must not make the first
      "Publish" fail on the Promote tab. A live story's address is left as it is.
    - Publishing (or submitting for review) needs a byline; a draft may be saved without.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "minor_update" in self.fields:
            self.initial["minor_update"] = False

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if not slug or self.instance.first_published_at or self.parent_page is None:
            return slug
        candidate, number = slug, 1
        while not Page._slug_is_available(candidate, self.parent_page, self.instance):
            number += 1
            candidate = f"{slug[: 255 - len(str(number)) - 1]}-{number}"
        return candidate

    def is_valid(self):
        # Checked once the bylines formset is cleaned too, which happens after clean().
        valid = super().is_valid()
        if valid and not self.is_deferred_validation and not self.has_byline(self.cleaned_data):
            if "agency" in self.fields:
                self.add_error("agency", NO_BYLINE)  # shown in the form's Byline panel
            else:
                # Blog posts have authors only: the message goes above their list.
                self.formsets["bylines"].non_form_errors().append(NO_BYLINE)
            return False
        return valid

    def has_byline(self, cleaned_data) -> bool:
        if cleaned_data.get("agency"):
            return True
        bylines = self.formsets.get("bylines")
        if bylines is None:
            return True  # a form without the byline panel cannot be asked for one
        return any(
            form.cleaned_data.get("author") and not form.cleaned_data.get("DELETE")
            for form in bylines.forms
            if hasattr(form, "cleaned_data")
        )
