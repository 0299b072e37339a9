"""What agents keep in their workspace: saved queue views and canned responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from servio.accounts import scope
from servio.accounts.models import Team


def _mine_or_my_teams(user) -> Q:
    team_ids = scope.team_ids(user)
    return Q(owner=user) | Q(team_id__in=team_ids)


class SavedViewQuerySet(models.QuerySet["SavedView"]):
    def visible_to(self, user) -> SavedViewQuerySet:
        """Staff see their own views and those shared with one of their teams."""
        if not user.is_authenticated or not user.is_active or not user.is_staff_member:
            return self.none()
        return self.filter(_mine_or_my_teams(user))


class SavedView(models.Model):
    """A named set of queue filters (TicketFilter fields), private or shared with a team."""

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        help_text="Shared with this team; empty keeps it private.",
    )
    queue = models.CharField(max_length=20, default="all")
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class CannedResponseQuerySet(models.QuerySet["CannedResponse"]):
    def visible_to(self, user) -> CannedResponseQuerySet:
        """Staff see their personal responses and those of their teams."""
        if not user.is_authenticated or not user.is_active or not user.is_staff_member:
            return self.none()
        return self.filter(_mine_or_my_teams(user))


class CannedResponse(models.Model):
    """A reusable reply text (a pre-set reply), personal or for a whole team."""

    title = models.CharField(max_length=120)
    body = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="canned_responses"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="canned_responses"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CannedResponseQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title
