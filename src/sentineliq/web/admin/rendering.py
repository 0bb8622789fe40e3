"""Jinja2 templates (autoescaped) and the helpers they use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/admin-static"


def when(value: datetime | None) -> str:
    """Timestamps in UTC, to the second: one zone for everyone reading the same log."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def short_id(value: str) -> str:
    return value[:8]


_environment = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    # Every template is .html, so everything interpolated is escaped.
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["when"] = when
_environment.filters["short_id"] = short_id
_environment.globals["static"] = STATIC_PATH
templates = Jinja2Templates(env=_environment)


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    values: dict[str, Any] = {"page": None, "signed": None, "flash": None, "title": "", **context}
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    assert isinstance(response, HTMLResponse)
    return response
