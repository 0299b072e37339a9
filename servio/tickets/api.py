"""API: /tickets — list, create, read, update, transitions, conversation, links, watchers."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Annotated, Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, Form, Path, Query, Router, Status, UploadedFile

from servio.accounts.models import User
from servio.api.pagination import paginate
from servio.core import configcache, storage
from servio.core.errors import Conflict, NotFound, PayloadTooLarge, StaleVersion, ValidationFailed
from servio.core.files import served_content_type
from servio.core.text import render_markdown
from servio.tickets import refs, selectors, services, workflows
from servio.tickets.filters import TicketFilter
from servio.tickets.inputs import MAX_ID
from servio.tickets.models import Ticket, format_number
from servio.tickets.schemas import (
    AssignIn,
    AttachmentOut,
    CommentIn,
    CommentOut,
    CommentPage,
    HistoryPage,
    LinkIn,
    LinkOut,
    ParentIn,
    TicketCreateIn,
    TicketOut,
    TicketPage,
    TicketPatchIn,
    TransitionIn,
    WatcherIn,
)

router = Router(tags=["tickets"])
ETAG_RE = re.compile(r'^\s*(?:W/)?"?([0-9]{1,12})"?\s*$')
DbId = Annotated[int, Path(ge=1, le=MAX_ID)]


# --- representation ---------------------------------------------------------------------------


def person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name(), "email": user.email}


def ref(obj) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        **{name: getattr(ticket, name) for name in selectors.SUMMARY_PLAIN},
        "requester": person(ticket.requester),
        "organization": ref(ticket.organization),
        "team": ref(ticket.team),
        "assignee": person(ticket.assignee),
        "service": ref(ticket.service),
    }


def summaries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`ticket_summary` of each row of `selectors.ticket_summaries` (the same output)."""
    known = refs.tables() if rows else {}
    return [summary_of_row(row, known) for row in rows]


def summary_of_row(row: dict[str, Any], known: dict[str, dict[int, Any]]) -> dict[str, Any]:
    def named(relation: str) -> dict[str, Any] | None:
        pk = row[f"{relation}_id"]
        return None if pk is None else ref(known[relation].get(pk))

    def someone(prefix: str) -> dict[str, Any] | None:
        pk = row[f"{prefix}_id"]
        if pk is None:
            return None
        email = row[f"{prefix}__email"]
        return {"id": pk, "name": row[f"{prefix}__full_name"] or email, "email": email}

    return {
        "id": row["id"],
        "reference": format_number(row["kind"], row["number"]),
        **{name: row[name] for name in selectors.SUMMARY_PLAIN},
        "requester": someone("requester"),
        "organization": named("organization"),
        "team": named("team"),
        "assignee": someone("assignee"),
        "service": named("service"),
    }


def ticket_detail(ticket: Ticket, user) -> dict[str, Any]:
    body = ticket_summary(ticket)
    body.update(
        description=ticket.description,
        description_html=render_markdown(ticket.description),
        hold_reason=ticket.hold_reason,
        resolution_code=ticket.resolution_code,
        resolution_notes=ticket.resolution_notes,
        priority_overridden=ticket.priority_overridden,
        category={"id": ticket.category.pk, "path": ticket.category.path}
        if ticket.category
        else None,
        source=ticket.source,
        parent=_parent_reference(ticket, user),
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        reassignment_count=ticket.reassignment_count,
        reopen_count=ticket.reopen_count,
        allowed_transitions=[
            {
                "name": t.name,
                "label": t.label,
                "target": t.target,
                "required": list(t.required),
                "choices": {k: list(v) for k, v in t.choices.items()},
            }
            for t in services.allowed_transitions(ticket, user)
        ],
        sla=_sla_clocks(ticket, user),
    )
    return body


def _parent_reference(ticket: Ticket, user) -> str | None:
    """The parent's number, HIDDEN when the user may not see it (another organisation's)."""
    if ticket.parent_id is None:
        return None
    parent = selectors.visible_parent(user=user, ticket=ticket)
    return parent.reference if parent is not None else selectors.HIDDEN


def _sla_clocks(ticket: Ticket, user) -> list[dict[str, Any]]:
    """The ticket's SLA clocks the user may see (the SLA app builds on tickets: import late)."""
    from servio.sla.selectors import clock_view, ticket_clocks

    return [clock_view(clock) for clock in ticket_clocks(user=user, ticket=ticket)]


def etag(ticket: Ticket) -> str:
    return f'"{ticket.version}"'


