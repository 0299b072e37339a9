"""The ticket page: header with inline edits, transitions, conversation, links and watchers."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servio.accounts import scope
from servio.accounts.models import Team, User
from servio.core.errors import DomainError, NotFound, StaleVersion, ValidationFailed
from servio.tickets import selectors as ticket_selectors
from servio.tickets import services as ticket_services
from servio.tickets.models import Category, Level, Link, Priority, Service, Ticket
from servio.tickets.selectors import ticket_reload
from servio.web.errors import add_errors, sentence
from servio.workspace import selectors, services
from servio.workspace.forms import CommentForm, NewTicketForm
from servio.workspace.views.common import (
    agent_required,
    get_ticket,
    is_htmx,
    render_part,
    version_of,
)

PARTS = {
    "header": "workspace/ticket/_header.html",
    "timeline": "workspace/ticket/_timeline.html",
    "side": "workspace/ticket/_side.html",
}
EDITABLE = ("title", "impact", "urgency", "priority", "service", "category", "assignment",
            "is_major", "parent")  # fmt: skip


# --- context ----------------------------------------------------------------------------------


def _header_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    user = request.user
    return {
        "ticket": ticket,
        "parent": ticket_selectors.visible_parent(user=user, ticket=ticket),
        "status_label": selectors.status_label(ticket),
        "transitions": selectors.transitions_for(ticket, user),
        "clocks": selectors.clocks(user=user, ticket=ticket),
        "description_html": selectors.description_html(user=user, ticket=ticket),
        "priority": selectors.priority_state(ticket),
        "i_am_member": ticket.team_id is not None
        and any(t.pk == ticket.team_id for t in user.teams.all()),
    }


def _timeline_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "timeline": selectors.timeline(user=request.user, ticket=ticket),
        "stamp": selectors.stamp(ticket),
    }


def _side_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    user = request.user
    return {
        "ticket": ticket,
        "links": selectors.links(user=user, ticket=ticket),
        "children": selectors.children(user=user, ticket=ticket),
        "watchers": selectors.watchers(ticket=ticket),
        "link_types": Link.Type.choices,
    }


def _page_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    context = {"nav": "queue"}
    context.update(_header_context(request, ticket))
    context.update(_timeline_context(request, ticket))
    context.update(_side_context(request, ticket))
    context["composer"] = CommentForm()
    context["canned"] = list(selectors.canned_responses(user=request.user))
    context["max_upload_mb"] = settings.SERVIO_ATTACHMENT_MAX_BYTES // 1048576
    return context


def _page(request, ticket, status=200, headers=None, **extra) -> HttpResponse:
    """The whole ticket page, with what a part would show (an open editor, errors, a
    conflict): what a link opened in a new tab, or a form posted without HTMX, gets."""
    context = _page_context(request, ticket)
    context.update(extra)
    return render_part(request, "workspace/ticket/page.html", context, status, headers)


def _header(request, ticket, status=200, headers=None, **extra) -> HttpResponse:
    if not is_htmx(request):
        return _page(request, ticket, status, headers, **extra)
    context = _header_context(request, ticket)
    context.update(extra)
    return render_part(request, PARTS["header"], context, status, headers)


# --- logging a ticket on someone's behalf -----------------------------------------------------


@agent_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Log a ticket for a requester who called or walked up (through `ticket_create`)."""
    user = request.user
    teams = list(Team.objects.visible_to(user).filter(is_active=True))
    choices = {"services": list(Service.objects.filter(is_active=True)[:500]), "teams": teams}
    form = NewTicketForm(request.POST or None, **choices)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            requester = selectors.person_by_email(user=user, email=data["requester"])
            if requester is None:
                form.add_error("requester", "Nobody visible to you has this address.")
            else:
                try:
                    ticket = services.ticket_log_for(
                        actor=user,
                        requester=requester,
                        team=data["team"],
                        assign_to_me=data["assign_to_me"],
                        kind=data["kind"],
                        title=data["title"],
                        description=data["description"],
                        impact=data["impact"],
                        urgency=data["urgency"],
                        service=data["service"],
                        source=data["source"],
                    )
                except DomainError as exc:
                    add_errors(form, exc, aliases={"assignee": "assign_to_me"})
                else:
                    messages.success(request, f"{ticket.reference} logged for {requester}.")
                    return redirect("workspace:ticket", reference=ticket.reference)
    return render_part(request, "workspace/ticket_new.html", {"nav": "queue", "form": form}, status)


# --- pages and parts --------------------------------------------------------------------------


