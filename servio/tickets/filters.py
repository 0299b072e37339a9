"""The one filter definition for ticket lists, used by the API and the agent views."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from django.db.models import Q, QuerySet
from ninja import Field, Schema

from servio.api.types import UtcDateTime
from servio.core.errors import ValidationFailed
from servio.tickets import search, workflows
from servio.tickets.inputs import MAX_ID
from servio.tickets.models import Category

# An id in a filter: larger values cannot exist and would overflow the database driver.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
_ASSIGNEE_ID = re.compile(r"^[0-9]{1,18}$")

SORTS: dict[str, list[str]] = {
    "priority": ["priority", "created_at", "id"],  # most urgent first, then oldest
    "-priority": ["-priority", "-created_at", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
    "number": ["number", "id"],
    "-number": ["-number", "-id"],
    # Breaching soonest: tickets with a counting SLA clock, the one falling due first on top.
    "breaching": ["sla_due_at", "id"],
}
# Sorts read in the order of an index led by their first key (t_created_id, t_updated_id): a
# word search looks for its page among the next tickets in that order, SEARCH_WINDOW_PER_ROW
# for each row of the page (20,400 for a page of 50), before it reads every match
# (`paginate`'s window, decision 28).
WINDOWED_SORTS = frozenset({"created", "-created", "updated", "-updated"})
SEARCH_WINDOW_PER_ROW = 400
SortKey = Literal[
    "priority",
    "-priority",
    "created",
    "-created",
    "updated",
    "-updated",
    "number",
    "-number",
    "breaching",
]


class TicketFilter(Schema):
    """Every filter a ticket list understands; all are optional and combine with AND."""

    kind: list[str] | None = None
    status: list[str] | None = None
    open: bool | None = Field(None, description="only open (true) or only finished (false)")
    priority: list[int] | None = None
    team: list[Id] | None = None
    assignee: str | None = Field(None, description="a user id, 'me' or 'none'")
    requester: Id | None = None
    organization: list[Id] | None = None
    service: list[Id] | None = None
    category: Id | None = Field(None, description="this category and everything below it")
    is_major: bool | None = None
    parent: Id | None = None
    created_after: UtcDateTime | None = None
    created_before: UtcDateTime | None = None
    updated_after: UtcDateTime | None = None
    updated_before: UtcDateTime | None = None
    q: str | None = Field(None, max_length=200, description="ticket number or words")
    sort: SortKey = "-created"

    def apply(self, queryset: QuerySet, user) -> QuerySet:
        """Narrow `queryset` (already scoped to what `user` may see) by every filter given."""
        qs = queryset
        simple = {
            "kind__in": self.kind,
            "status__in": self.status,
            "priority__in": self.priority,
            "team_id__in": self.team,
            "requester_id": self.requester,
            "organization_id__in": self.organization,
            "service_id__in": self.service,
            "is_major": self.is_major,
            "parent_id": self.parent,
            "created_at__gte": self.created_after,
            "created_at__lt": self.created_before,
            "updated_at__gte": self.updated_after,
            "updated_at__lt": self.updated_before,
        }
        qs = qs.filter(**{k: v for k, v in simple.items() if v is not None})
        if self.open is True:
            qs = qs.exclude(status__in=workflows.closed_statuses())
        elif self.open is False:
            qs = qs.filter(status__in=workflows.closed_statuses())
        if self.assignee is not None:
            if self.assignee == "me":
                qs = qs.filter(assignee=user)
            elif self.assignee == "none":
                qs = qs.filter(assignee__isnull=True)
            elif _ASSIGNEE_ID.match(self.assignee):
                qs = qs.filter(assignee_id=int(self.assignee))
            else:
                raise ValidationFailed.field("assignee", "must be a user id, 'me' or 'none'.")
        if self.category is not None:
            root = Category.objects.filter(pk=self.category).first()
            if root is None:  # matches nothing; the sort below still needs its annotation
                qs = qs.none()
            else:
                qs = qs.filter(Q(category=root) | Q(category__path__startswith=f"{root.path} > "))
        if self.q:
            qs = search.search(qs, self.q)
        if self.sort == "breaching":
            from servio.sla.selectors import next_due_at  # the SLA app builds on tickets

            qs = qs.annotate(sla_due_at=next_due_at()).filter(sla_due_at__isnull=False)
        return qs

    def window(self, size: int) -> int | None:
        """`paginate`'s window for a page of `size`: a word search in a time index's order."""
        if self.sort in WINDOWED_SORTS and search.by_words(self.q):
            return SEARCH_WINDOW_PER_ROW * (size + 1)
        return None

    def ordering(self) -> list[str]:
        """Order-by fields for the chosen sort; the last one is unique, as cursors need."""
        return SORTS[self.sort]
