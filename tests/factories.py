"""Factories and the named personas every test shares."""

from __future__ import annotations

from dataclasses import dataclass

import factory

from servio.accounts.models import Organization, Team, User
from servio.accounts.roles import Role

PASSWORD = "correct horse battery staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    kind = Organization.Kind.CUSTOMER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.REQUESTER
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


@dataclass
class Personas:
    provider: Organization
    acme: Organization
    globex: Organization
    requester_acme: User
    colleague_acme: User
    requester_globex: User
    agent_desk: User  # Service Desk team, serves Acme and the provider
    agent_network: User  # Network team, serves Globex
    lead_desk: User
    change_manager: User
    admin: User
    team_desk: Team
    team_network: Team


def make_personas() -> Personas:
    provider = OrganizationFactory(
        name="Provider IT",
        slug="provider",
        kind=Organization.Kind.PROVIDER,
        email_domains=["provider.example"],
    )
    acme = OrganizationFactory(name="Acme", slug="acme", email_domains=["acme.example"])
    globex = OrganizationFactory(name="Globex", slug="globex", email_domains=["globex.example"])

    def person(email, role, org, name):
        return UserFactory(email=email, role=role, organization=org, full_name=name)

    p = Personas(
        provider=provider,
        acme=acme,
        globex=globex,
        requester_acme=person("rita@acme.example", Role.REQUESTER, acme, "Rita Acme"),
        colleague_acme=person("carl@acme.example", Role.REQUESTER, acme, "Carl Acme"),
        requester_globex=person("gina@globex.example", Role.REQUESTER, globex, "Gina Globex"),
        agent_desk=person("dana@provider.example", Role.AGENT, provider, "Dana Desk"),
        agent_network=person("nick@provider.example", Role.AGENT, provider, "Nick Network"),
        lead_desk=person("lena@provider.example", Role.TEAM_LEAD, provider, "Lena Lead"),
        change_manager=person("cm@provider.example", Role.CHANGE_MANAGER, provider, "Chris CM"),
        admin=person("admin@provider.example", Role.ADMIN, provider, "Ada Admin"),
        team_desk=TeamFactory(name="Service Desk", slug="service-desk"),
        team_network=TeamFactory(name="Network", slug="network"),
    )
    p.team_desk.lead = p.lead_desk
    p.team_desk.save()
    p.team_desk.members.set([p.agent_desk, p.lead_desk])
    p.team_desk.serves.set([acme, provider])
    p.team_network.members.set([p.agent_network, p.change_manager])
    p.team_network.serves.set([globex])
    return p
