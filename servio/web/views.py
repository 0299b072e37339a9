"""Sign-in, sign-out and the landing page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


class EmailAuthenticationForm(AuthenticationForm):
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
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "autofocus": True})

    def clean_username(self) -> str:
        # Addresses are stored lower-case and matched case-insensitively; lower-casing here also
        # gives the login throttle (django-axes, keyed on the name) one key per account, so
        # "Rita@" and "rita@" do not each get their own allowance of failed attempts.
        return self.cleaned_data["username"].strip().lower()


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


@login_required
def home(request):
    return render(request, "web/home.html")
