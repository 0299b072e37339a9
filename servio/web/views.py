"""Sign-in, sign-out, the landing page, password reset and personal settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from servio.accounts import services as account_services
from servio.accounts import timezones
from servio.accounts.models import ApiToken
from servio.core.errors import DomainError, ValidationFailed
from servio.core.middleware import client_ip
from servio.security import signin
from servio.web.errors import add_errors, render_page
from servio.web.forms import EmailAuthenticationForm, TimeZoneForm, TokenForm

__all__ = ["EmailAuthenticationForm"]


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Always the same page, at the same cost: whether the address has an account and whether
    it asked too often (then nothing is sent) is not shown; the email goes out in the background
    (`accounts.services.password_reset_request`)."""

    template_name = "web/password/reset_form.html"
    success_url = reverse_lazy("web:password_reset_done")

    def form_valid(self, form):
        account_services.password_reset_request(
            email=form.cleaned_data["email"], client_ip=client_ip(self.request)
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/password/reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/password/reset_confirm.html"
    success_url = reverse_lazy("web:password_reset_complete")

    def form_valid(self, form):
        """A new password lifts the sign-in pauses of the account (the owner's way past a
        stranger's failed attempts)."""
        response = super().form_valid(form)
        signin.forgive(
            account=signin.account_name(form.user.email),
            address=client_ip(self.request) or "",
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/password/reset_complete.html"


def _home_of(user) -> str:
    """Agents work in the workspace, requesters in the portal."""
    name = "workspace:queue" if user.is_staff_member else "portal:home"
    try:
        return reverse(name)
    except NoReverseMatch:  # that part of the UI is not mounted in this deployment
        return ""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    target = _home_of(request.user)
    if target:
        return redirect(target)
    return render(request, "web/home.html")


def _preferences(user) -> list[dict]:
    try:
        from servio.mail import selectors as mail_selectors
    except ImportError:  # the email channel is not installed
        return []
    return mail_selectors.preferences(user=user)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Time zone, notification preferences and API tokens of the signed-in person."""
    return _settings(request, TokenForm(), status=200)


def _time_zone_form(user) -> TimeZoneForm:
    return TimeZoneForm(initial={"time_zone": user.time_zone})


def _settings(
    request, token_form, *, status: int, issued=None, zone_form: TimeZoneForm | None = None
) -> HttpResponse:
    user = request.user
    tokens = ApiToken.objects.filter(user=user).order_by("-created_at")[:100]
    context = {
        "nav": "settings",
        "preferences": _preferences(user),
        "tokens": tokens,
        "token_form": token_form,
        "issued": issued,
        "now": timezone.now(),
        "zone_form": zone_form or _time_zone_form(user),
        "zone_names": timezones.zone_choices(),
        "zone_default": timezones.organization_zone_name(user.organization)
        if user.organization_id
        else timezones.installation_zone_name(),
        "zone_effective": timezones.effective_zone_name(user),
    }
    return render_page(request, "web/settings.html", context, status)


@login_required
@require_POST
def time_zone_save(request: HttpRequest) -> HttpResponse:
    """Set one's own time zone (empty: the organisation's); pages show times in it at once."""
    form = TimeZoneForm(request.POST)
    if form.is_valid():
        try:
            account_services.user_update(
                actor=request.user, user=request.user, time_zone=form.cleaned_data["time_zone"]
            )
        except ValidationFailed as exc:
            add_errors(form, exc)
        else:
            zone = timezones.effective_zone_name(request.user)
            messages.success(request, f"Your time zone is saved: times now show in {zone}.")
            return redirect("web:settings")
    return _settings(request, TokenForm(), status=422, zone_form=form)


@login_required
@require_POST
def preferences_save(request: HttpRequest) -> HttpResponse:
    from servio.mail import services as mail_services

    for pref in _preferences(request.user):
        wanted = request.POST.get(f"email_{pref['event']}") == "on"
        if wanted != pref["email"]:
            mail_services.preference_set(actor=request.user, event=pref["event"], email=wanted)
    messages.success(request, "Your notification choices are saved.")
    return redirect("web:settings")


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            issued = account_services.token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(timezone.now()),
            )
        except ValidationFailed as exc:
            add_errors(form, exc)
        else:
            # The secret is shown on this response only; it is never stored in clear.
            response = _settings(request, TokenForm(), status=201, issued=issued)
            response["Cache-Control"] = "no-store"
            return response
    return _settings(request, form, status=422)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = ApiToken.objects.filter(user=request.user, pk=token_id).first()
    if token is None:
        raise Http404("No such token.")
    try:
        account_services.token_revoke(actor=request.user, token=token)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"The token {token.name} is revoked; it no longer works.")
    return redirect("web:settings")


def _ticket_url(user, ticket) -> str:
    """Where a person reads a ticket: agents in the workspace, requesters in the portal."""
    name = "workspace:ticket" if user.is_staff_member else "portal:ticket"
    try:
        return reverse(name, kwargs={"reference": ticket.reference})
    except NoReverseMatch:
        return reverse("web:home")


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The signed-in person's latest notifications, unread first."""
    from servio.notifications.models import Notification

    items = list(
        Notification.objects.visible_to(request.user)
        .select_related("ticket")
        .order_by(F("read_at").asc(nulls_first=True), "-created_at")[:100]
    )
    return render(request, "web/notifications.html", {"nav": "notifications", "items": items})


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go to its ticket."""
    from servio.notifications.models import Notification
    from servio.notifications.services import notification_mark_read

    item = (
        Notification.objects.visible_to(request.user)
        .select_related("ticket")
        .filter(pk=notification_id)
        .first()
    )
    if item is None:
        raise Http404("No such notification.")
    notification_mark_read(actor=request.user, notification=item)
    if item.ticket is None:
        return redirect("web:notifications")
    return redirect(_ticket_url(request.user, item.ticket))
