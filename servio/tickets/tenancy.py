"""Who may be attached to a ticket: the one rule that keeps an organisation's tickets among the
people and teams who may already see that organisation (decision 16).

Attaching someone to a ticket puts it in front of them: a team's queue, an assignee's work, a
watcher's inbox, a notification. Visibility (decision 3) even follows the attachment. So every
attachment asks whether the person or team could see the ticket's *organisation* beforehand,
never whether they see the ticket (the attachment itself would make that true). Every service
that attaches someone, and every notification, calls this module; nothing else decides it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from servio.accounts import scope
from servio.accounts.models import Team, User
from servio.core.errors import ValidationFailed
from servio.tickets import refs

P = TypeVar("P", bound=User)


def organization_name(organization_id: int | None) -> str:
    found = refs.get("organization", organization_id) if organization_id else None
    return str(found) if found is not None else "this organisation"


def require_team(team: Team | None, organization_id: int, *, field: str = "team") -> None:
    """Refuse a team that does not serve the ticket's organisation (422 naming `field`)."""
    if team is None or scope.team_serves(team.pk, organization_id):
        return
    raise ValidationFailed.field(
        field,
        f"{team} does not serve {organization_name(organization_id)}, so it may not take its "
        "tickets. Choose a team that serves it, or ask an administrator to add it.",
    )


def require_person(
    person: User | None, organization_id: int, *, field: str, role: str | None = None
) -> None:
    """Refuse a person who may not see the ticket's organisation (422 naming `field`); `role`
    is what they were to become (assignee, watcher, ...), for the message."""
    if person is None or scope.sees_organization(person, organization_id):
        return
    raise ValidationFailed.field(
        field,
        f"{person} may not see tickets of {organization_name(organization_id)}, so they cannot "
        f"be its {role or field}. Choose someone who works with that organisation.",
    )


def require_same_organization(person: User, organization_id: int, *, field: str) -> None:
    """A ticket stays with the organisation it was logged for: a new requester must belong to
    it (moving it elsewhere would hand its whole conversation to another tenant's people)."""
    if person.organization_id == organization_id:
        return
    raise ValidationFailed.field(
        field,
        f"{person} belongs to {organization_name(person.organization_id)}, not to "
        f"{organization_name(organization_id)}; a ticket stays with its organisation. "
        "Log a new ticket for them instead.",
    )


def allowed_recipients(people: Iterable[P | None], organization_id: int) -> list[P]:
    """The people (of those given) who may be told about a ticket of this organisation."""
    return [p for p in people if p is not None and scope.sees_organization(p, organization_id)]


def reference_for(reader: User | None, ticket_id: int | None, *, otherwise: str) -> str:
    """A ticket's number if the reader may see that ticket, else `otherwise`: what is written
    to someone (a notification, a mail) names no record they may not see."""
    from servio.tickets.models import Ticket, is_visible_to

    ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
    if reader is None or ticket is None or not is_visible_to(ticket, reader):
        return otherwise
    return ticket.reference
