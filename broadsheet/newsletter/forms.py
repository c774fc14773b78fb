from django import forms


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
