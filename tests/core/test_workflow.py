"""The workflow engine: a table declared as data, checked on construction and enforced."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from servio.core.errors import Conflict, ValidationFailed
from servio.core.workflow import AGENT, REQUESTER, SYSTEM, State, Transition, Workflow


def not_on_friday(record, actor):
    return "Not on Fridays." if getattr(record, "friday", False) else None


DOOR = Workflow(
    name="door",
    initial="closed",
    states=(State("closed", "Closed"), State("open", "Open"), State("gone", "Gone", open=False)),
    transitions=(
        Transition("open", "Open", frozenset({"closed"}), "open", frozenset({AGENT, REQUESTER})),
        Transition(
            "close",
            "Close",
            frozenset({"open"}),
            "closed",
            frozenset({AGENT}),
            required=("reason",),
            choices={"reason": ("draught", "noise")},
        ),
        Transition(
            "remove", "Remove", frozenset({"closed", "open"}), "gone", frozenset({SYSTEM}),
            guard=not_on_friday,
        ),
    ),
)  # fmt: skip


def record(status, **extra):
    return SimpleNamespace(status=status, **extra)


def test_a_table_with_unknown_or_duplicate_names_is_refused():
    state = State("a", "A")
    with pytest.raises(ValueError, match="unknown initial"):
        Workflow("w", "b", (state,), ())
    with pytest.raises(ValueError, match="unknown states"):
        Workflow("w", "a", (state,), (Transition("t", "T", frozenset({"a"}), "z", frozenset()),))
    with pytest.raises(ValueError, match="state is declared twice"):
        Workflow("w", "a", (state, State("a", "again")), ())
    twice = Transition("t", "T", frozenset({"a"}), "a", frozenset())
    with pytest.raises(ValueError, match="transition is declared twice"):
        Workflow("w", "a", (state,), (twice, twice))


def test_allowed_needs_the_state_a_role_and_the_guard():
    assert [t.name for t in DOOR.allowed(record("closed"), None, {AGENT})] == ["open"]
    assert [t.name for t in DOOR.allowed(record("closed"), None, {SYSTEM})] == ["remove"]
    assert DOOR.allowed(record("closed", friday=True), None, {SYSTEM}) == []
    assert DOOR.allowed(record("gone"), None, {AGENT, REQUESTER, SYSTEM}) == []
    assert DOOR.allowed(record("open"), None, set()) == []


def test_check_refuses_unknown_impossible_and_forbidden_steps_with_409():
    for status, name, roles in [
        ("closed", "fly", {AGENT}),  # unknown
        ("closed", "close", {AGENT}),  # not from this state
        ("open", "close", {REQUESTER}),  # not for this role
        ("open", "remove", {SYSTEM}),  # guard below
    ]:
        friday = name == "remove"
        with pytest.raises(Conflict) as refused:
            DOOR.check(record(status, friday=friday), None, roles, name, {"reason": "noise"})
        allowed = [t.name for t in DOOR.allowed(record(status, friday=friday), None, roles)]
        assert refused.value.extra["allowed_transitions"] == allowed
        assert refused.value.extra["current_status"] == status


def test_check_names_missing_and_invalid_values():
    with pytest.raises(ValidationFailed) as missing:
        DOOR.check(record("open"), None, {AGENT}, "close", {"reason": "  "})
    assert set(missing.value.errors) == {"reason"}
    with pytest.raises(ValidationFailed) as wrong:
        DOOR.check(record("open"), None, {AGENT}, "close", {"reason": "boredom"})
    assert "draught, noise" in wrong.value.errors["reason"][0]
    assert (
        DOOR.check(record("open"), None, {AGENT}, "close", {"reason": "noise"}).target == "closed"
    )


def test_queries_and_description():
    assert DOOR.open_states() == ["closed", "open"]
    assert DOOR.is_final("gone") and not DOOR.is_final("open")
    assert DOOR.state("open").label == "Open"
    assert DOOR.transition("nope") is None
    described = DOOR.describe()
    assert described["initial"] == "closed"
    close = next(t for t in described["transitions"] if t["name"] == "close")
    assert close == {
        "name": "close",
        "label": "Close",
        "from": ["open"],
        "to": "closed",
        "actors": ["agent"],
        "required": ["reason"],
        "choices": {"reason": ["draught", "noise"]},
    }
