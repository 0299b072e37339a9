"""The OpenAPI document declares what clients meet: problem errors, bearer auth, cursors."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(db) -> dict:
    return Client().get("/api/v1/openapi.json").json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def problem_statuses(operation: dict) -> set[int]:
    return {
        int(status)
        for status, response in operation["responses"].items()
        if "application/problem+json" in response.get("content", {})
    }


def test_every_operation_declares_its_problem_responses(document):
    for path, method, operation in operations(document):
        declared = problem_statuses(operation)
        expected = {400, 422, 429, 503}
        if operation.get("security"):
            expected |= {401, 403}
        if "{" in path:
            expected.add(404)
        if "requestBody" in operation:
            expected |= {413, 415}
            if "multipart/form-data" in operation["requestBody"]["content"]:
                expected.add(507)
        if method == "post":
            expected.add(409)
        assert expected <= declared, (method, path, expected - declared)
        assert all(int(s) < 400 for s in operation["responses"] if int(s) not in declared)


def test_problem_schema_has_the_rfc_9457_members(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "errors" in problem["properties"]


def test_bearer_auth_everywhere_but_health(document):
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    for path, _method, operation in operations(document):
        if path.endswith("/health"):
            assert not operation.get("security")
        else:
            assert {"TokenAuth": []} in operation["security"], path


def _types(schema: dict) -> set[str]:
    return {schema["type"]} if "type" in schema else {s["type"] for s in schema.get("anyOf", [])}


def test_every_paginated_list_takes_a_cursor_and_a_limit(document):
    schemas = document["components"]["schemas"]
    lists = 0
    for path, _method, operation in operations(document):
        ok = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        ref = (ok or {}).get("schema", {}).get("$ref", "")
        if "next_cursor" not in schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}):
            continue
        lists += 1
        params = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
        assert "string" in _types(params["cursor"]), path
        assert "integer" in _types(params["limit"]), path
    assert lists >= 5


def test_page_query_is_typed_and_bounded(document):
    """The shared PageQuery: no "null" alternative to send, and the page size is bounded."""
    params = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/users"]["get"]["parameters"]
    }
    assert params["cursor"]["type"] == "string"
    assert params["limit"] == params["limit"] | {"type": "integer", "minimum": 1, "maximum": 200}
