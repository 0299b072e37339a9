"""Shared fixtures: fast hashing, named personas, API clients, component requirements."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from tests.factories import Personas, make_personas

STRICT = os.environ.get("SERVIO_CI_STRICT") == "1"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty outbox handler and wake-up registries: other apps' handlers must not count here."""
    from servio.core import outbox

    monkeypatch.setattr(outbox, "_handlers", {})
    monkeypatch.setattr(outbox, "_wakeups", [])


@pytest.fixture
def job_registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    """An empty periodic-job registry: only the jobs a test registers run."""
    from servio.core import jobs

    fresh: dict[str, jobs.PeriodicJob] = {}
    monkeypatch.setattr(jobs, "JOBS", fresh)
    return fresh


def require_component(available: bool, what: str, how: str) -> None:
    """Skip (or, in CI with SERVIO_CI_STRICT=1, fail) when a real component is missing."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if STRICT:
        pytest.fail(f"SERVIO_CI_STRICT=1 and {message}")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings, tmp_path):
    """Each test's audit checkpoints go to its own file: checkpoints of another test's chain
    would rightly fail verification."""
    settings.SERVIO_AUDIT_CHECKPOINTS = [str(tmp_path / "audit-checkpoints.jsonl")]


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def personas(db) -> Personas:
    return make_personas()


class ApiClient:
    """A Django test client speaking JSON to /api/v1 with a bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        result = {}
        if self.token:
            result["Authorization"] = f"Bearer {self.token}"
        result.update(headers or {})
        return result

    def request(self, method: str, path: str, json=None, headers=None, **kwargs):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        call = getattr(self.client, method.lower())
        if json is not None:
            kwargs["data"] = json
            kwargs["content_type"] = "application/json"
        return call(url, headers=self._headers(headers), **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api_as(db):
    """api_as(user, scope="write") -> ApiClient with a fresh token of that user."""
    from servio.accounts.services import token_create

    def make(user, scope: str = "write") -> ApiClient:
        issued = token_create(actor=user, name="test", scope=scope)
        return ApiClient(issued.plaintext)

    return make
