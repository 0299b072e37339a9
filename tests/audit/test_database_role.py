"""Servio runs under the PostgreSQL role docs/operations.md sets up: it writes, seals and
verifies the audit trail, and the role cannot change or remove an event or a seal (issue 13,
item 11). The SQL is taken from the page itself, so page and test cannot drift apart."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connection

from tests.core.conftest import REPO, Live

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles are PostgreSQL's (SQLite has none)"
)
ROLE = "servio_app_test"


def operations_sql(database: str) -> str:
    page = (REPO / "docs" / "operations.md").read_text()
    section = page.split("## A database role that cannot change the audit trail", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    return block.replace("servio_app", ROLE).replace(
        "DATABASE servio TO", f'DATABASE "{database}" TO'
    )


def as_role(live: Live, *args: str, code: str = "") -> subprocess.CompletedProcess[str]:
    url = urlparse(live.env["DATABASE_URL"])
    env = {
        **live.env,
        "DATABASE_URL": url._replace(
            netloc=f"{ROLE}:pw@{url.hostname}:{url.port or 5432}"
        ).geturl(),
    }
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "servio.cli", *args]
    return subprocess.run(  # noqa: S603 (our own interpreter)
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


WRITE = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")
django.setup()
from servio.accounts.services import organization_create
for n in range(3):
    organization_create(actor=None, name=f"Under the role {n}")
"""

TAMPER = """
import django, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")
django.setup()
from django.db import connection, transaction, ProgrammingError
statement = sys.argv[1]
try:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
except ProgrammingError as exc:
    print("refused:", exc)
else:
    print("allowed")
"""


def test_the_application_role_writes_and_seals_but_cannot_change_the_trail(live: Live, tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
        cursor.execute(operations_sql(database))
        cursor.execute(f"ALTER ROLE {ROLE} PASSWORD 'pw'")
    live.env["SERVIO_AUDIT_CHECKPOINTS"] = str(tmp_path / "checkpoints.jsonl")

    done = as_role(live, code=WRITE)
    assert done.returncode == 0, done.stderr[-3000:]
    done = as_role(live, "audit", "seal", "--quiet")
    assert done.returncode == 0 and "Sealed 3 audit event(s)." in done.stdout, done.stderr[-3000:]
    done = as_role(live, "audit", "checkpoint")
    assert done.returncode == 0, done.stderr[-3000:]
    done = as_role(live, "audit", "verify", "--quiet")
    assert done.returncode == 0 and "Audit trail intact: 3 events verified." in done.stdout

    for statement in (
        "UPDATE audit_auditevent SET action = 'forged'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent CASCADE",
        "UPDATE audit_auditseal SET hash = 'forged'",
        "DELETE FROM audit_auditseal",
    ):
        done = as_role(live, code=TAMPER.replace("sys.argv[1]", repr(statement)))
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.startswith("refused:") and "permission denied" in done.stdout, (
            statement,
            done.stdout,
        )
    assert Path(live.env["SERVIO_AUDIT_CHECKPOINTS"]).exists()
