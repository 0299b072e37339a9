"""Helpers of the portal tests."""

from __future__ import annotations


def told(response) -> int:
    """The outcome a portal page reports: refusals are answered 200 (browsers log every 4xx
    page as a console error) with the real status in X-Servio-Status."""
    if response.status_code == 200 and response.has_header("X-Servio-Status"):
        return int(response["X-Servio-Status"])
    return response.status_code
