"""OpenAPI links, derived from the document itself: from what an operation answers (a ticket's
`reference`, a record's `id`, a page's `next_cursor`) to the operations that take it in their
path or as `cursor`. Clients read them as "what to call next"; schemathesis follows them to test
sequences (create, then read, change and delete what was created; walk a list page by page)."""

from __future__ import annotations

import re
from typing import Any

PARAM = re.compile(r"\{([^}]+)\}")
# Path parameters read from a record's own field: a ticket is addressed by its reference.
BY_FIELD = {"reference": "reference"}


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Add `links` to each operation's success responses (links already declared are kept)."""
    schemas = document.get("components", {}).get("schemas", {})
    operations = [
        (path, method, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    for path, method, operation in operations:
        for status, response in operation.get("responses", {}).items():
            if not str(status).startswith("2"):
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            links = response.setdefault("links", {})
            for name, link in _links_from(path, method, operation, schema, schemas, operations):
                links.setdefault(name, link)
            if not links:
                del response["links"]
    return document


def _links_from(path, method, operation, schema, schemas, operations):
    body = _resolve(schema, schemas)
    if _is_page(body, schemas) and _takes(operation, "cursor"):
        yield "next_page", _next_page(path, operation)
    pointer, record = _record(body, schemas)
    if record is None:
        return
    fields = set(record.get("properties", {}))
    collection = _collection_of(path, method)
    for target_path, _method, target in operations:
        parameters = _parameters(target_path, path, pointer, fields, collection)
        if target is not operation and parameters is not None:
            yield (
                _link_name(target),
                {"operationId": target["operationId"], "parameters": parameters},
            )


def _next_page(path: str, operation: dict) -> dict:
    parameters = {"cursor": "$response.body#/next_cursor"}
    if _takes(operation, "limit"):
        parameters["limit"] = "$request.query.limit"
    parameters |= {name: f"$request.path.{name}" for name in PARAM.findall(path)}
    return {
        "operationId": operation["operationId"],
        "parameters": parameters,
        "description": "The next page of the same list, of the same size (there is none when "
        "next_cursor is null).",
    }


def _parameters(target_path, path, pointer, fields, collection) -> dict[str, str] | None:
    """How to fill each path parameter of `target_path` from a response with the record
    `fields` (at `pointer`) to a request on `path`; None when one cannot be, or when none comes
    from the response (that is no link, only the same request again)."""
    parameters, from_body = {}, False
    for name in PARAM.findall(target_path):
        if BY_FIELD.get(name) in fields:
            parameters[name] = f"$response.body#{pointer}/{BY_FIELD[name]}"
        elif "id" in fields and target_path.startswith(f"{collection}/{{{name}}}"):
            parameters[name] = f"$response.body#{pointer}/id"
        elif name in PARAM.findall(path):
            parameters[name] = f"$request.path.{name}"
            continue
        else:
            return None
        from_body = True
    return parameters if from_body else None


def _collection_of(path: str, method: str) -> str:
    """The collection a response's records belong to: the path itself for a list or a POST,
    the path without its last `/{id}` for an operation on one record."""
    if method in ("get", "post") and not path.endswith("}"):
        return path
    return path.rsplit("/", 1)[0]


def _record(body: dict, schemas: dict) -> tuple[str, dict | None]:
    """(JSON pointer prefix, schema) of the record a response carries: the body itself, the
    first element of an array, or the first item of a page."""
    if body.get("type") == "array":
        return "/0", _resolve(body.get("items", {}), schemas)
    if _is_page(body, schemas):
        items = _resolve(body["properties"]["items"], schemas)
        return "/items/0", _resolve(items.get("items", {}), schemas)
    if body.get("type") == "object" or "properties" in body:
        return "", body
    return "", None


def _is_page(body: dict, schemas: dict) -> bool:
    properties = body.get("properties", {})
    return "next_cursor" in properties and "items" in properties


def _takes(operation: dict, name: str) -> bool:
    return any(p.get("name") == name for p in operation.get("parameters", []))


def _link_name(operation: dict) -> str:
    """A short name: the handler's name without its module prefix (`servio_tickets_api_`)."""
    return re.sub(r"^servio_[a-z_]+?_api_", "", operation["operationId"])


def _resolve(schema: Any, schemas: dict) -> dict:
    for _ in range(20):
        if not isinstance(schema, dict):
            return {}
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
            continue
        if "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
            continue
        return schema
    return {}
