"""Which teams each agent is in and which organisations they serve, for scoped reads.

Every query an agent makes is scoped by these (`Ticket.objects.visible_to`); they change
rarely, so each process keeps them in a configuration cache (servio.core.configcache): one
token read instead of two queries per request, and exact after any change in any process.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from servio.accounts.models import Organization, Team
from servio.core import configcache


@dataclass(frozen=True)
class Membership:
    teams_of: dict[int, tuple[int, ...]]  # user id -> ids of the teams they are a member of
    served_by: dict[int, tuple[int, ...]]  # team id -> ids of the organisations it serves
    providers: tuple[int, ...]  # ids of the provider organisations (every agent sees them)


def _load() -> Membership:
    teams_of: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in Team.members.through.objects.values_list("user_id", "team_id"):
        teams_of[user_id].append(team_id)
    served_by: dict[int, list[int]] = defaultdict(list)
    for team_id, org_id in Team.serves.through.objects.values_list("team_id", "organization_id"):
        served_by[team_id].append(org_id)
    providers = Organization.objects.filter(kind=Organization.Kind.PROVIDER)
    return Membership(
        teams_of={k: tuple(sorted(v)) for k, v in teams_of.items()},
        served_by={k: tuple(sorted(v)) for k, v in served_by.items()},
        providers=tuple(providers.order_by("pk").values_list("pk", flat=True)),
    )


_MEMBERSHIP = configcache.Cached(
    "team membership",
    _load,
    watched=(Team.members.through, Team.serves.through, Organization),
)


def team_ids(user) -> list[int]:
    """The teams the user is a member of."""
    return list(_MEMBERSHIP.get().teams_of.get(user.pk, ()))


def staff_scope(user) -> tuple[list[int], list[int]]:
    """An agent's teams, and the organisations their tickets may belong to: the provider and
    those their teams serve (decision 0003)."""
    membership = _MEMBERSHIP.get()
    teams = membership.teams_of.get(user.pk, ())
    organizations = set(membership.providers)
    for team in teams:
        organizations.update(membership.served_by.get(team, ()))
    return list(teams), sorted(organizations)


def sees_organization(user, organization_id: int | None) -> bool:
    """Whether this person may see the tickets of this organisation *by who they are*, before
    anything is attached to them: admins every one; staff the provider and the organisations
    their teams serve; anyone else only their own organisation (decision 16).

    Attaching a person to a ticket (assignee, watcher, approver) or mailing them about it must
    ask this, not whether they see the ticket: the attachment itself would grant that."""
    if user is None or not user.is_active or organization_id is None:
        return False
    if user.has_capability("visibility.all"):
        return True
    if user.is_staff_member:
        return organization_id in staff_scope(user)[1]
    return user.organization_id == organization_id


def team_serves(team_id: int | None, organization_id: int | None) -> bool:
    """Whether a team may take this organisation's tickets: the provider's own tickets go to
    any team, a customer's only to the teams that serve that customer."""
    if team_id is None or organization_id is None:
        return False
    membership = _MEMBERSHIP.get()
    return organization_id in membership.providers or organization_id in membership.served_by.get(
        team_id, ()
    )
