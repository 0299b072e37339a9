"""The workflow engine: a practice declares its state machine once, as data.

Services enforce it (`Workflow.check`), the API and UI render `allowed(...)` from it, and the
tests walk every (state, transition) pair. Guards are plain callables named in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from servio.core.errors import Conflict, ValidationFailed

# Who may take a transition: staff working the ticket, its requester, or the system (jobs).
AGENT = "agent"
REQUESTER = "requester"
SYSTEM = "system"

Guard = Callable[[Any, Any], str | None]  # (record, actor) -> reason it is not allowed, or None


@dataclass(frozen=True)
class State:
    """A status. Everything that sorts statuses (queues, indexes, SLA clocks, reports) reads
    these flags, so a practice's new status is classified once, here."""

    name: str
    label: str
    open: bool = True  # counts as open work (queues, SLA clocks)
    paused: bool = False  # open, but the work waits (on hold): clocks may pause
    abandoned: bool = False  # closed without the goal reached (cancelled): clocks cancel


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]
    required: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    guard: Guard | None = None
    description: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields this transition takes: the required ones, then those with choices."""
        return tuple(dict.fromkeys((*self.required, *self.choices)))


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    # Words for people: the fields transitions take and the values of their choices
    # ("no_fault_found" -> "No fault found"); anything missing reads as its name in words.
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = {s.name for s in self.states}
        if len(names) != len(self.states):
            raise ValueError(f"{self.name}: a state is declared twice")
        if len({t.name for t in self.transitions}) != len(self.transitions):
            raise ValueError(f"{self.name}: a transition is declared twice")
        if self.initial not in names:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")
        for t in self.transitions:
            unknown = (t.sources | {t.target}) - names
            if unknown:
                raise ValueError(f"{self.name}.{t.name}: unknown states {sorted(unknown)}")

    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]

    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def open_states(self) -> list[str]:
        return [s.name for s in self.states if s.open]

    def paused_states(self) -> list[str]:
        return [s.name for s in self.states if s.open and s.paused]

    def closed_states(self) -> list[str]:
        """No longer open work: done or given up."""
        return [s.name for s in self.states if not s.open]

    def done_states(self) -> list[str]:
        """Closed with the goal reached (resolved, closed): clocks stop met or breached."""
        return [s.name for s in self.states if not s.open and not s.abandoned]

    def abandoned_states(self) -> list[str]:
        return [s.name for s in self.states if not s.open and s.abandoned]

    def final_states(self) -> list[str]:
        return [s.name for s in self.states if self.is_final(s.name)]

    def is_final(self, state: str) -> bool:
        """No transition leaves this state: the record is finished and read-only."""
        return not self.from_state(state)

    def label(self, value: str) -> str:
        """What people read for a field name or a choice value of this table."""
        return self.labels.get(value) or value.replace("_", " ").capitalize()

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def allowed(self, record: Any, actor: Any, roles: Iterable[str]) -> list[Transition]:
        """Transitions this actor may take now (state, role and guard all agree)."""
        roles = set(roles)
        return [
            t
            for t in self.from_state(record.status)
            if t.actors & roles and (t.guard is None or t.guard(record, actor) is None)
        ]

    def check(
        self, record: Any, actor: Any, roles: Iterable[str], name: str, values: dict[str, Any]
    ) -> Transition:
        """Return the transition if allowed with these values; else raise a clear domain error."""
        roles = set(roles)
        transition = self.transition(name)
        allowed = self.allowed(record, actor, roles)
        allowed_names = [t.name for t in allowed]
        state = self._state_label(record.status)
        if transition is None:
            raise Conflict(
                f"There is no step '{name}'. {self._possible_now(record.status, allowed)}",
                allowed_transitions=allowed_names,
                current_status=record.status,
            )
        if record.status not in transition.sources:
            raise Conflict(
                f"{transition.label} is not possible while the status is {state}. "
                + self._possible_now(record.status, allowed),
                allowed_transitions=allowed_names,
                current_status=record.status,
            )
        if not transition.actors & roles:
            # 409 like an impossible transition: the client learns what it may do instead.
            raise Conflict(
                f"You may not {transition.label.lower()} this record. "
                + self._possible_now(record.status, allowed),
                allowed_transitions=allowed_names,
                current_status=record.status,
            )
        if transition.guard is not None and (reason := transition.guard(record, actor)):
            raise Conflict(reason, allowed_transitions=allowed_names, current_status=record.status)
        self.check_values(transition, values)
        return transition

    def _state_label(self, status: str) -> str:
        try:
            return self.state(status).label
        except KeyError:
            return status

    def _possible_now(self, status: str, allowed: list[Transition]) -> str:
        """What the refused actor may do instead, in words."""
        if allowed:
            return f"Possible now: {', '.join(t.label for t in allowed)}."
        if status in self.state_names and self.is_final(status):
            return f"{self._state_label(status)} is final: nothing more is possible."
        return "Nothing is possible for you now."

    def check_values(self, transition: Transition, values: dict[str, Any]) -> None:
        """ValidationFailed naming each field the transition requires and lacks, or whose value
        is not one of its choices (what a record's state has no say in: a bulk action checks
        this once before it touches any record)."""
        errors: dict[str, str | list[str]] = {}
        for field_name in transition.required:
            value = values.get(field_name)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors[field_name] = f"is required to {transition.label.lower()}."
        for field_name, options in transition.choices.items():
            value = values.get(field_name)
            if value not in (None, "") and value not in options:
                errors[field_name] = f"must be one of: {', '.join(options)}."
        if errors:
            raise ValidationFailed(errors)

    def describe(self) -> dict[str, Any]:
        """The table as plain data (for docs, the API and diagrams)."""
        return {
            "name": self.name,
            "initial": self.initial,
            "states": [
                {
                    "name": s.name,
                    "label": s.label,
                    "open": s.open,
                    "paused": s.paused,
                    "abandoned": s.abandoned,
                    "final": self.is_final(s.name),
                }
                for s in self.states
            ],
            "transitions": [
                {
                    "name": t.name,
                    "label": t.label,
                    "from": sorted(t.sources),
                    "to": t.target,
                    "actors": sorted(t.actors),
                    "required": list(t.required),
                    "choices": {k: list(v) for k, v in t.choices.items()},
                }
                for t in self.transitions
            ],
            "labels": {
                value: self.label(value)
                for t in self.transitions
                for value in (*t.fields, *(v for c in t.choices.values() for v in c))
            },
        }
