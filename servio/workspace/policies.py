"""Who may use the agent workspace: one rule for its pages (`views.common.agent_required`) and
its writes (`services`), so a page and the service behind it cannot disagree."""

from __future__ import annotations

from servio.core.errors import PermissionDenied


def require_workspace(user) -> None:
    """PermissionDenied for anyone but service desk staff (`workspace.use`)."""
    if not (user.is_authenticated and user.has_capability("workspace.use")):
        raise PermissionDenied(
            "Only service desk staff may use the workspace; requesters use the portal."
        )
