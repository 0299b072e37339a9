"""Permission checks live in services and selectors, not in the entry points that call them.

Each API handler, UI view, admin, job, outbox handler and command calls a service or selector
that decides who may do what, so none of them can answer differently from the others (issue 13,
item 4). This test reads their source and fails on a check written in an entry point; the few
that legitimately remain (choosing what to show, not whether it may be done) are listed below
with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import servio

ROOT = Path(servio.__file__).resolve().parent
ENTRY_POINTS = (
    "*/api.py",
    "*/views.py",
    "*/views/*.py",
    "*/admin.py",
    "*/tasks.py",
    "*/handlers.py",
    "*/management/commands/*.py",
)
CHECKS = {
    "has_capability": re.compile(r"\bhas_capability\("),
    "is_staff_member": re.compile(r"\bis_staff_member\b"),
    "role comparison": re.compile(r"\.role\s*(==|!=|in\b|not in\b)"),
    "is_superuser/is_staff": re.compile(r"\.(is_superuser|is_staff)\b(?!_)"),
    "raises PermissionDenied": re.compile(r"\bPermissionDenied\("),
}
# (module, check) -> why it stays in the entry point.
ALLOWED = {
    ("web/views.py", "is_staff_member"): (
        "chooses where to send a person (the workspace or the portal), not whether they may go "
        "there: each page and service checks that itself"
    ),
}


def _entry_points() -> list[Path]:
    return sorted({path for pattern in ENTRY_POINTS for path in ROOT.glob(pattern)})


def _found() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for path in _entry_points():
        module = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            for name, pattern in CHECKS.items():
                if pattern.search(code):
                    where = f"{module}:{number}: {line.strip()}"
                    found.setdefault((module, name), []).append(where)
    return found


def test_the_scan_sees_the_entry_points():
    modules = {path.relative_to(ROOT).as_posix() for path in _entry_points()}
    assert {"sla/api.py", "tickets/api.py", "workspace/views/ticket.py", "sla/admin.py"} <= modules
    assert any(m.endswith("management/commands/mail.py") for m in modules)


def test_no_entry_point_checks_a_permission_itself():
    found = _found()
    unexpected = [line for key, lines in found.items() if key not in ALLOWED for line in lines]
    assert not unexpected, (
        "Check permissions in the service or selector (raise PermissionDenied there) and let "
        "the entry point only map the error; if the check only chooses what to render, list it "
        "in ALLOWED with the reason:\n" + "\n".join(unexpected)
    )


def test_no_api_module_checks_a_capability():
    """The narrowest form of the rule, for the API routers: no `has_capability(` at all."""
    offenders = [
        f"{path.relative_to(ROOT).as_posix()}:{number}"
        for path in sorted(ROOT.glob("*/api.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "has_capability(" in line
    ]
    assert offenders == []


def test_every_allowance_is_still_needed():
    stale = sorted(set(ALLOWED) - set(_found()))
    assert not stale, f"Remove these from ALLOWED, the check is gone: {stale}"
