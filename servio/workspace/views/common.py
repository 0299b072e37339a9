"""What every workspace view shares: staff only (404 for others), scoped ticket lookup."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest

from servio.core.errors import NotFound, PermissionDenied
from servio.tickets import selectors as ticket_selectors
from servio.tickets.models import Ticket
from servio.web.errors import answer_status, render_page
from servio.workspace import policies


def agent_required(view):
    """Signed-in service desk staff only; anyone else gets 404, as if the page did not exist."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            policies.require_workspace(request.user)
        except PermissionDenied as refusal:
            # 404 as if the page did not exist; the refusal still goes to the security log.
            raise Http404("No such page.") from refusal
        return view(request, *args, **kwargs)

    return wrapper


def get_ticket(request: HttpRequest, reference: str) -> Ticket:
    try:
        return ticket_selectors.ticket_get(user=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def version_of(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def querystring(params: dict) -> str:
    return urlencode(params, doseq=True)


def swap_status(request: HttpRequest, status: int) -> int:
    """The status to answer with: refusals (form errors, conflicts) as 200, HTMX or not, since
    browsers log every 4xx as a console error; the real outcome is in X-Servio-Status."""
    return answer_status(status)


def render_part(
    request: HttpRequest, template: str, context: dict, status: int = 200, headers=None
):
    """A page or an HTMX part that may show refusals (`servio.web.errors.render_page`)."""
    return render_page(request, template, context, status, headers)


def go_to(request: HttpRequest, url: str):
    """After a form sent by HTMX succeeded: a full load of `url` (where the message of what
    was done is shown); without HTMX, a redirect."""
    from django.http import HttpResponse
    from django.shortcuts import redirect

    if is_htmx(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