def with_etag(response: HttpResponse | Any, ticket: Ticket):
    response["ETag"] = etag(ticket)
    return response


def optional_version(request: HttpRequest, body_version: int | None) -> int | None:
    """The version the client based a transition or assignment on, if it sent one."""
    if request.headers.get("If-Match") or body_version is not None:
        return version_from(request, body_version)
    return None


def version_from(request: HttpRequest, body_version: int | None) -> int:
    """PATCH must say which version it edits: If-Match "N" or a `version` field."""
    header = request.headers.get("If-Match")
    if header:
        match = ETAG_RE.match(header)
        if not match:
            raise ValidationFailed.field("If-Match", 'must be the ETag you received, e.g. "3".')
        return int(match.group(1))
    if body_version is None:
        raise ValidationFailed.field(
            "version", "Send the version you edited (If-Match header or 'version' field)."
        )
    return body_version


@contextmanager
def current_on_conflict(user):
    """A stale update answers 409 with the ticket as it is now, so the client can merge."""
    try:
        yield
    except StaleVersion as exc:
        raise Conflict(
            exc.detail,
            current_version=exc.current.version,
            current=_jsonable(ticket_detail(selectors.ticket_reload(exc.current), user)),
        ) from exc


def _jsonable(body: dict[str, Any]) -> dict[str, Any]:
    return TicketOut(**body).model_dump(mode="json")


# --- tickets ----------------------------------------------------------------------------------


@router.get("/tickets", response=TicketPage)
def list_tickets(
    request: HttpRequest,
    filters: Query[TicketFilter],
    cursor: str | None = None,
    limit: int | None = None,
):
    """Tickets you may see, filtered and sorted; pass `next_cursor` back as `cursor`."""
    qs = selectors.ticket_summaries(user=request.auth, filters=filters)
    page = selectors.ticket_page(qs, filters=filters, cursor=cursor, limit=limit)
    return {"items": summaries(page.items), "next_cursor": page.next_cursor}


@router.post("/tickets", response={201: TicketOut})
def create_ticket(request: HttpRequest, response: HttpResponse, payload: TicketCreateIn):
    """Log a ticket. Requesters log for themselves; agents may set team, assignee, priority."""
    user = request.auth
    with configcache.pinned():
        if hasattr(request, "config_token"):
            # Logging a ticket changes no configuration: the token read with the API token
            # serves (`configcache.preload`).
            configcache.preload(request.config_token)
        ticket = services.ticket_create(
            actor=user,
            kind=payload.kind,
            title=payload.title,
            description=payload.description,
            requester=payload.requester,
            service=payload.service,
            category=payload.category,
            impact=payload.impact,
            urgency=payload.urgency,
            priority=payload.priority,
            team=payload.team,
            assignee=payload.assignee,
            source=Ticket.Source.API,
            is_major=payload.is_major,
            parent=payload.parent,
        )
        # The service returns the ticket as written, its related records attached: no reload.
        body = ticket_detail(ticket, user)
    response["Location"] = f"/api/v1/tickets/{ticket.reference}"
    with_etag(response, ticket)
    return Status(201, body)


@router.get("/tickets/{reference}", response=TicketOut)
def get_ticket(request: HttpRequest, response: HttpResponse, reference: str):
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    with_etag(response, ticket)
    return ticket_detail(ticket, request.auth)


@router.patch("/tickets/{reference}", response=TicketOut)
def update_ticket(
    request: HttpRequest, response: HttpResponse, reference: str, payload: TicketPatchIn
):
    """Change fields. Send the version you edited (If-Match: "N"); a stale one answers 409."""
    user = request.auth
    ticket = selectors.ticket_get(user=user, reference=reference)
    changes = payload.model_dump(exclude_unset=True)
    version = version_from(request, changes.pop("version", None))
    with current_on_conflict(user):
        ticket = services.ticket_update(actor=user, ticket=ticket, version=version, changes=changes)
    ticket = selectors.ticket_reload(ticket)
    with_etag(response, ticket)
    return ticket_detail(ticket, user)


@router.post("/tickets/{reference}/transitions", response=TicketOut)
def transition_ticket(
    request: HttpRequest, response: HttpResponse, reference: str, payload: TransitionIn
):
    """Take a workflow transition; GET the ticket to see which ones you may take now."""
    user = request.auth
    ticket = selectors.ticket_get(user=user, reference=reference)
    values = payload.model_dump(exclude={"transition", "version"}, exclude_none=True)
    version = optional_version(request, payload.version)
    with current_on_conflict(user):
        ticket = services.ticket_transition(
            actor=user,
            ticket=ticket,
            transition=payload.transition,
            values=values,
            version=version,
        )
    ticket = selectors.ticket_reload(ticket)
    with_etag(response, ticket)
    return ticket_detail(ticket, user)


