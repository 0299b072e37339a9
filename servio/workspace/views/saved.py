"""Saved views: save the queue as it is filtered now, open, rename, re-share, refilter,
reorder and delete them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servio.core.errors import DomainError
from servio.web.errors import add_errors
from servio.workspace import policies, selectors, services
from servio.workspace.forms import SavedViewForm
from servio.workspace.views.common import agent_required, go_to, render_part
from servio.workspace.views.queue import _queue_context as queue_context
from servio.workspace.views.queue import saved_filters


def _get(request: HttpRequest, view_id: int):
    view = selectors.saved_view_get(user=request.user, view_id=view_id)
    if view is None:
        raise Http404("No such view.")
    return view


def _manage_page(request: HttpRequest, forms: dict[int, SavedViewForm] | None = None, status=200):
    """The list of views with a form per view that may be changed (errors kept beside the
    fields of the one that was sent)."""
    user = request.user
    lists = selectors.saved_view_lists(user=user)
    teams = list(policies.shareable_teams(user))
    forms = forms or {}
    for view in lists:
        if view.can_change and view.pk not in forms:
            forms[view.pk] = SavedViewForm(
                initial={"name": view.name, "team": view.team_id},
                teams=teams,
                prefix=f"v{view.pk}",
            )
        view.form = forms.get(view.pk)
    context = {"nav": "queue", "lists": lists, "may_share": bool(teams)}
    return render_part(request, "workspace/views.html", context, status)


@agent_required
@require_http_methods(["GET", "POST"])
def saved_views(request: HttpRequest) -> HttpResponse:
    """GET: the agent's views to rename, share, reorder or delete. POST: save the queue."""
    if request.method == "GET":
        return _manage_page(request)
    user = request.user
    params = QueryDict(request.POST.get("query", ""))
    form = SavedViewForm(request.POST, teams=policies.shareable_teams(user))
    if form.is_valid():
        queue, filters = saved_filters(user, params)
        try:
            view = services.saved_view_create(
                actor=user,
                name=form.cleaned_data["name"],
                queue=queue,
                filters=filters,
                team=form.cleaned_data["team"],
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"View “{view.name}” saved.")
            return go_to(request, reverse("workspace:view_open", args=[view.pk]))
    context = queue_context(request, params)
    context["save_form"] = form
    context["save_open"] = True
    return render_part(request, "workspace/queue.html", context, 422)


@agent_required
@require_GET
def saved_view_open(request: HttpRequest, view_id: int) -> HttpResponse:
    """The queue with the view's filters, as a URL: what the agent sees is what it stored."""
    view = _get(request, view_id)
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
def saved_view_edit(request: HttpRequest, view_id: int) -> HttpResponse:
    """Rename a view and choose the team it is shared with."""
    user = request.user
    view = _get(request, view_id)
    form = SavedViewForm(request.POST, teams=policies.shareable_teams(user), prefix=f"v{view.pk}")
    if form.is_valid():
        try:
            services.saved_view_update(
                actor=user,
                view=view,
                name=form.cleaned_data["name"],
                team=form.cleaned_data["team"],
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"View “{view.name}” saved.")
            return go_to(request, reverse("workspace:views"))
    return _manage_page(request, {view.pk: form}, status=422)


@agent_required
@require_POST
def saved_view_refilter(request: HttpRequest, view_id: int) -> HttpResponse:
    """Store the queue and filters the agent has applied now in an existing view."""
    user = request.user
    view = _get(request, view_id)
    queue, filters = saved_filters(user, QueryDict(request.POST.get("query", "")))
    try:
        services.saved_view_set_filters(actor=user, view=view, queue=queue, filters=filters)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"View “{view.name}” now keeps these filters.")
    return go_to(request, reverse("workspace:view_open", args=[view.pk]))


@agent_required
@require_POST
def saved_view_move(request: HttpRequest, view_id: int) -> HttpResponse:
    """Move one of the agent's views up or down their list."""
    view = _get(request, view_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.saved_view_move(actor=request.user, view=view, offset=offset)
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect(f"{reverse('workspace:views')}#view-{view.pk}")


@agent_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = _get(request, view_id)
    try:
        services.saved_view_delete(actor=request.user, view=view)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"View “{view.name}” deleted.")
    target = request.POST.get("next") == "views"
    return redirect("workspace:views" if target else "workspace:queue")
