"""Organisations, teams, services and categories by id, kept per process for ticket reads.

A page of tickets names each one's organisation, team and service. Joining those tables made
the planner's work on the queue query cost more than running it; they change rarely, so each
process keeps them in a configuration cache (servio.core.configcache, exact after any write in
any process) and the page is filled from there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from servio.accounts.models import Organization, Team
from servio.core import configcache
from servio.tickets.models import Category, Service, Ticket

RELATIONS = ("organization", "team", "service")


def _load() -> dict[str, dict[int, object]]:
    return {
        "organization": {o.pk: o for o in Organization.objects.all()},
        "team": {t.pk: t for t in Team.objects.all()},
        "service": {s.pk: s for s in Service.objects.all()},
        "category": {c.pk: c for c in Category.objects.all()},
    }


_REFS = configcache.Cached(
    "organisations, teams, services and categories by id",
    _load,
    watched=(Organization, Team, Service, Category),
)


def tables() -> dict[str, dict[int, object]]:
    """Every cached record by relation ("organization", ...) and id (read once per page); the
    records are shared by every thread of the process: read their own fields only."""
    return _REFS.get()


def get(relation: str, pk: int):
    """The organisation, team, service or category with this id (None: there is none): a copy,
    so that what a caller loads through it (e.g. a team's lead) stays with the caller."""
    found = _REFS.get()[relation].get(pk)
    return copy.copy(found) if found is not None else None


def attach(tickets: Iterable[Ticket]) -> None:
    """Set each ticket's organisation, team and service from the cache (the views only read
    them); one missing from it is left to load itself."""
    tickets = list(tickets)
    if not tickets:
        return
    refs = _REFS.get()
    for ticket in tickets:
        for relation in RELATIONS:
            pk = getattr(ticket, f"{relation}_id")
            found = refs[relation].get(pk) if pk is not None else None
            if found is not None:
                setattr(ticket, relation, copy.copy(found))  # see get()