@router.post("/tickets/{reference}/assignment", response=TicketOut)
def assign_ticket(request: HttpRequest, response: HttpResponse, reference: str, payload: AssignIn):
    user = request.auth
    ticket = selectors.ticket_get(user=user, reference=reference)
    version = optional_version(request, payload.version)
    with current_on_conflict(user):
        ticket = services.ticket_assign(
            actor=user,
            ticket=ticket,
            team=payload.team,
            assignee=payload.assignee,
            version=version,
        )
    ticket = selectors.ticket_reload(ticket)
    with_etag(response, ticket)
    return ticket_detail(ticket, user)


@router.put("/tickets/{reference}/parent", response=TicketOut)
def set_parent(request: HttpRequest, response: HttpResponse, reference: str, payload: ParentIn):
    """Group an incident under a major incident (`parent: null` detaches it)."""
    user = request.auth
    ticket = selectors.ticket_get(user=user, reference=reference)
    with current_on_conflict(user):
        ticket = services.ticket_set_parent(
            actor=user,
            ticket=ticket,
            parent=payload.parent,
            version=optional_version(request, payload.version),
        )
    ticket = selectors.ticket_reload(ticket)
    with_etag(response, ticket)
    return ticket_detail(ticket, user)


@router.get("/tickets/{reference}/children", response=TicketPage)
def list_children(
    request: HttpRequest, reference: str, cursor: str | None = None, limit: int | None = None
):
    user = request.auth
    ticket = selectors.ticket_get(user=user, reference=reference)
    qs = selectors.ticket_summaries(user=user, filters=TicketFilter(parent=ticket.pk))
    page = paginate(qs, order=["number", "id"], cursor=cursor, limit=limit)
    return {"items": summaries(page.items), "next_cursor": page.next_cursor}


# --- conversation -----------------------------------------------------------------------------


def comment_out(comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "author": person(comment.author),
        "body": comment.body,
        "body_html": render_markdown(comment.body),
        "internal": comment.is_internal,
        "source": comment.source,
        "created_at": comment.created_at,
    }


