"""Checking the values a ticket service receives: each failure names the field and the reason.

Services accept either model instances (callers inside the system) or the raw ids and ticket
numbers a client sent; lookups are scoped by what the acting user may see, so a hidden record
reads as "no such" rather than "forbidden".
"""

from __future__ import annotations

from typing import Any

from django.db import models

from servio.accounts.models import Team, User
from servio.core.errors import ValidationFailed
from servio.tickets import refs
from servio.tickets.models import Category, Level, Priority, Service, Ticket, parse_number

MAX_TITLE = 200
MAX_TEXT = 100_000
MAX_ID = 2**63 - 1  # a larger id cannot exist and would overflow the database driver
# Worked out once: a choices class builds its `values` list on every access.
LEVELS = tuple(Level.values)
PRIORITIES = tuple(Priority.values)


def level(name: str, value: Any) -> int:
    """Impact or urgency: 1 (high) to 3 (low)."""
    if isinstance(value, bool) or value not in LEVELS:
        raise ValidationFailed.field(name, "must be 1 (high), 2 (medium) or 3 (low).")
    return int(value)


def priority(value: Any) -> int:
    if isinstance(value, bool) or value not in PRIORITIES:
        raise ValidationFailed.field("priority", "must be 1 (critical) to 5 (planning).")
    return int(value)


def text(name: str, value: Any, *, required: bool, limit: int) -> str:
    """Trimmed text within `limit` characters; `required` refuses empty or blank text."""
    if value is not None and not isinstance(value, str):
        raise ValidationFailed.field(name, "must be text.")
    result = (value or "").strip()
    if "\x00" in result:  # PostgreSQL cannot store it; no honest text contains it
        raise ValidationFailed.field(name, "must not contain NUL characters.")
    if required and not result:
        raise ValidationFailed.field(name, "is required.")
    if len(result) > limit:
        raise ValidationFailed.field(name, f"must be at most {limit} characters.")
    return result


def _pk(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValidationFailed.field(name, "must be the id of an existing record.")
    return value


def lookup(queryset: models.QuerySet, name: str, value: Any, what: str):
    """The record of `queryset` with this id (or the instance itself), else 422 naming `name`."""
    if isinstance(value, queryset.model):
        return value
    obj = queryset.filter(pk=_pk(name, value)).first()
    if obj is None:
        raise ValidationFailed.field(name, f"No {what} with id {value}.")
    return obj


def active(model: type[Service] | type[Category], name: str, value: Any):
    """An active service or category (or None to clear it)."""
    if value is None:
        return None
    what = model._meta.verbose_name
    obj = (
        value
        if isinstance(value, model)
        else refs.get(str(model._meta.model_name), _pk(name, value))
    )
    if obj is None:
        raise ValidationFailed.field(name, f"No active {what} with id {value}.")
    if not obj.is_active:
        raise ValidationFailed.field(name, f"{obj} is no longer active; choose another.")
    return obj


def team(value: Team | int | None, name: str = "team") -> Team | None:
    if value is None:
        return None
    return lookup(Team.objects.all(), name, value, "team")


def person(value: User | int | None, name: str, actor: User | None) -> User | None:
    """A person the actor may see (the system sees everyone)."""
    if value is None:
        return None
    people = User.objects.all() if actor is None else User.objects.visible_to(actor)
    return lookup(people, name, value, "person visible to you")


def ticket(value: Ticket | str | None, name: str, actor: User | None) -> Ticket | None:
    """A ticket by its number (INC-000123) that the actor may see."""
    if value is None or isinstance(value, Ticket):
        return value
    parsed = parse_number(value) if isinstance(value, str) else None
    tickets = Ticket.objects.all() if actor is None else Ticket.objects.visible_to(actor)
    found = tickets.filter(kind=parsed[0], number=parsed[1]).first() if parsed else None
    if found is None:
        raise ValidationFailed.field(name, f"No ticket {value} is visible to you.")
    return found


def check_assignment(team: Team | None, assignee: User | None) -> None:
    """The assignee must be an active agent of the (active) team the ticket goes to."""
    if team is not None and not team.is_active:
        raise ValidationFailed.field("team", f"The team {team} is inactive.")
    if assignee is None:
        return
    if team is None:
        raise ValidationFailed.field("team", "Choose the team the assignee works in.")
    if not assignee.is_active or not assignee.is_staff_member:
        raise ValidationFailed.field("assignee", "The assignee must be an active agent.")
    if not team.members.filter(pk=assignee.pk).exists():
        raise ValidationFailed.field("assignee", f"{assignee} is not a member of the team {team}.")


def check_parent(*, parent: Ticket, child: Ticket | None, child_kind: str) -> None:
    """Only an open major incident takes children, and only incidents that are not major."""
    if child_kind != "incident" or parent.kind != "incident":
        raise ValidationFailed.field("parent", "Only incidents can be children of an incident.")
    if child is not None and child.pk == parent.pk:
        raise ValidationFailed.field("parent", "An incident cannot be its own parent.")
    if not parent.is_major:
        raise ValidationFailed.field("parent", f"{parent.reference} is not a major incident.")
    if not parent.is_open:
        raise ValidationFailed.field("parent", f"{parent.reference} is already {parent.status}.")
    if child is not None and child.is_major:
        raise ValidationFailed.field(
            "parent", "A major incident cannot be the child of another incident."
        )
