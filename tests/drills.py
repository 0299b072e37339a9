"""Real outages for the reliability drills: a PostgreSQL server of the test's own that it can stop
and restart, and a Servio server process (gunicorn, as `servio run` serves) on a database.

The shared PostgreSQL server on 5432 is never touched: the throwaway one is made with Debian's
`initdb` in a temporary directory, listens on a free port of 127.0.0.1, and runs as the
unprivileged `postgres` user when the tests run as root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.db import Error, connection
from django.db.utils import DatabaseErrorWrapper

from tests.conftest import require_component

REPO = Path(__file__).resolve().parents[1]
POSTGRES_BIN = next(
    (p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)),
    Path("/nonexistent"),
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


# --- database errors, raised by the real drivers ------------------------------------------------


def wrapped(driver: Any, action: Callable[[], object]) -> Error:
    """The Django error that `action`'s driver error becomes inside a query."""
    fake_connection = SimpleNamespace(Database=driver, errors_occurred=False)
    try:
        with DatabaseErrorWrapper(fake_connection):  # type: ignore[arg-type]
            action()
    except Error as error:
        return error
    raise AssertionError(f"{action} raised no database error")


def sqlite_locked(tmp: Path) -> None:
    """Wait for a write lock another connection holds, without waiting: "database is locked"."""
    path = tmp / "locked.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as waiter:
            waiter.execute("BEGIN IMMEDIATE")


def queries_fail_with(error: Error):
    """Every query of this test's connection raises `error` (a real one, from `wrapped`)."""

    def refuse(execute, sql, params, many, context):
        raise error

    return connection.execute_wrapper(refuse)


# --- a PostgreSQL server of our own ------------------------------------------------------------


@dataclass
class ThrowawayPostgres:
    root: Path
    port: int
    user: pwd.struct_passwd

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/servio"

    def _run(self, *args: str) -> None:
        command = [str(POSTGRES_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                       "--clear-groups", *command]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
        if done.returncode != 0:
            raise AssertionError(f"{args[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "log"),
                  "-o", options, "-w", "start")  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown, as `systemctl restart postgresql` does: clients are disconnected."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    require_component(
        (POSTGRES_BIN / "initdb").exists(),
        "PostgreSQL's initdb (a server of the test's own)",
        "apt-get install postgresql",
    )
    user = pwd.getpwuid(os.geteuid()) if os.geteuid() else pwd.getpwnam("postgres")
    root = Path(tempfile.mkdtemp(prefix="servio-pg-"))
    os.chown(root, user.pw_uid, user.pw_gid)
    server = ThrowawayPostgres(root=root, port=free_port(), user=user)
    try:
        server._run("initdb", "-D", str(root / "data"), "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--no-sync")  # fmt: skip
        server.start()
        server._run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                    "servio")  # fmt: skip
        yield server
    finally:
        if (root / "data" / "postmaster.pid").exists():
            server._run("pg_ctl", "-D", str(root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


# --- a Servio server process -------------------------------------------------------------------

SETUP = """
from servio.accounts.models import Organization
from servio.accounts.roles import Role
from servio.accounts.services import token_create, user_create
provider = Organization.objects.filter(kind=Organization.Kind.PROVIDER).first()
user = user_create(actor=None, email="drill@provider.example", full_name="Drill",
                   role=Role.ADMIN, organization=provider, password="drill-password-1")
print(token_create(actor=user, name="drill", scope="write").plaintext)
"""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class ServioServer:
    """`gunicorn servio.wsgi` with one worker of one thread: one pooled database connection,
    which every request reuses, as in a drill against a single worker."""

    env: dict[str, str]
    tmp: Path
    port: int = field(default_factory=free_port)
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    def servio(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "servio.cli", *args],
            cwd=REPO, env=self.env, input=stdin, capture_output=True, text=True, timeout=180,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"servio {args[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def prepare(self) -> None:
        """Migrate the database and make an administrator with an API token."""
        self.servio("migrate", "--verbosity=0")
        self.token = self.servio("shell", stdin=SETUP).strip().splitlines()[-1]

    def start(self) -> None:
        log = (self.tmp / "gunicorn.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "gunicorn", "servio.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "1",
             "--worker-class", "gthread", "--timeout", "60"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_until(self._answers, timeout=60, what="the Servio server to answer")

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"the server exited:\n{self.log()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
        except OSError:
            return False
        return True

    def log(self) -> str:
        return (self.tmp / "gunicorn.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)

    def request(
        self, method: str, path: str, *, json_body=None, headers=None, auth: bool = True
    ) -> Answer:
        data = None if json_body is None else json.dumps(json_body).encode()
        sent = {"Content-Type": "application/json"} if data is not None else {}
        if auth and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        sent.update(headers or {})
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=sent
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())


def server_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """This interpreter's environment without Servio/Django settings, plus the server's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVIO_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="servio.settings",
        PYTHONPATH=str(REPO),
        SERVIO_VAR_DIR=str(tmp / "var"),
        SERVIO_SECRET_KEY="drill-test-only",
        SERVIO_RUNNER_ENABLED="0",
        SERVIO_FAST_PASSWORD_HASHER="1",
        SERVIO_LOG_LEVEL="WARNING",
        XDG_RUNTIME_DIR=str(tmp),
        **extra,
    )
    return env


@contextmanager
def servio_server(tmp: Path, database_url: str, **extra: str) -> Iterator[ServioServer]:
    server = ServioServer(env=server_env(tmp, database_url, **extra), tmp=tmp)
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.stop()