@agent_required
@require_GET
def ticket_page(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket(request, reference)
    return render(request, "workspace/ticket/page.html", _page_context(request, ticket))


@agent_required
@require_GET
def ticket_part(request: HttpRequest, reference: str, part: str) -> HttpResponse:
    if part not in PARTS:
        raise Http404("No such part.")
    ticket = get_ticket(request, reference)
    builder = {"header": _header_context, "timeline": _timeline_context, "side": _side_context}
    return render(request, PARTS[part], builder[part](request, ticket))


@agent_required
@require_GET
def ticket_poll(request: HttpRequest, reference: str) -> HttpResponse:
    """204 while nothing changed; otherwise a notice and an event that reloads the parts."""
    ticket = get_ticket(request, reference)
    if request.GET.get("stamp") == selectors.stamp(ticket):
        return HttpResponse(status=204)
    who = selectors.last_changed_by(user=request.user, ticket=ticket)
    response = render(request, "workspace/ticket/_notice.html", {"ticket": ticket, "who": who})
    response["HX-Trigger"] = "ticket-changed"
    return response


# --- inline edits -----------------------------------------------------------------------------


def _choice(choices, initial=None, required=True, label=""):
    return forms.TypedChoiceField(
        choices=choices, coerce=int, required=required, empty_value=None, label=label
    )


def _edit_form(request, ticket: Ticket, name: str, data=None) -> forms.Form:
    """A one-field form for an inline edit, filled with the current value."""
    form = forms.Form(data)
    if name == "title":
        form.fields["title"] = forms.CharField(max_length=200, initial=ticket.title, label="Title")
    elif name in ("impact", "urgency"):
        form.fields[name] = _choice(Level.choices, label=name.capitalize())
        form.fields[name].initial = getattr(ticket, name)
        state = selectors.priority_state(ticket)
        form.fields[name].help_text = (
            f"The priority is set by hand ({state.label}) and stays so when {name} changes; "
            "edit the priority to let the impact x urgency matrix decide again."
            if state.overridden
            else f"The priority follows the impact x urgency matrix (now {state.label}) "
            "and changes with it."
        )
    elif name == "priority":
        form.fields["priority"] = _choice(
            [("", "Follow the impact x urgency matrix"), *Priority.choices],
            required=False,
            label="Priority",
        )
        form.fields["priority"].initial = ticket.priority if ticket.priority_overridden else ""
        state = selectors.priority_state(ticket)
        form.fields["priority"].help_text = (
            f"Impact x urgency gives {state.matrix_label}. A priority set by hand stays when "
            "impact or urgency change."
        )
    elif name == "service":
        services_ = [(s.pk, s.name) for s in Service.objects.filter(is_active=True)[:500]]
        form.fields["service"] = _choice([("", "—"), *services_], required=False, label="Service")
        form.fields["service"].initial = ticket.service_id
    elif name == "category":
        cats = [(c.pk, c.path) for c in Category.objects.filter(is_active=True)[:500]]
        form.fields["category"] = _choice([("", "—"), *cats], required=False, label="Category")
        form.fields["category"].initial = ticket.category_id
    elif name == "assignment":
        # Only the teams that serve the ticket's organisation may take it (decision 16).
        teams = [
            t
            for t in Team.objects.visible_to(request.user).filter(is_active=True)
            if scope.team_serves(t.pk, ticket.organization_id)
        ]
        form.fields["team"] = _choice([("", "—"), *[(t.pk, t.name) for t in teams]], False)
        form.fields["team"].label = "Team"
        form.fields["team"].initial = ticket.team_id
        people = (
            User.objects.filter(teams__in=teams, is_active=True).distinct().order_by("full_name")
        )
        form.fields["assignee"] = _choice(
            [("", "Nobody yet"), *[(u.pk, u.get_full_name()) for u in people]], False
        )
        form.fields["assignee"].label = "Assignee"
        form.fields["assignee"].initial = ticket.assignee_id
    elif name == "is_major":
        form.fields["is_major"] = forms.BooleanField(
            required=False, initial=ticket.is_major, label="Major incident"
        )
    elif name == "parent":
        form.fields["parent"] = forms.CharField(
            required=False,
            max_length=20,
            label="Parent (major incident number)",
            initial=getattr(
                ticket_selectors.visible_parent(user=request.user, ticket=ticket), "reference", ""
            ),
        )
    return form


def _changes(name: str, cleaned: dict[str, Any]) -> dict[str, Any]:
    if name == "assignment":
        return {"team": cleaned["team"], "assignee": cleaned["assignee"]}
    if name == "parent":
        return {"parent": (cleaned["parent"] or "").strip().upper() or None}
    return {name: cleaned[name]}


@agent_required
@require_http_methods(["GET", "POST"])
def ticket_edit(request: HttpRequest, reference: str, field: str) -> HttpResponse:
    """Edit one field in place, based on the version the agent saw; a stale one changes nothing
    and shows what changed meanwhile and who changed it."""
    if field not in EDITABLE:
        raise Http404("That field is not edited here.")
    ticket = get_ticket(request, reference)
    if request.method == "GET":
        if request.GET.get("cancel"):
            if not is_htmx(request):
                return redirect("workspace:ticket", reference=ticket.reference)
            return _header(request, ticket)
        form = _edit_form(request, ticket, field)
        return _header(request, ticket, editing=field, edit_form=form, version=ticket.version)
    seen = version_of(request)
    form = _edit_form(request, ticket, field, request.POST)
    if not form.is_valid():
        return _header(request, ticket, 422, editing=field, edit_form=form, version=seen)
    before = ticket.priority
    try:
        ticket = ticket_services.ticket_update(
            actor=request.user,
            ticket=ticket,
            version=seen,
            changes=_changes(field, form.cleaned_data),
        )
    except StaleVersion:
        current = ticket_reload(ticket)
        changed = selectors.changes_since(user=request.user, ticket=current, version=seen or 0)
        return _header(request, current, 409, conflict=changed, conflict_field=field)
    except DomainError as exc:
        add_errors(form, exc, aliases={"team": "team", "assignee": "assignee"})
        return _header(request, ticket, 422, editing=field, edit_form=form, version=seen)
    ticket = ticket_reload(ticket)
    if not is_htmx(request):
        return redirect("workspace:ticket", reference=ticket.reference)
    return _header(
        request,
        ticket,
        headers={"HX-Trigger": "timeline-changed"},
        saved=field,
        priority_was=before if field in ("impact", "urgency", "priority") else None,
    )


@agent_required
@require_POST
def ticket_assign_me(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket(request, reference)
    seen = version_of(request)
    try:
        ticket = services.ticket_assign_to_me(actor=request.user, ticket=ticket, version=seen)
    except StaleVersion:
        current = ticket_reload(ticket)
        changed = selectors.changes_since(user=request.user, ticket=current, version=seen or 0)
        return _header(request, current, 409, conflict=changed, conflict_field="assignment")
    except DomainError as exc:
        return _header(request, ticket, 422, action_error=exc.detail)
    if not is_htmx(request):
        return redirect("workspace:ticket", reference=ticket.reference)
    return _header(request, ticket_reload(ticket), headers={"HX-Trigger": "timeline-changed"})


@agent_required
@require_POST
def ticket_transition(request: HttpRequest, reference: str, name: str) -> HttpResponse:
    """Take a workflow transition with the fields the table says it needs."""
    ticket = get_ticket(request, reference)
    seen = version_of(request)
    step = next(
        (t for t in selectors.transitions_for(ticket, request.user) if t["name"] == name), None
    )
    wanted = [f["name"] for f in step["fields"]] if step else []
    values = {k: request.POST.get(k, "").strip() for k in wanted if request.POST.get(k, "").strip()}
    try:
        ticket = ticket_services.ticket_transition(
            actor=request.user, ticket=ticket, transition=name, values=values, version=seen
        )
    except StaleVersion:
        current = ticket_reload(ticket)
        changed = selectors.changes_since(user=request.user, ticket=current, version=seen or 0)
        return _header(request, current, 409, conflict=changed, conflict_field="status")
    except ValidationFailed as exc:
        transitions = _refused(selectors.transitions_for(ticket, request.user), name, values, exc)
        shown = {f["name"] for t in transitions if t["name"] == name for f in t["fields"]}
        other = " ".join(sentence(r) for k, v in exc.errors.items() if k not in shown for r in v)
        return _header(request, ticket, 422, transitions=transitions, action_error=other)
    except DomainError as exc:
        return _header(request, ticket, 409, action_error=exc.detail)
    if not is_htmx(request):
        messages.success(request, f"{ticket.reference} is now {selectors.status_label(ticket)}.")
        return redirect("workspace:ticket", reference=ticket.reference)
    return _header(request, ticket_reload(ticket), headers={"HX-Trigger": "timeline-changed"})


def _refused(transitions, name: str, values: dict[str, str], exc: ValidationFailed) -> list:
    """The transitions with the refused one open, showing what was typed and each field's
    reason beside it."""
    for t in transitions:
        if t["name"] != name:
            continue
        t["open"] = True
        for f in t["fields"]:
            f["value"] = values.get(f["name"], "")
            f["error"] = " ".join(map(sentence, exc.errors.get(f["name"], [])))
    return transitions


# --- conversation -----------------------------------------------------------------------------


def _composer(request, ticket, form, status=200, headers=None, sent=None) -> HttpResponse:
    if not is_htmx(request):
        return _page(request, ticket, status, headers, composer=form)
    context = {
        "ticket": ticket,
        "composer": form,
        "canned": list(selectors.canned_responses(user=request.user)),
        "max_upload_mb": settings.SERVIO_ATTACHMENT_MAX_BYTES // 1048576,
        "sent": sent,
    }
    return render_part(request, "workspace/ticket/_composer.html", context, status, headers)


@agent_required
@require_POST
def ticket_comment(request: HttpRequest, reference: str) -> HttpResponse:
    """A public reply or an internal note, with files dropped on it (each through the services)."""
    ticket = get_ticket(request, reference)
    form = CommentForm(request.POST)
    files = request.FILES.getlist("files")
    if not form.is_valid():
        return _composer(request, ticket, form, 422)
    internal = form.cleaned_data["visibility"] == "internal"
    body = form.cleaned_data["body"]
    if not body.strip() and not files:
        form.add_error("body", "Write a message or attach a file.")
        return _composer(request, ticket, form, 422)
    limit = settings.SERVIO_ATTACHMENT_MAX_BYTES
    too_big = [f.name for f in files if f.size and f.size > limit]
    if too_big:
        form.add_error(
            "body", f"Too large (at most {limit // 1048576} MB each): {', '.join(too_big)}."
        )
        return _composer(request, ticket, form, 422)
    try:
        comment = None
        if body.strip():
            comment = ticket_services.comment_add(
                actor=request.user,
                ticket=ticket,
                body=body,
                internal=internal,
                source=Ticket.Source.AGENT,
            )
        for upload in files:
            ticket_services.attachment_add(
                actor=request.user,
                ticket=ticket,
                filename=upload.name or "file",
                content=upload.read(),
                comment=comment,
                internal=internal,
            )
    except DomainError as exc:
        add_errors(form, exc, aliases={"file": "body"})
        return _composer(request, ticket, form, 422)
    sent = "Internal note added." if internal else "Reply sent to the requester."
    if not is_htmx(request):
        messages.success(request, sent)
        return redirect("workspace:ticket", reference=ticket.reference)
    fresh = CommentForm(initial={"visibility": "internal" if internal else "public"})
    return _composer(
        request,
        ticket,
        fresh,
        headers={"HX-Trigger": json.dumps({"ticket-changed": {}})},
        sent=sent,
    )


# --- links and watchers -----------------------------------------------------------------------


def _side(request, ticket, status=200, error="", headers=None) -> HttpResponse:
    context = _side_context(request, ticket)
    context["side_error"] = error
    return render_part(request, PARTS["side"], context, status, headers)


def _side_result(request, ticket, call) -> HttpResponse:
    try:
        call()
    except DomainError as exc:
        if not is_htmx(request):
            messages.error(request, exc.detail)
            return redirect("workspace:ticket", reference=ticket.reference)
        return _side(request, ticket, 422, error=exc.detail)
    if not is_htmx(request):
        return redirect("workspace:ticket", reference=ticket.reference)
    return _side(request, ticket, headers={"HX-Trigger": "timeline-changed"})


@agent_required
@require_POST
def link_add(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket(request, reference)
    target = request.POST.get("target", "").strip().upper()[:20]
    kind = request.POST.get("type", "")
    return _side_result(
        request,
        ticket,
        lambda: ticket_services.link_add(
            actor=request.user, source=ticket, target=target, type=kind
        ),
    )


@agent_required
@require_POST
def link_remove(request: HttpRequest, reference: str, link_id: int) -> HttpResponse:
    ticket = get_ticket(request, reference)
    try:
        link = ticket_selectors.link_get(user=request.user, ticket=ticket, link_id=link_id)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    return _side_result(
        request, ticket, lambda: ticket_services.link_remove(actor=request.user, link=link)
    )


@agent_required
@require_POST
def watcher_add(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket(request, reference)
    email = request.POST.get("email", "").strip().lower()[:254]
    person = selectors.person_by_email(user=request.user, email=email)

    def call():
        if person is None:
            raise ValidationFailed.field("user", f"Nobody visible to you has the address {email}.")
        ticket_services.watcher_add(actor=request.user, ticket=ticket, user=person.pk)

    return _side_result(request, ticket, call)


@agent_required
@require_POST
def watcher_remove(request: HttpRequest, reference: str, user_id: int) -> HttpResponse:
    ticket = get_ticket(request, reference)
    watcher = ticket.watchers.filter(user_id=user_id).select_related("user").first()
    if watcher is None:
        raise Http404("That person is not watching this ticket.")
    return _side_result(
        request,
        ticket,
        lambda: ticket_services.watcher_remove(
            actor=request.user, ticket=ticket, user=watcher.user
        ),
    )


def attachment_url(ticket: Ticket, attachment_id: int) -> str:
    return reverse(
        "api:download_attachment",
        kwargs={"reference": ticket.reference, "attachment_id": attachment_id},
    )
