"""The queues: my work, my teams, unassigned, breaching soon, recently updated, search."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from pydantic import ValidationError

from servio.accounts import timezones
from servio.accounts.models import Organization, Team
from servio.api.pagination import InvalidCursor
from servio.core.errors import ValidationFailed
from servio.reporting import zones
from servio.tickets import search
from servio.tickets import selectors as ticket_selectors
from servio.tickets.filters import TicketFilter
from servio.tickets.models import Service
from servio.web.errors import add_errors
from servio.workspace import policies, selectors
from servio.workspace.forms import REPORT_DAYS, REPORT_KEYS, FilterForm, SavedViewForm
from servio.workspace.views.common import agent_required, is_htmx, querystring

FILTER_KEYS = (
    "q", "kind", "status", "priority", "team", "assignee", "organization", "service", "open",
    "is_major", "created_after", "created_before", *REPORT_KEYS, "sort",
)  # fmt: skip


def _choices(user):
    return {
        "teams": list(Team.objects.visible_to(user).filter(is_active=True).only("pk", "name")),
        "organizations": list(Organization.objects.visible_to(user).only("pk", "name")[:500]),
        "services": list(Service.objects.filter(is_active=True).only("pk", "name")[:500]),
    }


def _midnight(day: dt.date | None, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """The day's first instant in `zone` (the queue's `tz`, default the viewer's zone)."""
    return zones.start_of(day, zone) if day else None


def _parse(user, params: QueryDict, queue: str, choices: dict):
    """(form, TicketFilter) from the query string; bad fields are reported and left out."""
    # Days typed without `tz` are the viewer's days (their own time zone, decision 37).
    form = FilterForm(params, default_zone=timezones.effective_zone(user), **choices)
    form.is_valid()
    values = {k: v for k, v in form.filter_values().items() if k not in form.errors}
    zone = form.zone()
    for name in ("created_after", "created_before", *REPORT_DAYS):
        if name in values:
            values[name] = _midnight(values[name], zone)
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


def _page(
    user, queue: str, filters: TicketFilter, cursor: str | None, counted: bool = False
) -> selectors.QueuePage:
    """A page of the queue; `counted`: also how many tickets the whole queue holds."""
    if queue == "breaching":
        return selectors.breaching_soon(user=user, filters=filters)
    qs = selectors.queue_tickets(user=user, queue=queue, filters=filters)
    page = ticket_selectors.ticket_page(
        selectors.keys_only(qs), filters=filters, cursor=cursor, limit=selectors.PAGE_SIZE
    )
    rows = selectors.page_rows(page.items)
    label = selectors.QUEUE_LABELS[queue]
    total = selectors.queue_total(qs) if counted else None
    return selectors.QueuePage(queue, label, rows, page.next_cursor, filters.sort, total)


def _queue_context(request: HttpRequest, params: QueryDict) -> dict:
    user = request.user
    queue = params.get("queue") or ("all" if params.get("q") else "mine")
    if queue not in selectors.QUEUE_LABELS:
        queue = "all"
    choices = _choices(user)
    form, filters = _parse(user, params, queue, choices)
    cursor = params.get("cursor") or None
    kept = {k: params.getlist(k) for k in FILTER_KEYS if params.getlist(k) != [""] and k in params}
    # A filtered queue says how many tickets it holds (the dashboard's figures link here); a
    # word search does not: its page is found in a bounded window (decision 28), a count is not.
    filtered = any(k in kept for k in FILTER_KEYS if k not in ("sort", "tz"))
    counted = filtered and not search.by_words(filters.q)
    try:
        page = _page(user, queue, filters, cursor, counted)
    except InvalidCursor:  # a cursor of another list or sort, or damaged: the first page
        page = _page(user, queue, filters, None, counted)
    except ValidationFailed as exc:
        add_errors(form, exc)
        page = _page(user, queue, TicketFilter(sort=filters.sort), None)
    base = {"queue": queue, **kept}
    views = selectors.saved_view_lists(user=user)
    current = _current_view(views, params.get("view", ""))
    links = {**base, "view": current.pk} if current else base
    shareable = list(policies.shareable_teams(user))
    return {
        "nav": "queue",
        "queue": queue,
        "queues": selectors.QUEUE_LABELS,
        "queue_links": [
            (key, label, key in selectors.COUNTED) for key, label in selectors.QUEUE_LABELS.items()
        ],
        "page": page,
        "form": form,
        "choices": choices,
        "params": links,
        "base_qs": querystring(base),
        "next_qs": querystring({**links, "cursor": page.next_cursor}) if page.next_cursor else "",
        "saved_views": views,
        "current_view": current,
        "title": current.name if current else page.label,
        "save_form": SavedViewForm(teams=shareable),
        "may_share": bool(shareable),
        "search_q": params.get("q", ""),
        "sort": page.sort,
        "desk_prefix": reverse("workspace:ticket", kwargs={"reference": "X"})[:-2],
        "has_filters": filtered,
        "report_filters": form.report_description(),
        "count_limit": selectors.COUNT_LIMIT,
        "report_hidden": [(k, v) for k in REPORT_KEYS for v in kept.get(k, [])],
    }


def _current_view(views: selectors.SavedViewLists, raw: str):
    """The saved view the agent opened (`?view=<id>`), if it is one of theirs."""
    if not raw.isdigit():
        return None
    return next((v for v in views if v.pk == int(raw)), None)


def saved_filters(user, params: QueryDict) -> tuple[str, dict]:
    """(queue, TicketFilter parameters) of a queue URL, read and validated as the queue page
    reads them: a saved view keeps exactly what the page showed."""
    queue = params.get("queue") or "all"
    if queue not in selectors.QUEUE_LABELS:
        queue = "all"
    _, filters = _parse(user, params, queue, _choices(user))
    return queue, filters.model_dump(mode="json", exclude_defaults=True)


@agent_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """A queue page; HTMX requests from the filter form get only the results."""
    context = _queue_context(request, request.GET)
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        context["oob"] = True  # the save form's copy of the filters follows the results
        return render(request, "workspace/_queue_results.html", context)
    return render(request, "workspace/queue.html", context)


@agent_required
@require_GET
def queue_counts(request: HttpRequest) -> HttpResponse:
    """The open tickets of each work queue, for the queue links (loaded after the page)."""
    counts = selectors.queue_counts(user=request.user)
    rows = [(key, counts[key], words) for key, words in selectors.COUNTED.items()]
    return render(request, "workspace/_queue_counts.html", {"counts": rows})
