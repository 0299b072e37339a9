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
        if method in {"post", "put", "patch", "delete"}:
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


# --- links: what to call next ----------------------------------------------------------------


def _links(document: dict) -> list[tuple[str, str, str, str, dict]]:
    return [
        (method, path, str(status), name, link)
        for path, method, operation in operations(document)
        for status, response in operation["responses"].items()
        for name, link in response.get("links", {}).items()
    ]


def test_every_link_names_a_real_operation_and_its_parameters(document):
    by_id = {op["operationId"]: (path, op) for path, _m, op in operations(document)}
    links = _links(document)
    assert len(links) > 100
    for method, path, _status, name, link in links:
        target_path, target = by_id[link["operationId"]]  # KeyError: a link to nowhere
        names = {p["name"] for p in target.get("parameters", [])}
        assert set(link["parameters"]) <= names, (method, path, name)
        required = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        assert required <= set(link["parameters"]), (method, path, name, target_path)


def test_every_list_links_to_its_next_page(document):
    for path, method, operation in operations(document):
        if method != "get" or "cursor" not in {p["name"] for p in operation.get("parameters", [])}:
            continue
        link = operation["responses"]["200"]["links"]["next_page"]
        assert link["operationId"] == operation["operationId"], path
        assert link["parameters"]["cursor"] == "$response.body#/next_cursor", path


@pytest.mark.parametrize(
    ("post", "targets"),
    [
        ("/api/v1/tickets", {"get_ticket", "update_ticket", "add_comment", "transition_ticket"}),
        ("/api/v1/me/tokens", {"revoke_token"}),
        ("/api/v1/sla/calendars", {"update_calendar"}),
        ("/api/v1/tickets/{reference}/links", {"remove_link"}),
        ("/api/v1/tickets/{reference}/attachments", {"download_attachment"}),
    ],
)
def test_what_a_post_creates_links_to_what_acts_on_it(document, post, targets):
    responses = document["paths"][post]["post"]["responses"]
    assert targets <= set(responses["201"]["links"]), sorted(responses["201"]["links"])


def test_no_operation_declares_a_status_twice():
    """JSON keys are strings: an int 503 next to a "503" is a duplicated key in the served
    document, which Swagger UI refuses to render."""
    from servio.api.instance import api

    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            keys = [str(k) for k in operation.get("responses", {})]
            assert len(keys) == len(set(keys)), (method, path, keys)
