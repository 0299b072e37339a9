"""The desk's organisations, people, teams, services and categories: created through the
services (so each has its audit entry), and read back as the `Directory` the stories draw from."""

from __future__ import annotations

import random
from collections import defaultdict

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import slugify

from servio.accounts.models import Organization, Team, User
from servio.accounts.roles import STAFF_ROLES, Role
from servio.accounts.services import (
    USER_FIELDS,
    organization_create,
    team_create,
    user_create,
)
from servio.audit.services import audit_record, snapshot
from servio.demo import content
from servio.demo.audit_chain import append_events
from servio.demo.stories import Directory, Person, ServiceInfo, TeamInfo
from servio.demo.tables import reserve_ids
from servio.tickets.models import Category, PriorityRule, Service

ADMIN = ("Ada Admin", "admin@example.com")
REQUESTER = ("Rita Requester", "requester@acme.example")


def _email(name: str, domain: str) -> str:
    return f"{slugify(name).replace('-', '.')}@{domain}"


def _org(name: str, **kwargs) -> Organization:
    org = Organization.objects.filter(name__iexact=name).first()
    zone = content.ORGANISATION_ZONES.get(name, "")
    return org or organization_create(actor=None, name=name, time_zone=zone, **kwargs)


def _user(actor, email: str, name: str, role: str, org: Organization, password=None) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_create(
            actor=actor,
            email=email,
            full_name=name,
            role=role,
            organization=org,
            password=password,
            time_zone=content.PERSON_ZONES.get(name, ""),
        )
    return user


@transaction.atomic
def ensure_directory(*, password: str | None, requesters: int = 200, seed: int = 7) -> User:
    """Create what is missing of the demo desk; returns the administrator.

    `password` is given to every demo person (hashed once and shared: they are published demo
    logins); None leaves the generated people without a usable password.
    """
    provider = Organization.objects.filter(kind=Organization.Kind.PROVIDER).first()
    if provider is None:
        name, domains = content.PROVIDER
        provider = organization_create(
            actor=None,
            name=name,
            kind=Organization.Kind.PROVIDER,
            email_domains=domains,
            time_zone=content.ORGANISATION_ZONES.get(name, ""),
        )
    customers = {}
    for name, domain, shares, _ in content.CUSTOMERS:
        customers[name] = _org(name, email_domains=[domain], requesters_see_org_tickets=shares)
    created: list[User] = []
    if not User.objects.filter(email__iexact=ADMIN[1]).exists():
        created.append(_user(None, ADMIN[1], ADMIN[0], Role.ADMIN, provider))
    admin = User.objects.get(email__iexact=ADMIN[1])
    for spec in content.TEAMS:
        people = []
        for full_name, email, role in spec["people"]:
            email = email or _email(full_name, "example.com")
            existing = User.objects.filter(email__iexact=email).exists()
            person = _user(admin, email, full_name, role, provider, None)
            if not existing:
                created.append(person)
            people.append(person)
        if not Team.objects.filter(name__iexact=spec["name"]).exists():
            serves = [provider if o == "provider" else customers[o] for o in spec["serves"]]
            team_create(
                actor=admin,
                name=spec["name"],
                lead=people[0],
                members=people,
                serves=serves,
                email=spec["email"],
            )
    created += _requesters(admin, customers, requesters, seed)
    if password and created:
        # One hash for every demo login (they share a published password); setting a password
        # is not an audited profile change.
        encoded = make_password(password)
        User.objects.filter(pk__in=[u.pk for u in created]).update(password=encoded)
    _catalogue(admin)
    return admin


