"""Which workflow governs each ticket kind (practices register theirs when the app loads)."""

from __future__ import annotations

from collections.abc import Callable

from servio.core.workflow import Workflow

_workflows: dict[str, Workflow] = {}
_after_transition: dict[str, list[Callable[..., None]]] = {}


def register(kind: str, workflow: Workflow) -> None:
    _workflows[kind] = workflow


def get(kind: str) -> Workflow:
    try:
        return _workflows[kind]
    except KeyError:
        raise LookupError(f"No workflow is registered for ticket kind '{kind}'.") from None


def on_transition(kind: str, hook: Callable[..., None]) -> None:
    """Run `hook(ticket=, transition=, actor=, values=)` inside the transition's transaction."""
    _after_transition.setdefault(kind, []).append(hook)


def transition_hooks(kind: str) -> list[Callable[..., None]]:
    return list(_after_transition.get(kind, []))
