"""Reads of what agents keep for reuse: saved views and canned responses."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from servio.workspace import policies
from servio.workspace.models import CannedResponse, SavedView


def saved_views(*, user) -> QuerySet[SavedView]:
    """The agent's own views and those shared with their teams."""
    return SavedView.objects.visible_to(user).select_related("team", "owner")


@dataclass
class SavedViewLists:
    """The agent's own views in their chosen order, then those others shared with them."""

    own: list[SavedView]
    shared: list[SavedView]

    def __iter__(self):
        return iter([*self.own, *self.shared])

    def __contains__(self, view) -> bool:
        return view in self.own or view in self.shared


def saved_view_lists(*, user) -> SavedViewLists:
    """Own views by position, then the ones shared with the agent's teams by team and name;
    each carries `can_change` (whether this agent may rename, re-share or delete it)."""
    views = list(saved_views(user=user))
    for view in views:
        view.can_change = policies.may_change_view(user, view)  # type: ignore[attr-defined]
    own = [v for v in views if v.owner_id == user.pk]
    shared = sorted(
        (v for v in views if v.owner_id != user.pk),
        key=lambda v: (v.team.name if v.team else "", v.name.lower(), v.pk),
    )
    return SavedViewLists(own, shared)


def saved_view_get(*, user, view_id: int) -> SavedView | None:
    return saved_views(user=user).filter(pk=view_id).first()


def canned_responses(*, user) -> QuerySet[CannedResponse]:
    """The canned responses an agent may use: their own, their teams' and everyone's."""
    return CannedResponse.objects.visible_to(user).select_related("team", "owner")


def canned_response_get(*, user, response_id: int) -> CannedResponse | None:
    return canned_responses(user=user).filter(pk=response_id).first()


def canned_response_list(*, user) -> list[CannedResponse]:
    """The responses with `can_change` set for the page that lists and edits them."""
    found = list(canned_responses(user=user))
    for response in found:
        response.can_change = policies.may_change_response(user, response)  # type: ignore[attr-defined]
    return found
