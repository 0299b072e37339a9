"""Declares the problem+json error responses on every operation of the OpenAPI document.

Errors are mapped once (servio/api/errors.py) rather than declared per handler, so the document is
completed here from what each operation can meet: auth, a path identifier, a body, a POST.
"""

from __future__ import annotations

from typing import Any

from servio.api.problems import PROBLEM_CONTENT_TYPE, TITLES
from servio.api.schemas import Problem

PROBLEM_REF = "#/components/schemas/Problem"
WRITES = frozenset({"post", "put", "patch", "delete"})
WHEN = {
    400: "The request is malformed (a body that is not JSON, a broken query string).",
    401: "No valid credentials: send `Authorization: Bearer <token>` or sign in.",
    403: "The credentials may not do this (a read-only token writing, a missing capability).",
    404: "Nothing with this identifier exists, or you may not see it (the same answer).",
    409: "The record changed since you read it (a stale `version`), its state refuses this "
    "change (a closed ticket), or a request with the same `Idempotency-Key` has not finished: "
    "retry after the seconds in `Retry-After`.",
    413: "The body is larger than the server accepts.",
    415: "The body is not JSON.",
    422: "A field is invalid; `errors[].field` names each one.",
    429: "The token's rate limit is spent; wait the seconds in `Retry-After`.",
    503: "The database or file storage is unavailable for now; retry after `Retry-After` seconds.",
    507: "File storage is full; nothing more can be stored until an administrator frees space.",
}


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses this operation can answer with."""
    statuses = {400, 422, 429, 503}
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {413, 415}
        if "multipart/form-data" in operation["requestBody"].get("content", {}):
            statuses.add(507)  # an upload
    if method in WRITES:  # stale versions, finished records, idempotent replays in progress
        statuses.add(409)
    return statuses


def add_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Add the Problem schema and each operation's problem responses (declared ones are kept)."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    content = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            # Keys as the document's JSON will have them: ninja keeps a handler's declared
            # statuses as ints, and 503 declared by /health and added here as "503" became a
            # duplicated key that Swagger UI refused to parse.
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for status, response in responses.items():
                # Errors a handler declares itself are problem documents too (problem_response).
                declared = response.get("content", {})
                if int(status) >= 400 and "application/json" in declared:
                    declared[PROBLEM_CONTENT_TYPE] = declared.pop("application/json")
            for status in sorted(error_statuses(path, method, operation)):
                responses.setdefault(
                    str(status),
                    {"description": f"{TITLES[status]}. {WHEN[status]}", "content": content},
                )
    return document
