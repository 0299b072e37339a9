"""Who may do what to which organisation's tickets: the table generated from the services
(tests/security/matrix.py) must match the rule stated here, independently and in a few lines,
and the table published in docs/security.md.

Run with SERVIO_WRITE_SECURITY_TABLE=1 to rewrite the table in docs/security.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.security import matrix

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"

SERVES = {  # the personas' teams: the Desk serves Acme, Network serves Globex
    "agent_desk": {"Acme"},
    "lead_desk": {"Acme"},
    "agent_network": {"Globex"},
    "change_manager": {"Globex"},
}
OWN = {"requester_acme": "Acme", "requester_globex": "Globex"}  # each requester's own ticket
READS_REPORTS = {"lead_desk", "change_manager", "admin"}


def sees(role: str, org: str) -> bool:
    if role == "admin":
        return True
    if role in SERVES:
        return org == "provider" or org in SERVES[role]
    return OWN[role] == org


def expected(role: str, org: str, operation: str) -> str:
    """The rule, written once more by hand: a hidden ticket is 404 for everything done to it;
    nobody is ever attached across the line; reports hold only what the reader sees."""
    visible = sees(role, org)
    staff = role not in OWN
    if operation in ("read", "write", "attach an insider"):
        return "yes" if visible else "404"
    if operation == "attach an outsider":
        return "422" if visible else "404"
    if operation == "link":
        if not staff:
            return "403"
        return "yes" if visible else "422"
    if role not in READS_REPORTS:
        return "403"
    if operation == "report":
        return "yes" if visible else "no"
    assert operation == "export"
    return "yes" if visible else "404"


@pytest.fixture
def rows(personas):
    return matrix.generate(personas)


def test_every_cell_follows_the_rule(rows):
    keys = dict(matrix.ROLES)
    wrong = [
        (
            row["role"],
            row["organisation"],
            op,
            row[op],
            expected(keys[row["role"]], row["organisation"], op),
        )
        for row in rows
        for op in matrix.OPERATIONS
        if row[op] != expected(keys[row["role"]], row["organisation"], op)
    ]
    assert wrong == []
    assert len(rows) == len(matrix.ROLES) * len(matrix.ORGANISATIONS)
    # Nobody, whatever their role, attaches someone who may not see the organisation.
    assert {row["attach an outsider"] for row in rows} <= {"404", "422"}


def test_the_published_table_is_the_generated_one(rows):
    table = matrix.markdown(rows)
    text = DOC.read_text(encoding="utf-8")
    start = text.index(matrix.MARKER_START) + len(matrix.MARKER_START)
    end = text.index(matrix.MARKER_END)
    if os.environ.get("SERVIO_WRITE_SECURITY_TABLE") == "1":
        DOC.write_text(text[:start] + "\n" + table + text[end:], encoding="utf-8")
        text = DOC.read_text(encoding="utf-8")
        end = text.index(matrix.MARKER_END)
    assert text[start:end].strip() == table.strip(), (
        "docs/security.md is out of date: run SERVIO_WRITE_SECURITY_TABLE=1 "
        ".venv/bin/pytest tests/security/test_matrix.py"
    )
