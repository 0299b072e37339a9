"""Bulk actions on the tickets selected in a queue: the form shows only the fields the chosen
action needs, the action is checked once, then applied ticket by ticket, and the queue comes
back with each ticket's outcome and the selection kept."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from servio.core.errors import DomainError
from servio.web.errors import add_errors
from servio.workspace import selectors, services
from servio.workspace.forms import BulkForm, person_label
from servio.workspace.views.common import agent_required, is_htmx, render_part
from servio.workspace.views.queue import _queue_context


def fields_context(
    user,
    data: QueryDict | dict,
    form: BulkForm | None = None,
    found: selectors.Assignable | None = None,
) -> dict[str, Any]:
    """What the bulk form shows for the chosen action (and status change), with the values
    typed and each field's error: teams and people only when assigning (the members of the
    team typed, once it names one), the fields of the chosen status change only."""
    action = data.get("action") or "assign_me"
    if action not in services.BULK_ACTIONS:
        action = "assign_me"
    errors = {k: " ".join(v) for k, v in form.errors.items()} if form is not None else {}
    context: dict[str, Any] = {
        "action": action,
        "values": data,
        "errors": {("form" if k == NON_FIELD_ERRORS else k): v for k, v in errors.items()},
    }
    if action == "transition":
        steps = selectors.bulk_transitions()
        context["transitions"] = steps
        step = next((s for s in steps if s["name"] == data.get("transition")), None)
        for f in step["fields"] if step else []:
            f["value"] = data.get(f["name"], "")
            f["error"] = errors.get(f["name"], "")
        context["step"] = step
    elif action == "assign":
        found = found or selectors.assignable(user=user)
        team = found.team_named(str(data.get("team") or ""))
        context["teams"] = found.teams
        context["team_chosen"] = team
        context["people"] = [
            (person_label(p), ", ".join(found.teams_of.get(p.pk, [])))
            for p in found.people_of(team)
        ]
    return context


@agent_required
@require_GET
def bulk_fields(request: HttpRequest) -> HttpResponse:
    """The fields of the bulk form for the action (and status change, and team) chosen."""
    context = {"bulk": fields_context(request.user, request.GET)}
    return render(request, "workspace/_bulk_fields.html", context)


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Check the action once; if it holds, apply it to each selected ticket and report each
    one's outcome in words; the queue comes back with the same tickets selected."""
    user = request.user
    params = QueryDict(request.POST.get("query", ""))
    selected = request.POST.getlist("tickets")[: services.MAX_BULK * 2]
    found = selectors.assignable(user=user) if request.POST.get("action") == "assign" else None
    if found is not None:
        form = BulkForm(request.POST, teams=found.teams, people=found.people)
    else:
        form = BulkForm(request.POST)
    outcomes: list[services.BulkOutcome] = []
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        tickets = selectors.tickets_by_reference(user=user, references=selected)
        values = {
            "team": data["team"],
            "assignee": data["assignee"],
            "transition": data["transition"],
            "fields": form.transition_values(),
            "body": data["body"],
            "internal": data["visibility"] != "public",
        }
        try:
            outcomes = services.tickets_bulk_apply(
                actor=user, tickets=tickets, action=data["action"], values=values
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            status = 200
            outcomes += services.bulk_missing(selected, tickets)
    bulk_context = fields_context(user, request.POST, form, found)
    bulk_context.update(
        outcomes=outcomes,
        changed=sum(o.ok for o in outcomes),
        selected=selected,
        open=True,  # the bar stays open for the next action on the same selection
    )
    context = _queue_context(request, params)
    context["bulk"] = bulk_context
    template = "workspace/_queue_results.html" if is_htmx(request) else "workspace/queue.html"
    return render_part(request, template, context, status)
