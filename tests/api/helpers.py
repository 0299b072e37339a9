"""Assertions shared by the API tests."""

from __future__ import annotations

PROBLEM_TYPE = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem document with this status; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM_TYPE), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], member
    return body


def error_fields(body: dict) -> set[str]:
    """The fields a validation problem names."""
    return {error["field"] for error in body.get("errors", [])}


def without_request_details(body: dict) -> dict:
    """A problem body minus what differs per request (its URL and request id)."""
    return {k: v for k, v in body.items() if k not in {"instance", "request_id"}}
