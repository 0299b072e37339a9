"""`Idempotency-Key` on API POSTs: the same key and body replay the first response.

Keys belong to one client credential: a bearer token, or a signed-in session. The stored response
is sealed with a key derived from that credential and the server's secret, so the table never
holds a readable copy of what the first response carried (a new API token's secret, for one).

A key whose request has not finished is held for a lease (SERVIO_IDEMPOTENCY_LEASE_SECONDS): a
retry meanwhile gets 409 with the seconds left, and a retry after it takes the key over and runs,
because a request that outlives its lease died with its worker (decision 25).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from servio.accounts.services import token_authenticate
from servio.api.errors import too_big
from servio.api.models import IdempotencyRecord
from servio.api.problems import problem_response
from servio.core.errors import Unauthorized

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII, as header values should be
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")
# These answers mean the request was not carried out, so a retry with the same key may succeed.
NOT_STORED = {401, 403, 429}
# A keyed body is read into memory to be hashed. Django caps JSON bodies itself
# (DATA_UPLOAD_MAX_MEMORY_SIZE) but not multipart uploads, so cap those here, above the largest
# attachment (SERVIO_ATTACHMENT_MAX_BYTES).
DEFAULT_MAX_KEYED_BODY = 32 * 1024 * 1024


def _credential(request: HttpRequest) -> str | None:
    """What identifies the client: its Authorization header, else its signed-in session."""
    if auth := request.headers.get("Authorization", ""):
        return auth
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is not None and user.is_authenticated and session is not None and session.session_key:
        return f"session:{session.session_key}"
    return None


def _authenticated(request: HttpRequest, credential: str) -> bool:
    """Whether the credential works now: records are only made or replayed for working ones."""
    if credential.startswith("session:"):
        return request.user.is_active
    scheme, _, token = credential.partition(" ")
    if scheme.lower() != "bearer":
        return False
    try:
        token_authenticate(plaintext=token.strip())
    except Unauthorized:
        return False
    return True


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # as Django reads it


def _seal_key(credential: str) -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"idempotency:" + credential.encode(), hashlib.sha256
    ).digest()


def _xor(data: bytes, key: bytes, nonce: bytes) -> bytes:
    stream = hashlib.shake_256(key + nonce).digest(len(data))  # SHAKE-256 as a keyed stream
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def seal(data: bytes, credential: str) -> bytes:
    """nonce | tag | ciphertext, readable only with the same credential and SECRET_KEY."""
    key, nonce = _seal_key(credential), secrets.token_bytes(16)
    ciphertext = _xor(data, key, nonce)
    tag = hmac.new(key, nonce + ciphertext, hashlib.sha256).digest()[:16]
    return nonce + tag + ciphertext


def unseal(blob: bytes, credential: str) -> bytes | None:
    key, nonce, tag, ciphertext = _seal_key(credential), blob[:16], blob[16:32], blob[32:]
    expected = hmac.new(key, nonce + ciphertext, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(tag, expected):
        return None  # sealed under another SECRET_KEY
    return _xor(ciphertext, key, nonce)


def _ttl() -> timedelta:
    return timedelta(hours=settings.SERVIO_IDEMPOTENCY_TTL_HOURS)


def _lease() -> timedelta:
    return timedelta(seconds=settings.SERVIO_IDEMPOTENCY_LEASE_SECONDS)


def _lease_over(record: IdempotencyRecord, now: datetime) -> bool:
    """An unfinished key whose lease has run out: its request is taken for dead."""
    return record.status_code is None and record.created_at + _lease() <= now


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not VALID_KEY.fullmatch(key):
            return problem_response(
                request,
                422,
                "Idempotency-Key must be 1 to 255 printable ASCII characters.",
                code="validation_failed",
                errors=[{"field": HEADER, "message": "must be 1 to 255 printable characters"}],
            )
        credential = _credential(request)
        if credential is None or not _authenticated(request, credential):
            # Keys are per client, and a revoked token gets no replay: the API answers 401.
            return self.get_response(request)
        limit = getattr(settings, "SERVIO_IDEMPOTENCY_MAX_BODY_BYTES", DEFAULT_MAX_KEYED_BODY)
        try:
            if _content_length(request) > limit:
                raise RequestDataTooBig("Keyed request body too large.")
            body = request.body
        except RequestDataTooBig as exc:
            return too_big(request, exc)
        scope = hashlib.sha256(b"scope:" + credential.encode()).hexdigest()
        body_hash = hashlib.sha256(
            request.method.encode() + request.get_full_path().encode() + b"\n" + body
        ).hexdigest()

        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        now = timezone.now()
        if existing is not None and existing.created_at < now - _ttl():
            existing.delete()  # expired: the cleanup job had not got to it yet
            existing = None
        if existing is not None:
            if not _lease_over(existing, now) or existing.body_hash != body_hash:
                return self._replay(request, existing, body_hash, credential)
            # Its request died (worker killed, server restarted): this retry runs it instead.
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, status_code=None, created_at=existing.created_at
            ).delete()[0]
            log.warning(
                "Idempotency-Key of %s %s unfinished after its lease; %s",
                request.method,
                request.path,
                "the retry runs it" if taken else "another retry took it over",
            )
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    body_hash=body_hash,
                    created_at=now,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if existing is None:  # pragma: no cover - the other request failed and cleaned up
                return self.get_response(request)
            return self._replay(request, existing, body_hash, credential)

        response = self.get_response(request)
        # Only this run's row: if the request outlived its lease, a retry may hold the key now.
        mine = IdempotencyRecord.objects.filter(pk=record.pk, status_code=None)
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            mine.delete()  # let the client retry with the same key
            return response
        stored = mine.update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            response_body=seal(bytes(response.content), credential),
            response_headers={h: response[h] for h in REPLAYED_HEADERS if h in response},
        )
        if not stored:
            log.warning(
                "%s %s finished after its Idempotency-Key's lease; a retry had taken the key",
                request.method,
                request.path,
            )
        return response

    def _replay(
        self, request: HttpRequest, record: IdempotencyRecord, body_hash: str, credential: str
    ) -> HttpResponse:
        if record.body_hash != body_hash:
            return self._reused(request)
        if record.status_code is None:
            return self._in_progress(request, record)
        content = unseal(bytes(record.response_body or b""), credential)
        if content is None:
            return self._reused(request)
        response = HttpResponse(
            content,
            status=record.status_code,
            content_type=record.content_type or "application/json",
        )
        for name, value in record.response_headers.items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response

    def _in_progress(self, request: HttpRequest, record: IdempotencyRecord) -> HttpResponse:
        left = (record.created_at + _lease()) - timezone.now()
        wait = max(1, math.ceil(left.total_seconds()))
        return problem_response(
            request,
            409,
            "A request with this Idempotency-Key has started and not finished yet. Retry with "
            f"the same key in {wait} seconds: you then get its answer, or, if it never "
            "finished, the retry runs it.",
            code="idempotency_in_progress",
            headers={"Retry-After": str(wait)},
        )

    def _reused(self, request: HttpRequest) -> HttpResponse:
        return problem_response(
            request,
            422,
            "This Idempotency-Key was already used with a different request. "
            "Use a new key for a new request.",
            code="idempotency_key_reused",
            errors=[{"field": HEADER, "message": "already used with a different request"}],
        )
