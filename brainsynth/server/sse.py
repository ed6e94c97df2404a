"""The OpenAPI description of a Server-Sent Events stream, shared by the jobs and datasets
routes (one `progress`/`end` event format)."""

from __future__ import annotations

from typing import Any


def event_schema(description: str, content_schema: dict[str, Any]) -> dict[str, Any]:
    """One event of a progress stream: `event`, `id`, `retry`, and `data`, a JSON document
    described by `content_schema`."""
    return {
        "type": "object",
        "description": description,
        "properties": {
            "event": {"type": "string", "enum": ["progress", "end"]},
            "id": {"type": "string"},
            "retry": {"type": "integer"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": content_schema,
            },
        },
    }
