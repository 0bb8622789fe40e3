"""Atlassian Document Format checks: the official JSON schema plus Jira's size limit."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from types import ModuleType
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from sentineliq.document.schema import adf_schema

_rs: ModuleType | None
try:  # optional speed-up from the dev extra; the pure-Python validator explains failures
    import jsonschema_rs as _rs
except ImportError:  # pragma: no cover - depends on the environment
    _rs = None

# Jira Cloud's fixed limit for description, textarea fields and comments (JRACLOUD-68949).
MAX_TEXT_CHARS = 32_767
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
NOT_A_DOCUMENT = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"


def serialized_length(doc: Any) -> int:
    """Characters of the compact JSON, the most lenient reasonable reading of Jira's limit."""
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))


@cache
def _fast() -> Any:
    return None if _rs is None else _rs.Draft4Validator(adf_schema())


@cache
def _slow() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(adf_schema())


def adf_problem(doc: Any) -> str | None:
    """None when `doc` is a valid ADF document within Jira's size limit, else why not."""
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        return NOT_A_DOCUMENT
    fast = _fast()
    valid = fast.is_valid(doc) if fast is not None else _slow().is_valid(doc)
    if not valid:
        return "Invalid Atlassian Document Format: " + _explain(_slow().iter_errors(doc))
    if serialized_length(doc) > MAX_TEXT_CHARS:
        return TOO_LONG
    return None


def _explain(errors: Iterable[ValidationError]) -> str:
    """Follow anyOf branches to the one whose node `type` matched, so the message names the
    real cause ("heading: attrs.level: 7 is greater than the maximum of 6"), not the schema's
    coarse "not valid under any of the given schemas"."""
    err = jsonschema.exceptions.best_match(errors)
    if err is None:  # pragma: no cover - only called for invalid documents
        return "invalid document"
    path = list(err.absolute_path)
    while err.context:
        branches: dict[Any, list[ValidationError]] = defaultdict(list)
        for sub in err.context:
            branches[sub.relative_schema_path[0]].append(sub)
        matching = [subs for subs in branches.values() if not any(_is_type_error(s) for s in subs)]
        if not matching:
            node_type = err.instance.get("type") if isinstance(err.instance, dict) else None
            if node_type is None:
                return f"{_where(path)}: {_short(err.instance)} is not an ADF node"
            noun = "mark" if len(path) >= 2 and path[-2] == "marks" else "node"
            return f"{_where(path)}: {noun} type '{node_type}' is not allowed here"
        deepest = max(matching[0], key=lambda s: len(s.absolute_path))
        err, path = deepest, list(deepest.absolute_path)
    return f"{_where(path)}: {err.message}"


def _is_type_error(err: ValidationError) -> bool:
    # The branch for another node type fails on the "type" discriminator itself.
    return list(err.relative_path) == ["type"] or (
        err.validator == "type" and not list(err.relative_path)
    )


def _where(path: list[Any]) -> str:
    out = "doc"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
