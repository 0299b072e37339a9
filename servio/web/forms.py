"""Forms of the sign-in, password reset and personal settings pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from servio.accounts.models import ApiToken
from servio.security.signin import pause_of


class PausedSignInMixin:
    """Says why an attempt was refused when a sign-in throttle paused it (and for how long),
    instead of "do not match"; the middleware answers such a page with 429 and Retry-After."""

    def clean(self):
        try:
            return super().clean()  # type: ignore[misc]
        except ValidationError:
            pause = pause_of(self.request)  # type: ignore[attr-defined]
            if pause is not None:
                raise ValidationError(pause.message, code="throttled") from None
            raise


class AdminSignInForm(PausedSignInMixin, AdminAuthenticationForm):
    """/admin/login/: the same throttles and messages as /login/."""


class EmailAuthenticationForm(PausedSignInMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "That email address and password do not match an account. Check both and try again; "
            "after several failures sign-in is paused for a while."
        ),
        "inactive": "This account is disabled. Ask your service desk administrator.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True}
        )

    def clean_username(self) -> str:
        # Addresses are stored lower-case and matched case-insensitively (the sign-in throttles
        # lower-case the name themselves, for the admin's form too).
        return self.cleaned_data["username"].strip().lower()


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name", help_text="What the token is for.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        coerce=int,
        choices=[(30, "in 30 days"), (90, "in 90 days"), (365, "in a year"), (0, "never")],
        initial=90,
    )

    def expires_at(self, now: dt.datetime) -> dt.datetime | None:
        days = self.cleaned_data["expires_in_days"]
        return now + dt.timedelta(days=days) if days else None


class TimeZoneForm(forms.Form):
    """A person's own time zone: a searchable list of IANA names (a text box with the names as
    suggestions), empty for their organisation's. The service validates the name."""

    time_zone = forms.CharField(
        max_length=64,
        required=False,
        label="Time zone",
        widget=forms.TextInput(
            attrs={"list": "time-zone-names", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
