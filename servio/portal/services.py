"""Writes of the self-service portal: a ticket reported in the requester's words."""

from __future__ import annotations

from servio.accounts.models import User
from servio.core import configcache
from servio.core.errors import ValidationFailed
from servio.portal import selectors
from servio.portal.models import PortalAnswer
from servio.tickets import services as ticket_services
from servio.tickets.models import Kind, Level, Service, Ticket


def answer_level(question: str, code: str | None) -> int:
    """The urgency or impact an answer of the report form stands for; a question the admins
    took off the form (no active answer) counts as low. ValidationFailed names the field."""
    offered = selectors.answers().get(question, [])
    if not offered:
        return Level.LOW
    for answer in offered:
        if answer.code == code:
            return answer.level
    raise ValidationFailed.field(question, "Choose one of the answers offered.")


@configcache.pinned()  # the answers, the priority matrix and the SLA share one token read
def ticket_report(
    *,
    actor: User,
    kind: str = Kind.INCIDENT,
    title: str,
    description: str = "",
    how_bad: str | None,
    affected: str | None,
    service: Service | int | None = None,
) -> Ticket:
    """Log a ticket from the portal: "How bad is it?" gives its urgency and "Who is affected?"
    its impact (`PortalAnswer`, edited in the admin); the matrix gives the priority."""
    question = PortalAnswer.Question
    errors: dict[str, str | list[str]] = {}
    levels: dict[str, int] = {}
    for asked, given in ((question.HOW_BAD, how_bad), (question.AFFECTED, affected)):
        try:
            levels[asked] = answer_level(asked, given)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return ticket_services.ticket_create(
        actor=actor,
        kind=kind,
        title=title,
        description=description,
        urgency=levels[question.HOW_BAD],
        impact=levels[question.AFFECTED],
        service=service,
        source=Ticket.Source.PORTAL,
    )
