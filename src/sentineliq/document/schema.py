"""The official ADF JSON schema, shipped with the package (see schemas/SOURCES.md)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def adf_schema() -> dict[str, Any]:
    text = files("sentineliq.document").joinpath("schemas/adf-full.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
