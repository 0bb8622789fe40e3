"""Refusals of description content that Jira Cloud makes beyond the ADF schema, switchable per test.

- A description limit lower than 32,767: Jira measures a description its own way (not confirmed
  how), so a document we measured as fitting may still be refused as too long, with the same
  message naming 32,767.
- Unsupported content: for some documents Jira answers a generic 400 with no field named
  (`UNSUPPORTED_CONTENT`); here, descriptions holding any of the chosen node types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sentineliq.sandbox.jira.adf import MAX_TEXT_CHARS, TOO_LONG, serialized_length
from sentineliq.sandbox.jira.errors import JiraError

UNSUPPORTED_CONTENT = (
    "We can't create this issue for you right now, it could be due to unsupported content "
    "you've entered into one or more of the issue fields. If this situation persists, contact "
    "your administrator as they'll be able to access more info in the logs."
)


def _node_types(node: Any) -> Iterable[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("type"), str):
            yield node["type"]
        for child in node.get("content") or ():
            yield from _node_types(child)


@dataclass(frozen=True)
class ContentRules:
    description_limit: int = MAX_TEXT_CHARS
    unsupported_nodes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 1 <= self.description_limit <= MAX_TEXT_CHARS:
            raise ValueError(f"the description limit must be between 1 and {MAX_TEXT_CHARS}")

    @staticmethod
    def _description(body: Mapping[str, Any]) -> Any:
        fields = body.get("fields")
        return fields.get("description") if isinstance(fields, Mapping) else None

    def field_errors(self, body: Mapping[str, Any]) -> dict[str, str]:
        """The description's size refusal, reported with the other field errors."""
        doc = self._description(body)
        if isinstance(doc, Mapping) and serialized_length(doc) > self.description_limit:
            return {"description": TOO_LONG}
        return {}

    def check(self, body: Mapping[str, Any]) -> None:
        """Raise Jira's 400 for an otherwise valid create whose description is refused."""
        errors = self.field_errors(body)
        if errors:
            raise JiraError(400, [], errors)
        doc = self._description(body)
        if self.unsupported_nodes and self.unsupported_nodes & set(_node_types(doc)):
            raise JiraError(400, [UNSUPPORTED_CONTENT], {})