@router.get("/tickets/{reference}/comments", response=CommentPage)
def list_comments(
    request: HttpRequest, reference: str, cursor: str | None = None, limit: int | None = None
):
    """Public replies, and for staff internal notes too, oldest first."""
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    qs = selectors.comment_list(user=request.auth, ticket=ticket)
    page = paginate(qs, order=["created_at", "id"], cursor=cursor, limit=limit)
    return {"items": [comment_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/tickets/{reference}/comments", response={201: CommentOut})
def add_comment(request: HttpRequest, reference: str, payload: CommentIn):
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    comment = services.comment_add(
        actor=request.auth,
        ticket=ticket,
        body=payload.body,
        internal=payload.internal,
        source=Ticket.Source.API,
    )
    return Status(201, comment_out(comment))


def attachment_out(attachment, ticket: Ticket) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "internal": attachment.is_internal,
        "comment_id": attachment.comment_id,
        "uploaded_by": person(attachment.uploaded_by),
        "created_at": attachment.created_at,
        "download_url": reverse(
            "api:download_attachment",
            kwargs={"reference": ticket.reference, "attachment_id": attachment.pk},
        ),
    }


@router.get("/tickets/{reference}/attachments", response=list[AttachmentOut])
def list_attachments(request: HttpRequest, reference: str):
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    return [
        attachment_out(a, ticket)
        for a in selectors.attachment_list(user=request.auth, ticket=ticket)[:500]
    ]


@router.post("/tickets/{reference}/attachments", response={201: AttachmentOut})
def upload_attachment(
    request: HttpRequest,
    reference: str,
    file: File[UploadedFile],
    internal: Form[bool] = False,
):
    """Upload one file (multipart/form-data, field `file`)."""
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    # Refuse before reading: the service checks again, but only after the bytes are in memory.
    if file.size and file.size > settings.SERVIO_ATTACHMENT_MAX_BYTES:
        raise PayloadTooLarge(
            f"The file is {file.size / 1048576:.1f} MB; files may be at most "
            f"{settings.SERVIO_ATTACHMENT_MAX_BYTES / 1048576:.0f} MB."
        )
    attachment = services.attachment_add(
        actor=request.auth,
        ticket=ticket,
        filename=file.name or "",
        content=file.read(),
        internal=internal,
    )
    return Status(201, attachment_out(attachment, ticket))


@router.get(
    "/tickets/{reference}/attachments/{attachment_id}",
    url_name="download_attachment",
    response={200: None},
)
def download_attachment(request: HttpRequest, reference: str, attachment_id: DbId):
    """The file itself, always as a download with a safe content type."""
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    attachment = selectors.attachment_get(
        user=request.auth, ticket=ticket, attachment_id=attachment_id
    )
    try:
        stored = attachment.file.open("rb")
    except FileNotFoundError as exc:  # the row outlived its file (restore, manual cleanup)
        raise NotFound(
            f"The file {attachment.filename} is no longer stored; ask the service desk."
        ) from exc
    except OSError as exc:
        raise storage.failure(exc, reading=True) from exc
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=attachment.filename,
        content_type=served_content_type(attachment.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _sealed_seq(event) -> int | None:
    """The event's number in the audit chain, or None until the sealer has chained it."""
    seal = getattr(event, "seal", None)
    return seal.seq if seal is not None else None


@router.get("/tickets/{reference}/history", response=HistoryPage)
def ticket_history(
    request: HttpRequest, reference: str, cursor: str | None = None, limit: int | None = None
):
    """Every recorded change to the ticket, oldest first."""
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    qs = selectors.history(user=request.auth, ticket=ticket)
    page = paginate(qs.select_related("seal"), order=["id"], cursor=cursor, limit=limit)
    changes = selectors.history_changes(user=request.auth, events=page.items)
    items = [
        {
            "id": e.pk,
            "seq": _sealed_seq(e),
            "at": e.at,
            "actor": e.actor_repr,
            "action": e.action,
            "changes": changes[e.pk],
        }
        for e in page.items
    ]
    return {"items": items, "next_cursor": page.next_cursor}


# --- links and watchers -----------------------------------------------------------------------


def _links(ticket: Ticket, user) -> list[dict[str, Any]]:
    """Links in both directions, only to tickets the user may also see."""
    return [
        {
            "id": link.pk,
            "type": link.type,
            "direction": direction,
            "ticket": other.reference,
            "title": other.title,
            "status": other.status,
        }
        for link, other, direction in selectors.links(user=user, ticket=ticket)
    ]


@router.get("/tickets/{reference}/links", response=list[LinkOut])
def list_links(request: HttpRequest, reference: str):
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    return _links(ticket, request.auth)


@router.post("/tickets/{reference}/links", response={201: list[LinkOut]})
def add_link(request: HttpRequest, reference: str, payload: LinkIn):
    user = request.auth
    ticket = selectors.ticket_get(user=user, reference=reference)
    services.link_add(actor=user, source=ticket, target=payload.target, type=payload.type)
    return Status(201, _links(ticket, user))


@router.delete("/tickets/{reference}/links/{link_id}", response={204: None})
def remove_link(request: HttpRequest, reference: str, link_id: DbId):
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    link = selectors.link_get(user=request.auth, ticket=ticket, link_id=link_id)
    services.link_remove(actor=request.auth, link=link)
    return Status(204, None)


@router.get("/tickets/{reference}/watchers", response=list[dict])
def list_watchers(request: HttpRequest, reference: str):
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    return [person(w.user) for w in ticket.watchers.select_related("user").order_by("pk")]


@router.post("/tickets/{reference}/watchers", response={201: list[dict]})
def add_watcher(request: HttpRequest, reference: str, payload: WatcherIn):
    user = request.auth
    ticket = selectors.ticket_get(user=user, reference=reference)
    services.watcher_add(actor=user, ticket=ticket, user=payload.user)
    return Status(
        201, [person(w.user) for w in ticket.watchers.select_related("user").order_by("pk")]
    )


@router.delete("/tickets/{reference}/watchers/{user_id}", response={204: None})
def remove_watcher(request: HttpRequest, reference: str, user_id: DbId):
    ticket = selectors.ticket_get(user=request.auth, reference=reference)
    watcher = ticket.watchers.filter(user_id=user_id).select_related("user").first()
    if watcher is None:
        raise NotFound("That person is not watching this ticket.")
    services.watcher_remove(actor=request.auth, ticket=ticket, user=watcher.user)
    return Status(204, None)


@router.get("/workflows/{kind}", response=dict)
def describe_workflow(request: HttpRequest, kind: str):
    """The state machine of a ticket kind, as data."""
    try:
        return workflows.get(kind).describe()
    except LookupError as exc:
        raise NotFound(f"No workflow for kind '{kind}'.") from exc
