"""Schemas shared by every router."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema


class FieldError(Schema):
    field: str = Field(..., description="The field, e.g. `name` or `address.city`.")
    message: str


class Problem(Schema):
    """An RFC 9457 problem document: the body of every API error."""

    type: str = Field(..., description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str = Field(..., description="What went wrong and what to do about it.")
    instance: str | SkipJsonSchema[None] = None
    request_id: str | SkipJsonSchema[None] = Field(None, description="Quote it in reports.")
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        None, description="One entry per invalid field (validation errors)."
    )


class Out(BaseModel):
    """Base of output schemas the views fill from dicts they build themselves.

    ninja's `Schema` wraps every nested object in an attribute resolver written in Python (for
    ORM objects); on a page of 50 tickets that cost more than the query. Plain pydantic models
    validate the dicts in pydantic-core instead; the JSON is the same.
    """
