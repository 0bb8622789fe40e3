"""What every input adapter shares: the record it makes, the result of one payload, and the one
way a source's fields become an alert (normalized like the native format, errors named in the
source's own terms).

An adapter is domain code: it reads a decoded payload and returns records, never doing I/O.
Unknown fields never fail it; a missing essential field refuses that record only, naming it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from sentineliq import errors
from sentineliq.alerts.normalize import IngestWarning, normalize_alert
from sentineliq.alerts.parse import ParsedRecord, ParseResult, RecordError

Json = dict[str, Any]


@dataclass(frozen=True)
class InputRecord(ParsedRecord):
    """An accepted record with what its source said, verbatim, and its state at the source."""

    raw: Json = field(default_factory=dict)  # stored with the alert: nothing said is lost
    resolved: bool = False  # the source says the problem is over: the alert is resolved


@dataclass
class InputResult:
    accepted: list[InputRecord] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the payload as a whole

    def parse_result(self) -> ParseResult:
        """The same, as the native ingest's result (the per-record answer reads it)."""
        return ParseResult(accepted=list(self.accepted), errors=list(self.errors))


class InputError(errors.InputError, ValueError):
    """A payload the adapter cannot read as a whole (not an object, no list of alerts...)."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}" if field_name else problem)
        self.field = field_name
        self.problem = problem


S = TypeVar("S", bound=BaseModel)


class InputAdapter(ABC, Generic[S]):
    """One format. `settings_model` is the workspace's settings for it (all fields defaulted)."""

    name: ClassVar[str]
    settings_model: type[S]
    # The source's field a native alert field came from, for errors and warnings.
    field_sources: ClassVar[Mapping[str, str]] = {}

    def settings(self, stored: Mapping[str, Any] | None) -> S:
        """The workspace's stored settings; the defaults when none (or stale ones) are stored."""
        try:
            # From JSON text: a strict model takes enum values only there.
            return self.settings_model.model_validate_json(json.dumps(dict(stored or {})))
        except ValidationError:
            return self.settings_model()

    @abstractmethod
    def adapt(self, payload: object, settings: S) -> InputResult:
        """The payload's records; InputError when it cannot be read as a whole."""

    def record(
        self,
        result: InputResult,
        number: int,
        fields: Json,
        *,
        raw: Json,
        resolved: bool = False,
        warnings: tuple[IngestWarning, ...] = (),
    ) -> None:
        """Validate `fields` (a native alert) like the native format does and add the record,
        accepted or refused; fields are named as the source names them."""
        normalized = normalize_alert(fields)
        if normalized.alert is None:
            result.errors.extend(
                RecordError(number, self._source_field(r.field), r.problem)
                for r in normalized.refusals
            )
            return
        repaired = tuple(
            IngestWarning(self._source_field(w.field), w.message) for w in normalized.warnings
        )
        result.accepted.append(
            InputRecord(number, normalized.alert, warnings + repaired, raw=raw, resolved=resolved)
        )

    def _source_field(self, name: str) -> str:
        head, dot, rest = name.partition(".")
        source = self.field_sources.get(head)
        return f"{source}{dot}{rest}" if source else name
