"""The self-service portal: report, follow, reply, attach, cancel, confirm or reopen, rate."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from servio.api.pagination import InvalidCursor, paginate
from servio.core.errors import DomainError, NotFound
from servio.portal import selectors
from servio.portal import services as portal_services
from servio.portal.forms import RatingForm, ReplyForm, TicketForm, TicketListForm
from servio.tickets import selectors as ticket_selectors
from servio.tickets import services as ticket_services
from servio.tickets.models import Service, Ticket
from servio.web.errors import add_errors, render_page
from servio.workspace.selectors import status_label, transitions_for

REQUESTER_ACTIONS = ("cancel", "close", "reopen")
PAGE_SIZE = 25


def _ticket(request: HttpRequest, reference: str) -> Ticket:
    try:
        return ticket_selectors.ticket_get(user=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _render(request: HttpRequest, template: str, context: dict, status: int = 200):
    """A page; a refusal (a form with errors, 422; an action refused, 409) is answered 200 with
    the real status in X-Servio-Status, as the desk answers HTMX: browsers log every 4xx page
    as a console error (docs/ui.md, decision 32). The security log reads the header."""
    return render_page(request, template, context, status)


def _too_big(files) -> list[str]:
    limit = settings.SERVIO_ATTACHMENT_MAX_BYTES
    return [f.name for f in files if f.size and f.size > limit]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What waits for the requester, then their tickets: open, closed or all, searchable."""
    user = request.user
    org = user.organization
    shares = bool(org and org.requesters_see_org_tickets)
    filters = TicketListForm(request.GET)
    scope = (
        "organization" if shares and filters.value("scope", "mine") == "organization" else "mine"
    )
    show, q = filters.value("show", "all"), filters.value("q", "")
    waiting, more_waiting = selectors.needs_action(user=user)
    tickets, order = selectors.my_tickets(user=user, scope=scope, show=show, q=q)
    try:
        page = paginate(tickets, order=order, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except InvalidCursor:  # a cursor of another list, or damaged: start at the first page
        page = paginate(tickets, order=order, cursor=None, limit=PAGE_SIZE)
    context = {
        "nav": "portal",
        "page": page,
        "scope": scope,
        "shares": shares,
        "show": show,
        "q": q,
        "filters": filters,
        "params": {"scope": scope, "show": show, **({"q": q} if q else {})},
        "waiting": waiting,
        "more_waiting": more_waiting,
    }
    return render(request, "portal/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Report an incident or ask for something: what, details, how bad, who, service, files."""
    kind = "request" if request.GET.get("kind") == "request" else "incident"
    services = list(Service.objects.filter(is_active=True).only("pk", "name")[:200])
    form = TicketForm(
        request.POST or None, kind=kind, services=services, answers=selectors.answers()
    )
    files = request.FILES.getlist("files")
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            if too_big := _too_big(files):
                form.add_error(None, f"These files are too large: {', '.join(too_big)}.")
            else:
                try:
                    ticket = portal_services.ticket_report(
                        actor=request.user,
                        kind=kind,
                        title=form.cleaned_data["title"],
                        description=form.cleaned_data["description"],
                        how_bad=form.cleaned_data.get("how_bad"),
                        affected=form.cleaned_data.get("affected"),
                        service=form.cleaned_data["service"],
                    )
                except DomainError as exc:
                    add_errors(form, exc)
                else:
                    _attach(request, ticket, files)
                    messages.success(
                        request,
                        f"Thank you — {ticket.reference} is logged. We will keep you posted here "
                        "and by email.",
                    )
                    return redirect("portal:ticket", reference=ticket.reference)
    context = {"nav": "ask" if kind == "request" else "report", "form": form, "kind": kind}
    return _render(request, "portal/ticket_new.html", context, status=status)


def _attach(request, ticket, files, comment=None) -> list[str]:
    """Store each file; a refused one is reported and does not stop the others."""
    problems = []
    for upload in files:
        try:
            ticket_services.attachment_add(
                actor=request.user,
                ticket=ticket,
                filename=upload.name or "file",
                content=upload.read(),
                comment=comment,
            )
        except DomainError as exc:
            problems.append(f"{upload.name}: {exc.detail}")
    for problem in problems:
        messages.error(request, problem)
    return problems


def _page(request, ticket, *, reply=None, rating=None, action_error="", status=200):
    user = request.user
    allowed = {t["name"]: t for t in transitions_for(ticket, user)}
    answers = [allowed[name] for name in ("close", "reopen") if name in allowed]
    survey = selectors.open_survey(user=user, ticket=ticket)
    context = {
        "nav": "portal",
        "ticket": ticket,
        "status_label": status_label(ticket),
        "next_step": selectors.next_step(user=user, ticket=ticket),
        "resolution": selectors.resolution(ticket),
        "handled_by": selectors.handled_by(ticket),
        "conversation": selectors.conversation(user=user, ticket=ticket),
        "reply": reply or ReplyForm(),
        "resolution_actions": answers,  # confirm or reopen, beside the resolution
        "cancel_action": allowed.get("cancel"),
        "survey": survey,
        "my_actions": selectors.my_actions(user=user, ticket=ticket, survey=survey),
        "my_rating": selectors.my_rating(user=user, ticket=ticket),
        "rating_form": rating or RatingForm(),
        "action_error": action_error,
        "can_reply": ticket.is_open or ticket.status == "resolved",
        "portal": True,
    }
    return _render(request, "portal/ticket.html", context, status=status)


@login_required
def ticket_page(request: HttpRequest, reference: str) -> HttpResponse:
    return _page(request, _ticket(request, reference))


@login_required
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = ReplyForm(request.POST)
    files = request.FILES.getlist("files")
    if not form.is_valid():
        return _page(request, ticket, reply=form, status=422)
    body = form.cleaned_data["body"]
    if not body.strip() and not files:
        form.add_error("body", "Write a reply or attach a file.")
        return _page(request, ticket, reply=form, status=422)
    if too_big := _too_big(files):
        form.add_error("body", f"These files are too large: {', '.join(too_big)}.")
        return _page(request, ticket, reply=form, status=422)
    comment = None
    if body.strip():
        try:
            comment = ticket_services.comment_add(
                actor=request.user, ticket=ticket, body=body, source=Ticket.Source.PORTAL
            )
        except DomainError as exc:
            add_errors(form, exc)
            return _page(request, ticket, reply=form, status=422)
    _attach(request, ticket, files, comment)
    messages.success(request, "Your reply is sent to the service desk.")
    return redirect("portal:ticket", reference=ticket.reference)


@login_required
@require_POST
def ticket_action(request: HttpRequest, reference: str, name: str) -> HttpResponse:
    """Cancel your own ticket, confirm a resolution (close) or reopen it."""
    ticket = _ticket(request, reference)
    if name not in REQUESTER_ACTIONS:
        raise Http404("No such action.")
    reason = request.POST.get("reason", "").strip()[:500]
    try:
        ticket = ticket_services.ticket_transition(
            actor=request.user,
            ticket=ticket,
            transition=name,
            values={"reason": reason} if reason else {},
        )
    except DomainError as exc:
        return _page(request, ticket, action_error=exc.detail, status=409)
    done = {
        "cancel": "Your ticket is cancelled.",
        "close": "Thank you for confirming — the ticket is closed.",
        "reopen": "The ticket is reopened; the desk will pick it up again.",
    }[name]
    if reason and name == "reopen":
        # The reopen itself went through; the reason is also in the history.
        with contextlib.suppress(DomainError):
            ticket_services.comment_add(
                actor=request.user, ticket=ticket, body=reason, source=Ticket.Source.PORTAL
            )
    messages.success(request, done)
    return redirect("portal:ticket", reference=ticket.reference)


@login_required
@require_POST
def ticket_rate(request: HttpRequest, reference: str) -> HttpResponse:
    """Answer the satisfaction survey of this ticket, in the portal (the emailed link works too)."""
    from servio.surveys import services as survey_services

    ticket = _ticket(request, reference)
    invitation = selectors.open_survey(user=request.user, ticket=ticket)
    if invitation is None:
        messages.info(request, "There is no survey waiting for an answer on this ticket.")
        return redirect("portal:ticket", reference=ticket.reference)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            survey_services.survey_answer(
                token=survey_services.make_token(invitation),
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Thank you for your rating!")
            return redirect("portal:ticket", reference=ticket.reference)
    return _page(request, ticket, rating=form, status=422)
