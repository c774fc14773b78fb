from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from .challenge import ChallengeFailed, check_answer


class VoteForm(forms.Form):
    stars = forms.TypedChoiceField(
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(1, 6)],
        coerce=int,
        error_messages={
            "required": "Choose from one to five stars.",
            "invalid_choice": "Choose from one to five stars.",
        },
    )


class CommentForm(forms.Form):
    """The "Add new comment" form, math challenge included.

    The challenge is checked last, and only when everything else is valid, so a reader
    who must fix their comment is not also made to answer a second question for nothing.
    """

    name = forms.CharField(max_length=80, strip=True, label="Your name")
    email = forms.EmailField(
        required=False,
        label="Email (optional)",
        max_length=254,
        help_text="Never shown; only used if the newsroom needs to contact you.",
    )
    body = forms.CharField(label="Comment", strip=True, widget=forms.Textarea(attrs={"rows": 6}))
    parent = forms.IntegerField(
        required=False,
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "invalid": "The comment you replied to could not be found.",
            "min_value": "The comment you replied to could not be found.",
        },
    )
    # A field people never see; bots that fill every field fill it.
    website = forms.CharField(required=False, label="Leave this field empty")
    challenge_token = forms.CharField(required=False, widget=forms.HiddenInput)
    challenge_answer = forms.CharField(required=False, max_length=12, label="Math question")

    def __init__(self, *args, story_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.story_id = story_id
        limit = settings.BROADSHEET_COMMENT_MAX_LENGTH
        self.fields["body"].validators.append(
            MaxLengthValidator(
                limit,
                message=f"Please keep comments under {limit:,} characters (%(show_value)d now).",
            )
        )
        self.fields["body"].widget.attrs["maxlength"] = limit

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Please give a name to sign your comment with.")
        return name

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if not cleaned.get("challenge_token") or not cleaned.get("challenge_answer"):
            self.add_error("challenge_answer", "Please answer the math question.")
            return cleaned
        try:
            check_answer(
                token=cleaned["challenge_token"],
                answer=cleaned["challenge_answer"],
                story_id=self.story_id,
            )
        except ChallengeFailed as exc:
            self.add_error("challenge_answer", exc.message)
        return cleaned
