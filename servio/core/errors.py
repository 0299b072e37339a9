"""Domain errors: raised by services, mapped to HTTP once (servio/api/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servio.core import refusals


class DomainError(Exception):
    """Base of every error a service raises on purpose; carries an HTTP-ish status and a title."""

    status = 400
    title = "Bad request"
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """The record does not exist or the user may not see it (the same answer on purpose).

    `hidden` says which, when the lookup knows (`get_visible`, `ticket_get`): True when the record
    exists but is not visible to the user. It and the record's reference are attributes, never
    part of the answer (`extra` is); the security log keeps them (decision 19).
    """

    status = 404
    title = "Not found"
    code = "not_found"

    def __init__(
        self,
        detail: str,
        *,
        hidden: bool | None = None,
        object_type: str = "",
        object_id: str = "",
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        self.hidden = hidden
        self.object_type = object_type
        self.object_id = str(object_id)[:64]
        if hidden is not None:
            refusals.note(self)


class PermissionDenied(DomainError):
    """The user may see the record but may not do this to it (noted for the security log)."""

    status = 403
    title = "Forbidden"
    code = "forbidden"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        refusals.note(self)


class Unauthorized(DomainError):
    """No valid credentials were given."""

    status = 401
    title = "Unauthorized"
    code = "unauthorized"


class Conflict(DomainError):
    """The request conflicts with the record's current state (stale version, bad transition)."""

    status = 409
    title = "Conflict"
    code = "conflict"


class ValidationFailed(DomainError):
    """One or more fields are invalid; `errors` maps field name -> list of reasons."""

    status = 422
    title = "Validation failed"
    code = "validation_failed"

    def __init__(self, errors: Mapping[str, str | list[str]], detail: str | None = None) -> None:
        normalised = {k: [v] if isinstance(v, str) else list(v) for k, v in errors.items()}
        if detail is None:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in normalised.items())
        super().__init__(detail)
        self.errors = normalised

    @classmethod
    def field(cls, name: str, reason: str) -> ValidationFailed:
        return cls({name: reason})


class StaleVersion(Conflict):
    """The client edited an older version; `current` is the record as it is now."""

    code = "stale_version"

    def __init__(self, detail: str, *, current: Any, current_version: int) -> None:
        super().__init__(detail, current_version=current_version)
        self.current = current


class PayloadTooLarge(DomainError):
    """An upload or body exceeds a configured limit."""

    status = 413
    title = "Payload too large"
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    """The request body has a content type we do not accept."""

    status = 415
    title = "Unsupported media type"
    code = "unsupported_media_type"


class RateLimited(DomainError):
    """Too many requests; `retry_after` says in how many seconds to try again."""

    status = 429
    title = "Too many requests"
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """Something the request needs is down for now (the database, file storage): retry later."""

    status = 503
    title = "Service unavailable"
    code = "unavailable"

    def __init__(self, detail: str, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class DatabaseUnavailable(ServiceUnavailable):
    """The database does not answer, is restarting, or is locked by another writer."""

    code = "database_unavailable"


class StorageUnavailable(ServiceUnavailable):
    """File storage refuses to write or read (read-only, no permission, I/O error)."""

    code = "storage_unavailable"


class InsufficientStorage(DomainError):
    """File storage is full: nothing more can be stored until an administrator frees space."""

    status = 507
    title = "Insufficient storage"
    code = "insufficient_storage"
