"""A ticket as it is being lived: its row, comments and audit events, and its steps."""

from __future__ import annotations

from datetime import datetime, timedelta

from servio.demo import content
from servio.demo.stories.odds import DAY
from servio.demo.stories.people import Person, TeamInfo


class Plan:
    """One ticket row plus its comments and audit events, before ids and numbers are known."""

    __slots__ = (
        "assignee_id",
        "category_id",
        "closed_at",
        "comments",
        "created_at",
        "description",
        "events",
        "first_response_at",
        "hold_reason",
        "id",
        "impact",
        "is_major",
        "kind",
        "number",
        "organization_id",
        "parent",
        "priority",
        "priority_overridden",
        "reassignment_count",
        "reopen_count",
        "requester_id",
        "resolution_code",
        "resolution_notes",
        "resolved_at",
        "service_id",
        "source",
        "status",
        "team_id",
        "title",
        "updated_at",
        "urgency",
        "version",
    )

    def __init__(self) -> None:
        self.id = None
        self.number = None
        self.parent = None
        self.comments: list[list] = []  # [at, author_id, body, is_internal, source]
        # (at, actor Person | None, action, changes, fixup); fixup names an id known later:
        # ("comment", index into comments) or ("parent", Plan), or is AUTO
        self.events: list[tuple] = []

    @property
    def parent_id(self):
        return self.parent.id if self.parent is not None else None


TRACKED = (
    "title", "description", "service_id", "category_id", "impact", "urgency", "priority",
    "priority_overridden", "status", "hold_reason", "resolution_code", "resolution_notes",
    "team_id", "assignee_id", "is_major", "parent_id", "requester_id", "organization_id",
)  # fmt: skip
# Audit diffs name fields as the services' TRACKED_FIELDS do (foreign keys without "_id").
AUDIT_NAME = {name: name.removesuffix("_id") for name in TRACKED}


