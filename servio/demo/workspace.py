"""The demo's canned responses (for every agent, for the service desk, personal) and a saved
view the service desk's lead shares with the team, written through the workspace services."""

from __future__ import annotations

from servio.accounts.models import Team, User
from servio.workspace import services
from servio.workspace.models import CannedResponse, SavedView

EVERYONE = [
    (
        "Acknowledge: we are on it",
        "Hello {{ requester.first_name }},\n\nthank you for reporting this. {{ ticket.number }} "
        "(“{{ ticket.title }}”) is with {{ team.name }}, and we aim to resolve it by "
        "{{ ticket.due }}.\n\nYou can follow it here: {{ ticket.portal_link }}\n\n"
        "Kind regards,\n{{ agent.name }}",
    ),
    (
        "Resolved: please confirm",
        "Hello {{ requester.first_name }},\n\nwe believe {{ ticket.number }} is resolved. "
        "Please **confirm** in the portal ({{ ticket.portal_link }}), or reply if it still "
        "happens, and we will pick it up again.\n\n{{ agent.name }}",
    ),
]
SERVICE_DESK = [
    (
        "Need more details",
        "Hello {{ requester.first_name }},\n\nto move on with {{ ticket.number }} we need:\n\n"
        "- the exact error message (a screenshot helps)\n- when it started\n"
        "- whether colleagues see it too\n\n{{ agent.name }}, {{ team.name }}",
    ),
    (
        "Password reset done",
        "Hello {{ requester.first_name }},\n\nyour password has been reset. You will be asked "
        "to choose a new one at the next sign-in.\n\n{{ agent.name }}",
    ),
]
PERSONAL = [
    (
        "Remote session",
        "Hello {{ requester.first_name }}, may I connect to your computer for a few minutes "
        "to look at {{ ticket.number }}? Reply with a time that suits you.",
    ),
]


def ensure_workspace(*, admin_email: str, agent_email: str) -> None:
    """Create what is missing: responses for everyone (the administrator's), for the Service
    Desk (its lead's), the demo agent's own, and the lead's shared view of urgent work."""
    admin = User.objects.get(email__iexact=admin_email)
    agent = User.objects.get(email__iexact=agent_email)
    desk = Team.objects.filter(name="Service Desk").select_related("lead").first()
    lead = desk.lead if desk is not None else None
    batches = [(admin, EVERYONE, {"for_everyone": True}), (agent, PERSONAL, {})]
    if lead is not None:
        batches.append((lead, SERVICE_DESK, {"team": desk}))
    for owner, items, audience in batches:
        for title, body in items:
            if not CannedResponse.objects.filter(owner=owner, title=title).exists():
                services.canned_response_create(actor=owner, title=title, body=body, **audience)
    if lead is not None and not SavedView.objects.filter(owner=lead).exists():
        services.saved_view_create(
            actor=lead,
            name="Urgent for the desk",
            queue="teams",
            filters={"priority": [1, 2], "sort": "priority"},
            team=desk,
        )
