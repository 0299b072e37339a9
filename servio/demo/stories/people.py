"""The directory the stories draw from: organisations' people, teams, services."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Person:
    id: int
    email: str
    name: str
    org_id: int | None
    staff: bool = False

    @property
    def first(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email.split("@")[0]


@dataclass(eq=False)
class TeamInfo:
    id: int
    name: str
    members: list[Person]
    serves: set[int]
    lead: Person | None = None


@dataclass(eq=False)
class ServiceInfo:
    id: int
    name: str
    family: str
    owner: TeamInfo | None
    categories: list[int]
    weight: float = 1.0


@dataclass
class Directory:
    """Ids and names of the desk's organisations, people, teams, services and categories."""

    provider_org_id: int
    requesters_by_org: dict[int, list[Person]]
    org_weights: dict[int, float]
    teams: list[TeamInfo]
    first_line: TeamInfo
    services: list[ServiceInfo]
    matrix: dict[tuple[int, int], int]
    people: dict[int, Person] = field(default_factory=dict)

    def serves(self, team: TeamInfo, org_id: int) -> bool:
        """Whether the team may take this organisation's tickets (decision 16): the provider's
        go to any team, a customer's only to the teams that serve it."""
        return org_id == self.provider_org_id or org_id in team.serves

    def team_for(self, service: ServiceInfo, org_id: int) -> TeamInfo:
        owner = service.owner
        if owner is not None and owner.members and self.serves(owner, org_id):
            return owner
        return self.first_line
