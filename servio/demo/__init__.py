"""Demo data: a believable service desk for `make run` and for trying Servio out."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from servio.accounts.models import Organization, User
from servio.accounts.roles import Role
from servio.accounts.services import organization_create, team_create, user_create

DEMO_PASSWORD = "servio-demo"  # noqa: S105 - published demo login
ADMIN_EMAIL = "admin@example.com"
AGENT_EMAIL = "agent@example.com"
REQUESTER_EMAIL = "requester@acme.example"


@dataclass
class DemoSummary:
    organizations: int
    users: int
    teams: int


def demo_loaded() -> bool:
    return User.objects.filter(email=ADMIN_EMAIL).exists()


@transaction.atomic
def load_demo() -> DemoSummary:
    """Create the provider, customers, teams and the demo logins (idempotent by admin email)."""
    provider = organization_create(
        actor=None,
        name="Servio IT Services",
        kind=Organization.Kind.PROVIDER,
        email_domains=["example.com"],
    )
    acme = organization_create(
        actor=None,
        name="Acme Corporation",
        email_domains=["acme.example"],
        requesters_see_org_tickets=True,
    )
    globex = organization_create(
        actor=None, name="Globex Industries", email_domains=["globex.example"]
    )
    initech = organization_create(actor=None, name="Initech", email_domains=["initech.example"])
    admin = user_create(
        actor=None,
        email=ADMIN_EMAIL,
        full_name="Ada Admin",
        role=Role.ADMIN,
        organization=provider,
        password=DEMO_PASSWORD,
    )
    agent = user_create(
        actor=None,
        email=AGENT_EMAIL,
        full_name="Sam Agent",
        role=Role.AGENT,
        organization=provider,
        password=DEMO_PASSWORD,
    )
    lead = user_create(
        actor=None,
        email="lead@example.com",
        full_name="Lee Lead",
        role=Role.TEAM_LEAD,
        organization=provider,
        password=DEMO_PASSWORD,
    )
    user_create(
        actor=None,
        email=REQUESTER_EMAIL,
        full_name="Rita Requester",
        role=Role.REQUESTER,
        organization=acme,
        password=DEMO_PASSWORD,
    )
    team_create(
        actor=admin,
        name="Service Desk",
        lead=lead,
        members=[agent, lead],
        serves=[acme, globex, initech, provider],
    )
    return DemoSummary(
        organizations=Organization.objects.count(), users=User.objects.count(), teams=1
    )