def _requesters(admin, customers, total: int, seed: int) -> list[User]:
    """People of the customer organisations: the first are created through `user_create`;
    at generator scale the rest are bulk-written with the same audit entries."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    acme = customers["Acme Corporation"]
    created = []
    if not User.objects.filter(email__iexact=REQUESTER[1]).exists():
        created.append(_user(admin, REQUESTER[1], REQUESTER[0], Role.REQUESTER, acme))
    have = User.objects.filter(role=Role.REQUESTER, organization__in=customers.values()).count()
    missing = total - have
    if missing <= 0:
        return created
    taken = set(
        User.objects.filter(organization__in=customers.values()).values_list("email", flat=True)
    )
    shares = [(customers[name], share) for name, _, _, share in content.CUSTOMERS]
    domains = {customers[name].pk: domain for name, domain, _, _ in content.CUSTOMERS}
    new: list[User] = []
    for i in range(missing):
        org = shares[-1][0]
        roll, acc = (i + 0.5) / missing, 0.0
        for candidate, share in shares:
            acc += share
            if roll < acc:
                org = candidate
                break
        first, last = rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES)
        email = _email(f"{first} {last}", domains[org.pk])
        n = 2
        while email in taken:
            email = _email(f"{first} {last} {n}", domains[org.pk])
            n += 1
        taken.add(email)
        new.append(
            User(
                email=email,
                full_name=f"{first} {last}",
                role=Role.REQUESTER,
                organization=org,
                password=make_password(None),
            )
        )
    if len(new) <= 300:  # demo scale: the service, one by one
        for user in new:
            created.append(
                user_create(
                    actor=admin,
                    email=user.email,
                    full_name=user.full_name,
                    role=Role.REQUESTER,
                    organization=user.organization,
                )
            )
        return created
    # Generator scale: the same rows and audit entries `user_create` writes, in bulk.
    for user, pk in zip(new, reserve_ids(User, len(new)), strict=True):
        user.pk = user.id = pk
    User.objects.bulk_create(new, batch_size=2000)
    append_events(
        (
            user.date_joined,
            admin.pk,
            admin.email,
            "user.created",
            "accounts.user",
            str(user.pk),
            str(user),
            {k: [None, v] for k, v in snapshot(user, USER_FIELDS).items()},
        )
        for user in new
    )
    return created + new


def _catalogue(admin) -> None:
    """Services and the category tree (admins maintain them; no service function exists yet)."""
    teams = {t.name: t for t in Team.objects.all()}
    for name, owner, _, _, _ in content.SERVICES:
        if not Service.objects.filter(name=name).exists():
            service = Service.objects.create(
                name=name,
                description=f"{name}, run by {owner}.",
                owner_team=teams.get(owner),
            )
            audit_record(
                actor=admin,
                action="service.created",
                target=service,
                changes={"name": [None, name], "owner_team": [None, service.owner_team_id]},
            )
    for root, leaves in content.CATEGORIES.items():
        parent = Category.objects.filter(parent=None, name=root).first()
        if parent is None:
            parent = Category.objects.create(name=root)
            audit_record(actor=admin, action="category.created", target=parent)
        for leaf in leaves:
            if not Category.objects.filter(parent=parent, name=leaf).exists():
                node = Category.objects.create(name=leaf, parent=parent)
                audit_record(actor=admin, action="category.created", target=node)


# --- reading it back --------------------------------------------------------------------------


def load_directory() -> Directory:
    """What the stories need, read from the database (whoever created it)."""
    provider = Organization.objects.filter(kind=Organization.Kind.PROVIDER).first()
    if provider is None:
        raise LookupError("No provider organisation: run `servio demo` or create one first.")
    people: dict[int, Person] = {}

    def person(u) -> Person:
        if u.pk not in people:
            people[u.pk] = Person(
                u.pk, u.email, u.full_name, u.organization_id, u.role in STAFF_ROLES
            )
        return people[u.pk]

    teams = []
    for team in Team.objects.filter(is_active=True).prefetch_related("members", "serves"):
        members = [person(u) for u in team.members.all() if u.is_active and u.role in STAFF_ROLES]
        if not members:
            continue
        lead = people.get(team.lead_id) if team.lead_id else None
        serves = {o.pk for o in team.serves.all()}
        teams.append(TeamInfo(team.pk, team.name, members, serves, lead))
    if not teams:
        raise LookupError("No team with active agents: run `servio demo` first.")
    first_line = max(teams, key=lambda t: (len(t.serves), t.name == "Service Desk"))
    requesters: dict[int, list[Person]] = defaultdict(list)
    for u in User.objects.filter(
        role=Role.REQUESTER, is_active=True, organization__isnull=False
    ).order_by("pk"):
        requesters[u.organization_id].append(person(u))
    if not requesters:
        raise LookupError("No requesters: run `servio demo` first.")
    shares = {
        o.pk: share
        for o in Organization.objects.all()
        for name, _, _, share in content.CUSTOMERS
        if o.name == name
    }
    org_weights = {
        org_id: shares.get(org_id, 0.1) for org_id in requesters if org_id in first_line.serves
    } or {org_id: 1.0 for org_id in requesters}
    categories = {
        c.name: c.pk for c in Category.objects.filter(is_active=True, parent__isnull=False)
    }
    by_name = {name: (family, weight) for name, _, family, _, weight in content.SERVICES}
    team_by_id = {t.id: t for t in teams}
    services = []
    for s in Service.objects.filter(is_active=True):
        family, weight = by_name.get(s.name, ("software", 1))
        cats = [categories[c] for c in content.FAMILY_CATEGORIES[family] if c in categories]
        services.append(
            ServiceInfo(s.pk, s.name, family, team_by_id.get(s.owner_team_id), cats, weight)
        )
    if not services:
        raise LookupError("No services: run `servio demo` first.")
    matrix = {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}
    for impact in (1, 2, 3):
        for urgency in (1, 2, 3):
            matrix.setdefault((impact, urgency), min(5, impact + urgency - 1))
    return Directory(
        provider_org_id=provider.pk,
        requesters_by_org=dict(requesters),
        org_weights=org_weights,
        teams=teams,
        first_line=first_line,
        services=services,
        matrix=matrix,
        people=people,
    )
