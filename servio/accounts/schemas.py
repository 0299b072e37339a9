"""API schemas for people, organisations, teams and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str
    kind: str
    email_domains: list[str]
    requesters_see_org_tickets: bool
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
