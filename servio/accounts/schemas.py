"""API schemas for people, organisations, teams and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, ConfigDict

TIME_ZONE_IN = (
    "An IANA time zone name (Europe/Berlin, America/New_York, UTC); empty for the default. "
    "An unknown name is refused with 422 naming `time_zone`."
)


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str
    kind: str
    email_domains: list[str]
    requesters_see_org_tickets: bool
    time_zone: str = Field(
        ..., description="The zone its people read times in; empty: the installation's."
    )
    is_active: bool


class OrganizationRef(Schema):
    id: int
    name: str


class TeamRef(Schema):
    id: int
    name: str


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    organization: OrganizationRef | None
    is_active: bool
    time_zone: str = Field(..., description="Their own choice; empty: the organisation's.")
    effective_time_zone: str = Field(
        ...,
        description="The zone pages and emails show them times in: their own, else their "
        "organisation's, else the installation's. API times are always UTC.",
    )


class MeOut(UserOut):
    capabilities: list[str]
    teams: list[TeamRef]


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    email: str
    lead_id: int | None
    member_ids: list[int]
    serves_ids: list[int]
    is_active: bool


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    scope: Literal["read", "write"] = Field(
        "read", description="'read' may only use GET; 'write' may also change things."
    )
    # Aware only: a naive time would be ambiguous (and cannot be compared with now()).
    expires_at: AwareDatetime | None = Field(None, description="Leave empty for no expiry.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The secret. It is shown only once; store it safely.")


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class TokenPage(Schema):
    items: list[TokenOut]
    next_cursor: str | None


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class TimeZoneIn(Schema):
    """Set one time zone (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    time_zone: str = Field(..., max_length=64, description=TIME_ZONE_IN)
