"""Roles and what each may do, declared once as data (see docs/decisions/0002-roles.md)."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    REQUESTER = "requester", "Requester"
    AGENT = "agent", "Agent"
    TEAM_LEAD = "team_lead", "Team lead"
    CHANGE_MANAGER = "change_manager", "Change manager"
    ADMIN = "admin", "Administrator"


# Capabilities are named actions; policies ask `has_capability(user, "...")`.
_AGENT = frozenset(
    {
        "workspace.use",
        "ticket.work",
        "ticket.internal_note",
        "ticket.assign",
        "ticket.priority_override",
        "directory.read",
    }
)
CAPABILITIES: dict[str, frozenset[str]] = {
    Role.REQUESTER: frozenset({"portal.use"}),
    Role.AGENT: _AGENT,
    Role.TEAM_LEAD: _AGENT | {"team.manage", "reports.read", "reports.agents", "views.share"},
    Role.CHANGE_MANAGER: _AGENT | {"change.approve", "change.schedule", "reports.read"},
    Role.ADMIN: _AGENT
    | {
        "team.manage",
        "reports.read",
        "reports.agents",
        "views.share",
        "change.approve",
        "change.schedule",
        "admin.site",
        "admin.configure",
        "audit.read",
        "security.read",
        "visibility.all",
    },
}

STAFF_ROLES = frozenset({Role.AGENT, Role.TEAM_LEAD, Role.CHANGE_MANAGER, Role.ADMIN})


def capabilities_of(role: str) -> frozenset[str]:
    return CAPABILITIES.get(role, frozenset())