class Story:
    """Applies service operations to a Plan, recording what `tickets.services` would record."""

    __slots__ = ("plan", "reopen_window", "requester")

    def __init__(self, plan: Plan, requester, reopen_window: float = 7 * DAY) -> None:
        self.plan = plan
        self.requester = requester
        self.reopen_window = reopen_window

    def _event(self, at, actor, action, changes, fixup=None) -> None:
        p = self.plan
        p.events.append((at, actor, action, changes, fixup))
        p.updated_at = at

    def created(self, at: datetime, actor: Person | None) -> None:
        p = self.plan
        p.created_at = p.updated_at = at
        p.version = 1
        changes = {}
        for name in TRACKED:
            value = p.parent_id if name == "parent_id" else getattr(p, name)
            if value:
                changes[AUDIT_NAME[name]] = [None, value]
        self._event(at, actor, "ticket.created", changes)

    def assign(self, at, actor, team: TeamInfo | None, assignee: Person | None) -> None:
        """ticket_assign: counts a reassignment when a set team or assignee is replaced."""
        p = self.plan
        team_id = team.id if team else None
        assignee_id = assignee.id if assignee else None
        if p.team_id == team_id and p.assignee_id == assignee_id:
            return
        if (p.team_id and team_id is not None and p.team_id != team_id) or (
            p.assignee_id and assignee_id is not None and p.assignee_id != assignee_id
        ):
            p.reassignment_count += 1
        changes = {}
        if p.team_id != team_id:
            changes["team"] = [p.team_id, team_id]
        if p.assignee_id != assignee_id:
            changes["assignee"] = [p.assignee_id, assignee_id]
        p.team_id, p.assignee_id = team_id, assignee_id
        p.version += 1
        self._event(at, actor, "ticket.assigned", changes)

    def set_levels(self, at, actor, impact: int, urgency: int, matrix) -> None:
        """ticket_update of impact/urgency: the matrix recomputes the priority."""
        p = self.plan
        changes = {}
        if impact != p.impact:
            changes["impact"] = [p.impact, impact]
        if urgency != p.urgency:
            changes["urgency"] = [p.urgency, urgency]
        priority = matrix[(impact, urgency)]
        if priority != p.priority:
            changes["priority"] = [p.priority, priority]
        if not changes:
            return
        p.impact, p.urgency, p.priority = impact, urgency, priority
        p.version += 1
        self._event(at, actor, "ticket.updated", changes)

    def set_parent(self, at, actor, parent: Plan) -> None:
        p = self.plan
        p.parent = parent
        p.version += 1
        self._event(at, actor, "ticket.parent_set", {"parent": [None, None]}, ("parent", parent))

    def transition(self, at, actor, name: str, *, auto: bool = False, **values) -> bool:
        """_apply_transition: the same field changes and diff as the service. A transition the
        workflow does not allow from the current state is skipped (returns False). `auto`
        marks one another service call made (a reply's resume or reopen, the major cascade)."""
        p = self.plan
        old = p.status
        if old not in transition_sources(p.kind, name):
            return False
        changes = {}
        target = TARGETS[name]
        p.status = target
        changes["status"] = [old, target]
        if target == "on_hold":
            changes["hold_reason"] = [p.hold_reason, values["hold_reason"]]
            p.hold_reason = values["hold_reason"]
        elif old == "on_hold" and p.hold_reason:
            changes["hold_reason"] = [p.hold_reason, ""]
            p.hold_reason = ""
        if target == "resolved":
            changes["resolution_code"] = [p.resolution_code, values["resolution_code"]]
            changes["resolution_notes"] = [p.resolution_notes, values["resolution_notes"]]
            p.resolution_code = values["resolution_code"]
            p.resolution_notes = values["resolution_notes"]
            p.resolved_at = at
        if name == "reopen":
            changes["resolution_code"] = [p.resolution_code, ""]
            changes["resolution_notes"] = [p.resolution_notes, ""]
            p.resolved_at = None
            p.resolution_code = p.resolution_notes = ""
            p.reopen_count += 1
        if target == "closed":
            p.closed_at = at
        if values.get("reason"):
            changes["reason"] = [None, values["reason"]]
        p.version += 1
        self._event(at, actor, f"ticket.{name}", changes, AUTO if auto else None)
        return True

    def comment(self, at, author: Person, body: str, *, internal=False, agent=True, source=None):
        """comment_add: first public agent reply sets first_response_at; a requester's reply
        resumes a ticket awaiting them and reopens a resolved one (as the service does)."""
        p = self.plan
        index = len(p.comments)
        if source is None:
            source = "portal" if agent else ("email" if p.source == "email" else "portal")
        p.comments.append([at, author.id, body, internal, source])
        if agent and not internal and author.id != p.requester_id and p.first_response_at is None:
            p.first_response_at = at
        self._event(
            at,
            author,
            "ticket.commented",
            {"comment": [None, None], "internal": [None, internal]},
            ("comment", index),
        )
        if not agent:
            later = at + timedelta(milliseconds=1)
            if p.status == "on_hold" and p.hold_reason == "awaiting_requester":
                self.transition(later, None, "resume", auto=True)
            elif (
                p.status == "resolved"
                and (at - p.resolved_at).total_seconds() <= self.reopen_window
            ):
                self.transition(later, author, "reopen", auto=True)


AUTO = ("auto", None)  # fixup marking a transition another service call made


def transition_sources(kind: str, name: str) -> frozenset[str]:
    """The states `name` may be taken from, read from the kind's declared workflow."""
    key = (kind, name)
    if key not in _SOURCES:
        from servio.tickets import workflows

        step = workflows.get(kind).transition(name)
        _SOURCES[key] = step.sources if step is not None else frozenset()
    return _SOURCES[key]


_SOURCES: dict[tuple[str, str], frozenset[str]] = {}

TARGETS = {
    "start": "in_progress",
    "hold": "on_hold",
    "resume": "in_progress",
    "resolve": "resolved",
    "reopen": "in_progress",
    "close": "closed",
    "cancel": "cancelled",
}


def cancel_reason(steps: list) -> dict[str, str]:
    """The reason an agent gives for cancelling (the workflow requires one); picked without
    the generator's random stream, so the rest of a story does not change with it."""
    return {"reason": content.CANCEL_REASONS[len(steps) % len(content.CANCEL_REASONS)]}
