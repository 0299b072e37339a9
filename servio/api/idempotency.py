"""`Idempotency-Key` on API POSTs: the same key and body replay the first response."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from servio.api.models import IdempotencyRecord
from servio.api.problems import problem_response

HEADER = "Idempotency-Key"
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def _scope(request: HttpRequest) -> str:
    """Keys belong to one client: the bearer credential, else the signed-in user."""
    auth = request.headers.get("Authorization", "")
    if auth:
        return hashlib.sha256(auth.encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return (
        "anonymous:"
        + hashlib.sha256((request.META.get("REMOTE_ADDR") or "").encode()).hexdigest()[:40]
    )


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not key or len(key) > 255:
            return problem_response(
                request,
                422,
                "Idempotency-Key must be 1 to 255 characters.",
                code="validation_failed",
                errors=[{"field": HEADER, "message": "must be 1 to 255 characters"}],
            )
        scope = _scope(request)
        body_hash = hashlib.sha256(
            request.method.encode() + request.get_full_path().encode() + b"\n" + request.body
        ).hexdigest()
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is not None:
            return self._replay(request, existing, body_hash)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    body_hash=body_hash,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if existing is None:  # pragma: no cover - the other request failed and cleaned up
                return self.get_response(request)
            return self._replay(request, existing, body_hash)

        response = self.get_response(request)
        if response.status_code >= 500 or response.streaming:
            record.delete()  # let the client retry a failure with the same key
            return response
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.response_body = bytes(response.content)
        record.response_headers = {h: response[h] for h in REPLAYED_HEADERS if h in response}
        record.save(
            update_fields=["status_code", "content_type", "response_body", "response_headers"]
        )
        return response

    def _replay(self, request: HttpRequest, record: IdempotencyRecord, body_hash: str):
        if record.body_hash != body_hash:
            return problem_response(
                request,
                422,
                "This Idempotency-Key was already used with a different request. "
                "Use a new key for a new request.",
                code="idempotency_key_reused",
                errors=[{"field": HEADER, "message": "already used with a different body"}],
            )
        if record.status_code is None:
            return problem_response(
                request,
                409,
                "A request with this Idempotency-Key is still being processed. Retry shortly.",
                code="idempotency_in_progress",
                headers={"Retry-After": "1"},
            )
        response = HttpResponse(
            bytes(record.response_body or b""),
            status=record.status_code,
            content_type=record.content_type or "application/json",
        )
        for name, value in record.response_headers.items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response
