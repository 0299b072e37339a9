"""Real mail servers for the tests, on 127.0.0.1 with free ports.

* SMTP: aiosmtpd's Controller, one per test session (per xdist worker); `smtp_server` points
  Django's SMTP backend at it and empties its inbox for each test.
* IMAP: Debian's Dovecot, started once per session in a temporary directory with its own
  configuration (plain authentication on 127.0.0.1, a passwd-file, maildirs in the directory).
  It runs without root: as the invoking user, or, when the tests run as root, dropped to the
  unprivileged `dovecot` (else `nobody`) user with setpriv. Each test gets its own IMAP account,
  so tests never see each other's mail.
"""

from __future__ import annotations

import contextlib
import email
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.conftest import require_component

DOVECOT = Path("/usr/sbin/dovecot")
_accounts = itertools.count(1)
ACCOUNT_POOL = 200


def _username(n: int) -> str:
    return f"desk{n}@imap.test"


def _password(n: int) -> str:
    return f"pw-{n}-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> Message:
        return email.message_from_bytes(self.raw, policy=default_policy)

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


@dataclass
class SmtpCollector:
    """aiosmtpd handler: keeps what arrives; answers 451 while `fail_next` is positive."""

    messages: list[Received] = field(default_factory=list)
    fail_next: int = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next > 0:
            self.fail_next -= 1
            return "451 4.3.0 Try again later (test)"
        raw = envelope.original_content or envelope.content
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(raw)))
        return "250 2.0.0 Message accepted"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


@dataclass
class SlowSmtp:
    """aiosmtpd handler of a slow mail server: each DATA is answered after `delay` seconds.

    `began` and `ended` keep the monotonic times at which each message arrived and was accepted,
    so a test can tell what happened while the server was busy.
    """

    delay: float
    messages: list[Received] = field(default_factory=list)
    began: list[float] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.began.append(time.monotonic())
        await asyncio.sleep(self.delay)
        raw = envelope.original_content or envelope.content
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(raw)))
        self.ended.append(time.monotonic())
        return "250 2.0.0 Message accepted (slowly)"


@contextlib.contextmanager
def smtp_running(handler: object) -> Iterator[int]:
    """A real aiosmtpd server on 127.0.0.1 with `handler`; yields its port."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def _smtp_controller() -> Iterator[tuple[SmtpCollector, int]]:
    collector = SmtpCollector()
    with smtp_running(collector) as port:
        yield collector, port


@pytest.fixture
def smtp_server(_smtp_controller, settings) -> SmtpCollector:
    """The real SMTP server, emptied; Django sends to it over SMTP for this test."""
    collector, port = _smtp_controller
    collector.messages.clear()
    collector.fail_next = 0
    send_through(settings, port)
    return collector


def send_through(settings, port: int) -> None:
    """Point Django's SMTP backend at the test server on `port` (pytest-django's `settings`)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


@dataclass
class HungServer:
    """A TCP server that accepts connections and never says a word (a hung mail server)."""

    port: int
    accepted: list[float] = field(default_factory=list)


@contextlib.contextmanager
def hung_server() -> Iterator[HungServer]:
    """Listen on 127.0.0.1; accept and hold every connection silently until the block ends."""
    import threading

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    server = HungServer(listener.getsockname()[1])
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            server.accepted.append(time.monotonic())

    thread = threading.Thread(target=accept, name="hung-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


# --- IMAP -------------------------------------------------------------------------------------

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = servio-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """A running Dovecot; `account()` adds a fresh IMAP user with an empty INBOX."""

    root: Path
    port: int
    run_as: pwd.struct_passwd

    def account(self) -> ImapAccount:
        """The next unused account of the pool written at start (Dovecot then never has to
        notice a changed passwd-file)."""
        n = next(_accounts)
        if n > ACCOUNT_POOL:
            raise RuntimeError(f"more than {ACCOUNT_POOL} IMAP accounts in one session")
        return ImapAccount(self, _username(n), _password(n))


@dataclass
class ImapAccount:
    server: Dovecot
    username: str
    password: str

    @property
    def port(self) -> int:
        return self.server.port

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(self.username, self.password)
        return conn

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Deliver messages into the folder, unseen, the way an MTA's LDA would."""
        conn = self.connect()
        try:
            for raw in messages:
                typ, data = conn.append(folder, "", None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def unseen(self, folder: str = "INBOX") -> int:
        conn = self.connect()
        try:
            conn.select(folder)
            _, data = conn.uid("SEARCH", None, "UNSEEN")
            return len(data[0].split()) if data and data[0] else 0
        finally:
            conn.logout()


def _run_as() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for name in ("dovecot", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("no unprivileged user to run Dovecot as")


def _wait_for_greeting(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Dovecot exited: {log.read_text() if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            if s.recv(100).startswith(b"* OK"):
                return
        time.sleep(0.1)
    raise RuntimeError(f"Dovecot did not answer: {log.read_text() if log.exists() else ''}")


@contextlib.contextmanager
def dovecot_running() -> Iterator[Dovecot]:
    """Start a private Dovecot (see the module docstring); stop it and remove its files after."""
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="servio-imap-"))
    port = free_port()
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    (root / "passwd").write_text(
        "".join(f"{_username(n)}:{{PLAIN}}{_password(n)}\n" for n in range(1, ACCOUNT_POOL + 1))
    )
    (root / "dovecot.conf").write_text(
        _CONFIG.format(
            root=root,
            port=port,
            user=user.pw_name,
            group=grp.getgrgid(user.pw_gid).gr_name,
            uid=user.pw_uid,
            gid=user.pw_gid,
        )
    )
    command = [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")]
    if os.geteuid() == 0:
        for path in [root, *root.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
        command = [
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            *command,
        ]
    process = subprocess.Popen(  # noqa: S603 - fixed command line
        command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_for_greeting(port, process, root / "dovecot.log")
        yield Dovecot(root, port, user)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    require_component(DOVECOT.exists(), "Dovecot IMAP server", "apt-get install dovecot-imapd")
    with dovecot_running() as server:
        yield server


@pytest.fixture
def imap_account(dovecot_server) -> ImapAccount:
    return dovecot_server.account()
