"""Who may use the agent workspace: one rule for its pages (`views.common.agent_required`) and
its writes (`services`), so a page and the service behind it cannot disagree.

The same rules decide what the pages offer (a team to share with, a response for everyone):
a page shows only what the service behind it would accept (issue 14).
"""

from __future__ import annotations

from django.db.models import QuerySet

from servio.accounts.models import Team
from servio.core.errors import PermissionDenied


def require_workspace(user) -> None:
    """PermissionDenied for anyone but service desk staff (`workspace.use`)."""
    if not (user.is_authenticated and user.has_capability("workspace.use")):
        raise PermissionDenied(
            "Only service desk staff may use the workspace; requesters use the portal."
        )


def may_share(user) -> bool:
    """Team leads and administrators share views and responses with a team (`views.share`)."""
    return bool(user.is_authenticated and user.has_capability("views.share"))


def may_write_global(user) -> bool:
    """Administrators keep the canned responses every agent sees (`admin.configure`)."""
    return bool(user.is_authenticated and user.has_capability("admin.configure"))


def shareable_teams(user) -> QuerySet[Team]:
    """The teams this person may share with: their own (administrators: any active team);
    none for those who may not share."""
    if not may_share(user):
        return Team.objects.none()
    teams = Team.objects.filter(is_active=True).order_by("name")
    if user.has_capability("visibility.all"):
        return teams
    return teams.filter(members=user)


def may_manage_shared(user, team: Team | None) -> bool:
    """Whether `user` may change or delete what someone else shared with `team`: the team's
    lead, or an administrator."""
    if team is None or not may_share(user):
        return False
    return user.has_capability("visibility.all") or team.lead_id == user.pk


def may_change_view(user, view) -> bool:
    """Rename, re-share, refilter or delete a saved view: its owner, or a lead of its team."""
    return view.owner_id == user.pk or may_manage_shared(user, view.team)


def may_change_response(user, response) -> bool:
    """Edit or delete a canned response: an everyone-response by administrators; a personal
    or team one by its owner, its team's lead or an administrator."""
    if response.is_global:
        return may_write_global(user)
    return response.owner_id == user.pk or may_manage_shared(user, response.team)
