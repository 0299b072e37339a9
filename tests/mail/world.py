"""The desk the corpus is written to: the people and tickets its replies refer to.

Each corpus reply names a ticket (subject tag or In-Reply-To); this builds those tickets with the
numbers the messages carry, their requesters, watchers and agents, so that intake outcomes are
the interesting ones: a comment by the requester, by a watcher and by an agent of the team, a
reply held because its sender takes no part in the ticket, a follow-up to a closed ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from servio.accounts.models import Organization, User
from servio.accounts.roles import Role
from servio.mail.models import ThreadMessage
from servio.tickets import numbering
from servio.tickets.models import Kind, Ticket, Watcher
from tests.factories import OrganizationFactory, Personas, UserFactory


@dataclass
class World:
    tickets: dict[str, Ticket]
    people: dict[str, User]


def _org(name: str, domain: str) -> Organization:
    return OrganizationFactory(name=name, slug=name.lower(), email_domains=[domain])


def _ticket(kind: str, number: int, requester: User, *, team=None, status="in_progress") -> Ticket:
    now = timezone.now()
    ticket = Ticket.objects.create(
        kind=kind,
        number=number,
        title=f"Corpus ticket {number}",
        requester=requester,
        organization=requester.organization,
        team=team,
        status=status,
        created_at=now,
        updated_at=now,
        resolved_at=now if status in ("resolved", "closed") else None,
        closed_at=now if status == "closed" else None,
    )
    numbering.ensure_at_least(kind, number)
    return ticket


def build(p: Personas) -> World:
    corp = _org("Corp", "corp.example.com")
    kunde = _org("Kunde", "kunde.example.de")
    firma = _org("Firma", "firma.example.de")
    partner = _org("Partner", "partner.example.org")
    exemple = _org("Exemple", "exemple.fr")

    def person(email: str, org: Organization, role: str = Role.REQUESTER) -> User:
        return UserFactory(email=email, organization=org, role=role, full_name=email.split("@")[0])

    people = {
        "thomas": person("thomas.meier@corp.example.com", corp),
        "jane": person("jane.doe@gmail.com", p.acme),
        "lukas": person("lukas.schmidt@icloud.com", p.acme),
        "juergen": person("juergen.mueller@firma.example.de", firma),
        "celine": person("celine.lefevre@exemple.fr", exemple),
        "sofia": person("sofia.rossi@partner.example.org", partner),
        "weber": person("k.weber@kunde.example.de", kunde),
        "weber_boss": person("boss@kunde.example.de", kunde),
        "carla": person("carla.mendes@example.com", p.acme),
        "oliver": person("oliver@mail.example.net", p.provider, Role.AGENT),
    }
    p.team_desk.members.add(people["oliver"])
    desk = p.team_desk
    desk.serves.add(corp, kunde, firma, partner, exemple)  # its tickets are the desk's
    tickets = {
        "INC-000123": _ticket(Kind.INCIDENT, 123, people["thomas"], team=desk),
        "INC-000777": _ticket(Kind.INCIDENT, 777, people["jane"], team=desk),
        "TSK-000321": _ticket(Kind.TASK, 321, people["lukas"], team=desk),
        "INC-000555": _ticket(Kind.INCIDENT, 555, people["juergen"], team=desk, status="closed"),
        "INC-000556": _ticket(Kind.INCIDENT, 556, people["celine"], team=desk),
        "INC-000888": _ticket(Kind.INCIDENT, 888, p.requester_acme, team=desk),
        "REQ-004711": _ticket(Kind.REQUEST, 4711, p.requester_acme, team=desk),
        "REQ-005000": _ticket(Kind.REQUEST, 5000, people["carla"], team=desk),
        "CHG-000042": _ticket(Kind.CHANGE, 42, people["weber_boss"], team=desk),
        "PRB-000009": _ticket(Kind.PROBLEM, 9, p.requester_acme, team=desk),
    }
    Watcher.objects.create(ticket=tickets["CHG-000042"], user=people["weber"])
    # Message-IDs "we sent" earlier, which the corpus replies answer.
    for message_id, reference in (
        ("inc-000123.1@servicedesk.example.com", "INC-000123"),
        ("ack.req-005000@servicedesk.example.com", "REQ-005000"),
    ):
        ThreadMessage.objects.create(
            message_id=message_id,
            ticket=tickets[reference],
            direction=ThreadMessage.Direction.OUT,
        )
    return World(tickets, people)
