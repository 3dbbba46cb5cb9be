"""PDF reports of published rounds (WeasyPrint): the department report card
and the round bulletin."""

from __future__ import annotations


def report_request(*, round_id: int) -> None:
    """Queue the bulletin of a round just published."""
