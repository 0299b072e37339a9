"""API schemas for tickets and what hangs off them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import ConfigDict

from servio.api.schemas import Out
from servio.sla.schemas import ClockOut
from servio.tickets.inputs import MAX_ID

# A record id from a client; larger values cannot exist and would overflow the database driver.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
TicketNumber = Annotated[str, Field(max_length=20, description="e.g. INC-000123")]


class StrictIn(Schema):
    """Input that refuses unknown fields: a misspelt or read-only field is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


class Ref(Out):
    id: int
    name: str


class PersonRef(Out):
    id: int
    name: str
    email: str


class CategoryRef(Out):
    id: int
    path: str


class TransitionOut(Out):
    name: str
    label: str
    target: str
    required: list[str]
    choices: dict[str, list[str]]


class TicketSummary(Out):
    id: int
    reference: str
    kind: str
    title: str
    status: str
    priority: int
    impact: int
    urgency: int
    is_major: bool
    requester: PersonRef
    organization: Ref
    team: Ref | None
    assignee: PersonRef | None
    service: Ref | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class TicketOut(TicketSummary):
    description: str
    description_html: str
    hold_reason: str
    resolution_code: str
    resolution_notes: str
    priority_overridden: bool
    category: CategoryRef | None
    source: str
    parent: str | None
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reassignment_count: int
    reopen_count: int
    allowed_transitions: list[TransitionOut]
    sla: list[ClockOut] = Field(default_factory=list, description="SLA clocks on the ticket")


class TicketPage(Out):
    items: list[TicketSummary]
    next_cursor: str | None


class TicketCreateIn(StrictIn):
    kind: str = "incident"
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=100_000)
    requester: Id | None = None
    service: Id | None = None
    category: Id | None = None
    impact: int = Field(3, ge=1, le=3)
    urgency: int = Field(3, ge=1, le=3)
    priority: int | None = Field(None, ge=1, le=5)
    team: Id | None = None
    assignee: Id | None = None
    is_major: bool = False
    parent: TicketNumber | None = Field(None, description="a major incident, e.g. INC-000123")


class TicketPatchIn(StrictIn):
    """Only the fields sent change. Status moves through /transitions."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=100_000)
    service: Id | None = None
    category: Id | None = None
    impact: int | None = Field(None, ge=1, le=3)
    urgency: int | None = Field(None, ge=1, le=3)
    priority: int | None = Field(None, ge=1, le=5, description="null returns to the matrix")
    is_major: bool | None = None
    requester: Id | None = None
    team: Id | None = None
    assignee: Id | None = None
    parent: TicketNumber | None = Field(None, description="a major incident; null detaches")
    version: int | None = Field(None, description="the version you edited (or send If-Match)")


class TransitionIn(StrictIn):
    transition: str = Field(..., min_length=1, max_length=40)
    hold_reason: str | None = None
    resolution_code: str | None = None
    resolution_notes: str | None = Field(None, max_length=100_000)
    reason: str | None = Field(None, max_length=500)
    version: int | None = None


class AssignIn(StrictIn):
    team: Id | None = None
    assignee: Id | None = None
    version: int | None = None


class CommentIn(StrictIn):
    body: str = Field(..., min_length=1, max_length=100_000)
    internal: bool = False


class CommentOut(Schema):
    id: int
    author: PersonRef
    body: str
    body_html: str
    internal: bool
    source: str
    created_at: dt.datetime


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    internal: bool
    comment_id: int | None
    uploaded_by: PersonRef
    created_at: dt.datetime
    download_url: str


class LinkIn(StrictIn):
    target: TicketNumber = Field(..., description="reference of the other ticket")
    type: str


class LinkOut(Schema):
    id: int
    type: str
    direction: str
    ticket: str
    title: str
    status: str


class WatcherIn(StrictIn):
    user: Id


class ParentIn(StrictIn):
    parent: TicketNumber | None = None
    version: int | None = None


class HistoryEntry(Schema):
    id: int  # the event's id: the order of the ticket's history
    seq: int | None  # its number in the audit chain; None for a few seconds, until it is sealed
    at: dt.datetime
    actor: str
    action: str
    changes: dict[str, Any]


class HistoryPage(Schema):
    items: list[HistoryEntry]
    next_cursor: str | None
