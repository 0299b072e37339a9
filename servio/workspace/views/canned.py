"""Canned responses: the agent's, their teams' and everyone's reusable reply texts, with
variables filled in from the ticket and a preview."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from servio.core.errors import DomainError
from servio.web.errors import add_errors
from servio.workspace import policies, responses, selectors, services
from servio.workspace.forms import CannedResponseForm
from servio.workspace.views.common import agent_required, get_ticket, go_to, render_part


def _form(request: HttpRequest, data=None, **kwargs) -> CannedResponseForm:
    user = request.user
    return CannedResponseForm(
        data,
        teams=policies.shareable_teams(user),
        everyone=policies.may_write_global(user),
        **kwargs,
    )


def _page(request: HttpRequest, form: CannedResponseForm, status: int = 200) -> HttpResponse:
    context = {
        "nav": "canned",
        "responses": selectors.canned_response_list(user=request.user),
        "form": form,
        "variables": responses.VARIABLES,
    }
    return render_part(request, "workspace/canned.html", context, status)


@agent_required
@require_http_methods(["GET", "POST"])
def canned_list(request: HttpRequest) -> HttpResponse:
    """The responses this agent may use, and a form to write a new one."""
    if request.method == "GET":
        return _page(request, _form(request))
    form = _form(request, request.POST)
    if _saved(request, form, services.canned_response_create):
        return go_to(request, reverse("workspace:canned_list"))
    return _page(request, form, status=422)


def _saved(request: HttpRequest, form: CannedResponseForm, write, **target) -> bool:
    """Send the form to the service (create or update); its refusals go beside the fields."""
    if not form.is_valid():
        return False
    try:
        response = write(
            actor=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            **form.audience(),
            **target,
        )
    except DomainError as exc:
        add_errors(form, exc)
        return False
    messages.success(request, f"Response “{response.title}” saved.")
    return True


@agent_required
@require_http_methods(["GET", "POST"])
def canned_edit(request: HttpRequest, response_id: int) -> HttpResponse:
    """Change a response's title, text or who it is for (those who may change it)."""
    response = selectors.canned_response_get(user=request.user, response_id=response_id)
    if response is None:
        raise Http404("No such response.")
    initial = {
        "title": response.title,
        "body": response.body,
        "team": "everyone" if response.is_global else (response.team_id or ""),
    }
    form = _form(request, request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if _saved(request, form, services.canned_response_update, response=response):
            return go_to(request, reverse("workspace:canned_list"))
        status = 422
    context = {
        "nav": "canned",
        "response": response,
        "form": form,
        "variables": responses.VARIABLES,
        "can_change": policies.may_change_response(request.user, response),
    }
    return render_part(request, "workspace/canned_edit.html", context, status)


@agent_required
@require_http_methods(["GET", "POST"])
def canned_preview(request: HttpRequest) -> HttpResponse:
    """A response with its variables filled in: GET a saved one for a ticket (the reply box's
    picker), or POST a text being written (examples stand in when no ticket is named)."""
    params = request.GET if request.method == "GET" else request.POST
    user = request.user
    reference = params.get("ticket", "")
    ticket = get_ticket(request, reference) if reference else None
    saved = None
    if request.method == "GET":
        raw = params.get("response", "")
        saved = (
            selectors.canned_response_get(user=user, response_id=int(raw))
            if raw.isdigit() and len(raw) < 12
            else None
        )
        if saved is None:
            raise Http404("No such response.")
        body = saved.body
    else:
        body = params.get("body", "")[: services.MAX_RESPONSE]
    filled = responses.canned_response_fill(user=user, body=body, ticket=ticket)
    context = {"filled": filled, "saved": saved, "ticket": ticket, "empty": not body.strip()}
    return render_part(request, "workspace/_canned_preview.html", context)


@agent_required
@require_POST
def canned_delete(request: HttpRequest, response_id: int) -> HttpResponse:
    response = selectors.canned_response_get(user=request.user, response_id=response_id)
    if response is None:
        raise Http404("No such response.")
    try:
        services.canned_response_delete(actor=request.user, response=response)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Response “{response.title}” deleted.")
    return redirect("workspace:canned_list")
