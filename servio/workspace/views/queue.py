"""The queues: my work, my teams, unassigned, breaching soon, recently updated, search."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from servio.accounts.models import Organization, Team
from servio.api.pagination import InvalidCursor
from servio.core.errors import DomainError, ValidationFailed
from servio.tickets import selectors as ticket_selectors
from servio.tickets.filters import TicketFilter
from servio.tickets.models import Service
from servio.web.errors import add_errors
from servio.workspace import selectors, services
from servio.workspace.forms import FilterForm, SavedViewForm
from servio.workspace.views.common import agent_required, is_htmx, querystring, render_part

FILTER_KEYS = (
    "q", "kind", "status", "priority", "team", "assignee", "organization", "service", "open",
    "is_major", "created_after", "created_before", "sort",
)  # fmt: skip


def _choices(user):
    return {
        "teams": list(Team.objects.visible_to(user).filter(is_active=True).only("pk", "name")),
        "organizations": list(Organization.objects.visible_to(user).only("pk", "name")[:500]),
        "services": list(Service.objects.filter(is_active=True).only("pk", "name")[:500]),
    }


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


def _parse(user, params: QueryDict, queue: str, choices: dict):
    """(form, TicketFilter) from the query string; bad fields are reported and left out."""
    form = FilterForm(params, **choices)
    form.is_valid()
    values = {k: v for k, v in form.filter_values().items() if k not in form.errors}
    for name in ("created_after", "created_before"):
        if name in values:
            values[name] = _midnight(values[name])
    values.setdefault("sort", selectors.DEFAULT_SORT.get(queue, "-created"))
    try:
        filters = TicketFilter(**values)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            form.add_error(name if name in form.fields else None, error["msg"])
            values.pop(name, None)
        filters = TicketFilter(**{k: v for k, v in values.items() if k in ("sort",)})
    return form, filters


def _page(user, queue: str, filters: TicketFilter, cursor: str | None) -> selectors.QueuePage:
    if queue == "breaching":
        return selectors.breaching_soon(user=user, filters=filters)
    qs = selectors.queue_tickets(user=user, queue=queue, filters=filters)
    page = ticket_selectors.ticket_page(
        selectors.keys_only(qs), filters=filters, cursor=cursor, limit=selectors.PAGE_SIZE
    )
    rows = selectors.page_rows(page.items)
    label = selectors.QUEUE_LABELS[queue]
    return selectors.QueuePage(queue, label, rows, page.next_cursor, filters.sort)


def _queue_context(request: HttpRequest, params: QueryDict) -> dict:
    user = request.user
    queue = params.get("queue") or ("all" if params.get("q") else "mine")
    if queue not in selectors.QUEUE_LABELS:
        queue = "all"
    choices = _choices(user)
    form, filters = _parse(user, params, queue, choices)
    cursor = params.get("cursor") or None
    try:
        page = _page(user, queue, filters, cursor)
    except InvalidCursor:  # a cursor of another list or sort, or damaged: the first page
        page = _page(user, queue, filters, None)
    except ValidationFailed as exc:
        add_errors(form, exc)
        page = _page(user, queue, TicketFilter(sort=filters.sort), None)
    kept = {k: params.getlist(k) for k in FILTER_KEYS if params.getlist(k) != [""] and k in params}
    base = {"queue": queue, **kept}
    return {
        "nav": "queue",
        "queue": queue,
        "queues": selectors.QUEUE_LABELS,
        "page": page,
        "form": form,
        "choices": choices,
        "params": base,
        "base_qs": querystring(base),
        "next_qs": querystring({**base, "cursor": page.next_cursor}) if page.next_cursor else "",
        "saved_views": list(selectors.saved_views(user=user)),
        "save_form": SavedViewForm(teams=choices["teams"]),
        "search_q": params.get("q", ""),
        "sort": page.sort,
        "desk_prefix": reverse("workspace:ticket", kwargs={"reference": "X"})[:-2],
        "has_filters": any(k in kept for k in FILTER_KEYS if k not in ("sort",)),
    }


@agent_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """A queue page; HTMX requests from the filter form get only the results."""
    context = _queue_context(request, request.GET)
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "workspace/_queue_results.html", context)
    return render(request, "workspace/queue.html", context)


@agent_required
@require_GET
def saved_view_open(request: HttpRequest, view_id: int) -> HttpResponse:
    view = selectors.saved_view_get(user=request.user, view_id=view_id)
    if view is None:
        raise Http404("No such view.")
    params = QueryDict(mutable=True)
    params["queue"] = view.queue
    for key, value in view.filters.items():
        if isinstance(value, list):
            params.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            params[key] = "true" if value else "false"
        else:
            params[key] = str(value)[:10] if key.startswith("created_") else str(value)
    params["view"] = str(view.pk)
    return redirect(f"{reverse('workspace:queue')}?{params.urlencode()}")


@agent_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    params = QueryDict(request.POST.get("query", ""))
    teams = list(Team.objects.visible_to(user).filter(is_active=True))
    form = SavedViewForm(request.POST, teams=teams)
    queue_name = params.get("queue") or "all"
    if form.is_valid():
        _, filters = _parse(user, params, queue_name, _choices(user))
        team = next((t for t in teams if t.pk == form.cleaned_data["team"]), None)
        try:
            view = services.saved_view_create(
                actor=user,
                name=form.cleaned_data["name"],
                queue=queue_name if queue_name in selectors.QUEUE_LABELS else "all",
                filters=filters.model_dump(mode="json", exclude_defaults=True),
                team=team,
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"View “{view.name}” saved.")
            return redirect("workspace:view_open", view_id=view.pk)
    context = _queue_context(request, params)
    context["save_form"] = form
    context["save_open"] = True
    return render_part(request, "workspace/queue.html", context, 422)


@agent_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = selectors.saved_view_get(user=request.user, view_id=view_id)
    if view is None:
        raise Http404("No such view.")
    try:
        services.saved_view_delete(actor=request.user, view=view)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"View “{view.name}” deleted.")
    return redirect("workspace:queue")
