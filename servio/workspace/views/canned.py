"""Canned responses: the agent's and their teams' reusable reply texts."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from servio.accounts.models import Team
from servio.core.errors import DomainError
from servio.web.errors import add_errors
from servio.workspace import selectors, services
from servio.workspace.forms import CannedResponseForm
from servio.workspace.views.common import agent_required, render_part


@agent_required
@require_http_methods(["GET", "POST"])
def canned_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    teams = list(Team.objects.visible_to(user).filter(members=user, is_active=True))
    form = CannedResponseForm(request.POST or None, teams=teams)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            team = next((t for t in teams if t.pk == form.cleaned_data["team"]), None)
            try:
                response = services.canned_response_create(
                    actor=user,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    team=team,
                )
            except DomainError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Response “{response.title}” saved.")
                return redirect("workspace:canned_list")
        status = 422
    context = {
        "nav": "canned",
        "responses": list(selectors.canned_responses(user=user)),
        "form": form,
    }
    return render_part(request, "workspace/canned.html", context, status)


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
