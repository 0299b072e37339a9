"""Which workflow governs each ticket kind (practices register theirs when the app loads)."""

from __future__ import annotations

from collections.abc import Callable

from servio.core.workflow import REQUESTER, Workflow

_workflows: dict[str, Workflow] = {}
_after_transition: dict[str, list[Callable[..., None]]] = {}


def register(kind: str, workflow: Workflow) -> None:
    _workflows[kind] = workflow


def get(kind: str) -> Workflow:
    try:
        return _workflows[kind]
    except KeyError:
        raise LookupError(f"No workflow is registered for ticket kind '{kind}'.") from None


def registered() -> list[Workflow]:
    """Each registered workflow once (several kinds may share one), in registration order."""
    return list({workflow.name: workflow for workflow in _workflows.values()}.values())


def on_transition(kind: str, hook: Callable[..., None]) -> None:
    """Run `hook(ticket=, transition=, actor=, values=)` inside the transition's transaction."""
    _after_transition.setdefault(kind, []).append(hook)


def transition_hooks(kind: str) -> list[Callable[..., None]]:
    return list(_after_transition.get(kind, []))


# --- status sets across every kind -----------------------------------------------------------
# Queues, filters, reports and the SLA engine ask these instead of naming statuses: a practice
# that adds a status classifies it once, in its workflow. (The ticket table's partial indexes
# are the one place a set is frozen: see models.INDEXED_CLOSED_STATUSES.)


def _union(pick: Callable[[Workflow], list[str]]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for workflow in _workflows.values():
        names.update(dict.fromkeys(pick(workflow)))
    return tuple(names)


def open_statuses() -> tuple[str, ...]:
    """Statuses of open work in any kind's workflow."""
    return _union(Workflow.open_states)


def paused_statuses() -> tuple[str, ...]:
    """Open statuses in which the work waits (on hold)."""
    return _union(Workflow.paused_states)


def closed_statuses() -> tuple[str, ...]:
    """Statuses that are no longer open work (done or abandoned), in declaration order."""
    return _union(Workflow.closed_states)


def done_statuses() -> tuple[str, ...]:
    """Closed with the goal reached (resolved, closed)."""
    return _union(Workflow.done_states)


def abandoned_statuses() -> tuple[str, ...]:
    """Closed without the goal reached (cancelled)."""
    return _union(Workflow.abandoned_states)


def awaiting_confirmation_statuses() -> tuple[str, ...]:
    """Closed statuses whose outcome waits for the requester's word: from there the requester
    may take a transition to a done state (confirm a resolution: resolved -> closed)."""

    def pick(workflow: Workflow) -> list[str]:
        done, found = set(workflow.done_states()), []
        for t in workflow.transitions:
            if REQUESTER in t.actors and t.target in done:
                found += [s for s in workflow.state_names if s in t.sources]
        return [s for s in found if not workflow.state(s).open]

    return _union(pick)


def is_open(kind: str, status: str) -> bool:
    """Whether a ticket of this kind in this status is open work."""
    workflow = _workflows.get(kind)
    if workflow is None:
        return status not in closed_statuses()
    try:
        return workflow.state(status).open
    except KeyError:
        return status not in closed_statuses()
