from django import forms
from wagtail.admin.forms import WagtailAdminModelForm

from .composing import subject_for


class SignUpForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Email address",
        error_messages={
            "required": "Please enter your email address.",
            "invalid": "That does not look like an email address.",
        },
    )
    # A field people never see; bots that fill every field fill it.
    website = forms.CharField(required=False)


class DailyIssueForm(WagtailAdminModelForm):
    """The daily issue's form: the subject's help text gives this issue's default subject.

    Written per form, from the issue's own date (today's for a new one): a help text fixed
    on the model would be computed once, when the server started.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "subject" in self.fields and "date" in self.fields:
            day = self.instance.date if self.instance.pk else None
            day = day or self.get_initial_for_field(self.fields["date"], "date")
            self.fields["subject"].help_text = f"Leave blank for “{subject_for(day)}”."
