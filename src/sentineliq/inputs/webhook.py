"""The generic webhook: any JSON a tool sends, read through a declarative mapping.

A mapping names, for each alert field, a JMESPath expression (jmespath.org; the `jmespath`
package, the reference implementation the specification's own test suite runs against) that
finds it in the payload, plus a severity map and defaults. Mappings are per workspace and named;
the built-in presets (inputs.presets) read Splunk's and Elastic's webhooks and can be used by
name as they are or copied and adjusted.

How a value becomes a field (see docs/inputs.md#generic-webhook):
- text fields take a string as is, a number or boolean written out, a list's items joined;
- list fields (tags, assets, ATT&CK ids, observables) take a string as one item or a list's
  items (nested lists flattened, nulls and empty strings dropped); tags from an object are
  `key=value`;
- the fingerprint may select several values (`[sid, result]`): their JSON is hashed;
- nothing found (null, "", [] or {}) is absent: a required field's absence refuses the record
  naming the expression, an optional one's is simply not set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from sentineliq.alerts.model import Module, ObservableType, Severity
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.alerts.parse import RecordError
from sentineliq.inputs.base import InputAdapter, InputError, InputResult, Json

# A mapping's name is a path segment (.../inputs/{name}): a slug.
NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
# Names that are never a mapping's: the built-in formats (present and planned) and the words of
# the API's own paths.
RESERVED_NAMES = frozenset({"alertmanager", "ocsf", "webhook", "mappings", "dry-run", "settings"})
MAX_EXPRESSION = 1000
MAX_TAGS = 100
MAX_FINGERPRINT = 150  # longer values are hashed (the alert model's cap is 200 with the prefix)
DEFAULT_RESOLVED = ("resolved", "closed", "recovered")


def _compiled(expression: str) -> str:
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        message = " ".join(str(exc).split())
        raise ValueError(f"not a JMESPath expression: {message}") from None
    return expression


Expression = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_EXPRESSION),
    AfterValidator(_compiled),
]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MappedFields(BaseModel):
    """Where each alert field is in the payload: a JMESPath expression per field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Expression = Field(description="The alert's title. Required.")
    fingerprint: Expression = Field(
        description="The source's identity of the alert: records with the same value are one "
        "alert (repeats). Several values (`[sid, result]`) are hashed together. Required."
    )
    external_id: Expression | None = Field(
        default=None,
        description="The source's id of this notification: the same id and time sent again "
        "is a duplicate.",
    )
    description: Expression | None = Field(
        default=None, description="Text; an object becomes `key: value` lines."
    )
    severity: Expression | None = Field(
        default=None, description="Read through `severity_map`, then SentinelIQ's own names."
    )
    detected_at: Expression | None = Field(
        default=None,
        description="When it happened: RFC 3339, or epoch seconds/milliseconds. Unmapped: "
        "the time received; mapped but found nothing: the same, with a warning.",
    )
    link: Expression | None = Field(default=None, description="The link back to the source.")
    category: Expression | None = None
    tags: Expression | None = Field(
        default=None, description="A string, a list, or an object (`key=value` tags)."
    )
    affected_assets: Expression | None = Field(default=None, description="Hosts, accounts, ...")
    mitre: Expression | None = Field(
        default=None, description="MITRE ATT&CK technique or tactic ids (T1110, TA0006)."
    )
    threat_score: Expression | None = Field(default=None, description="0..100.")
    status: Expression | None = Field(
        default=None, description="The source's state: a value in `resolved_values` resolves."
    )


class WebhookMapping(BaseModel):
    """How a workspace reads one tool's webhook payloads."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "description": "Our scanner's findings",
                    "source": "Scanner",
                    "fields": {
                        "title": "finding.name",
                        "fingerprint": "finding.id",
                        "severity": "finding.level",
                        "detected_at": "finding.seen",
                        "link": "finding.url",
                        "affected_assets": "finding.hosts",
                    },
                    "observables": {"ip": "finding.hosts[?contains(@, '.')]"},
                    "severity_map": {"4": "critical", "3": "high", "2": "medium", "1": "low"},
                    "default_severity": "medium",
                }
            ]
        },
    )

    description: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="What the mapping reads (shown in lists)."
    )
    records: Expression | None = Field(
        default=None,
        description="Where a payload's alerts are, when it carries several (`events[]`); each "
        "is then mapped on its own. Unset: the payload is one alert (a JSON array of payloads "
        "is several).",
    )
    fields: MappedFields
    observables: Annotated[dict[ObservableType, Expression], Field(max_length=20)] = Field(
        default_factory=dict,
        description="Observable type to the expression finding its values (a string or list).",
    )
    severity_map: Annotated[dict[Word, Severity], Field(max_length=200)] = Field(
        default_factory=dict,
        description="Source value (case-insensitive; numbers as written) to SentinelIQ severity.",
    )
    default_severity: Severity = Field(
        default=Severity.MEDIUM, description="When the severity is absent or not understood."
    )
    resolved_values: Annotated[list[Word], Field(max_length=20)] = Field(
        default_factory=lambda: list(DEFAULT_RESOLVED),
        description="`status` values (case-insensitive) that resolve the alert.",
    )
    source: Word = Field(default="webhook", description="The alerts' `source`.")
    module: Module = Module.AEGIS
    extra_tags: Annotated[list[Word], Field(max_length=20)] = Field(
        default_factory=list, description="Tags every alert of this mapping gets."
    )

    def expressions(self) -> Iterator[tuple[str, str]]:
        """(target, expression) for every expression set."""
        for target, expression in self.fields.model_dump().items():
            if expression is not None:
                yield target, expression
        for kind, expression in self.observables.items():
            yield f"observables.{kind.value}", expression


def _present(value: object) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _items(value: object) -> list[object]:
    """A list field's items: lists flattened, absent values dropped."""
    if isinstance(value, list):
        return [item for part in value for item in _items(part)]
    return [value] if _present(value) else []


def _text(value: object, joiner: str = " ") -> str | None:
    if isinstance(value, dict):
        lines = [f"{key}: {_text(item) or ''}" for key, item in value.items() if _present(item)]
        return "\n".join(lines) or None
    if isinstance(value, list):
        parts = [_text(item) for item in _items(value)]
        return joiner.join(part for part in parts if part) or None
    return _scalar(value)


def _strings(value: object) -> list[str]:
    out: list[str] = []
    for item in _items(value):
        text = _scalar(item) if not isinstance(item, dict) else None
        if text is not None:
            out.append(text)
    return out


def _tags(value: object) -> list[str]:
    if isinstance(value, dict):
        return [
            f"{key}={text}" for key, item in value.items() if (text := _scalar(item)) is not None
        ]
    return [
        tag
        for item in _items(value)
        for tag in (_tags(item) if isinstance(item, dict) else _strings(item))
    ]


def _anything(value: object) -> bool:
    if isinstance(value, dict):
        return any(_anything(item) for item in value.values())
    if isinstance(value, list):
        return any(_anything(item) for item in value)
    return _present(value)


def _fingerprint(value: object) -> str | None:
    if isinstance(value, list | dict):
        if not _anything(value):
            return None
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
    text = _scalar(value)
    if text is not None and len(text) > MAX_FINGERPRINT:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:40]
    return text


_NUMBER = re.compile(r"^\d{9,13}(?:\.\d+)?$")


def _time(value: object) -> str | None:
    """An RFC 3339 text as is; epoch seconds or milliseconds (a number or its text) converted."""
    if isinstance(value, bool):
        return None
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        number = float(value.strip())
    if number is not None:
        seconds = number / 1000 if number > 1e11 else number
        try:
            return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            return str(value)
    return _scalar(value)


class _Found:
    """A record's values, each expression evaluated once; evaluation errors collected."""

    def __init__(self, record: object, expressions: Mapping[str, ParsedResult]) -> None:
        self.values: dict[str, object] = {}
        self.errors: list[tuple[str, str]] = []
        for target, parsed in expressions.items():
            try:
                self.values[target] = parsed.search(record)
            except JMESPathError as exc:
                self.errors.append((target, " ".join(str(exc).split())))
            except (TypeError, ValueError, ArithmeticError) as exc:  # a function fed odd data
                self.errors.append((target, str(exc) or type(exc).__name__))


class WebhookAdapter(InputAdapter[WebhookMapping]):
    """One named mapping at work: `adapt` reads payloads with it."""

    name = "webhook"
    settings_model = WebhookMapping
    field_sources: ClassVar[Mapping[str, str]] = {}

    def __init__(self, mapping_name: str = "webhook") -> None:
        self.mapping_name = mapping_name
        self._sources: dict[str, str] = {}

    def _source_field(self, name: str) -> str:
        head, dot, rest = name.partition(".")
        source = self._sources.get(head)
        return f"{source}{dot}{rest}" if source else name

    def adapt(self, payload: object, settings: WebhookMapping) -> InputResult:
        mapping = settings
        self._sources = {t: e for t, e in mapping.fields.model_dump().items() if e is not None}
        parsed = {target: jmespath.compile(expr) for target, expr in mapping.expressions()}
        payloads = payload if isinstance(payload, list) else [payload]
        if not payloads:
            raise InputError("", "an empty array: send one payload or an array of them")
        result = InputResult()
        number = 0
        for item in payloads:
            for record, raw in self._records(item, mapping):
                number += 1
                if not isinstance(record, dict):
                    result.errors.append(RecordError(number, "", "must be a JSON object"))
                    continue
                self._one(result, number, record, raw, mapping, parsed)
        return result

    def _records(self, payload: object, mapping: WebhookMapping) -> Iterator[tuple[object, Json]]:
        if mapping.records is None:
            yield payload, payload if isinstance(payload, dict) else {"payload": payload}
            return
        if not isinstance(payload, dict):
            yield payload, {"payload": payload}
            return
        try:
            found = jmespath.search(mapping.records, payload)
        except JMESPathError as exc:
            raise InputError(mapping.records, f"could not be evaluated: {exc}") from None
        items = found if isinstance(found, list) else [found] if _present(found) else []
        if not items:
            raise InputError(mapping.records, "found no alerts in the payload (`records`)")
        for item in items:
            yield item, item if isinstance(item, dict) else {"record": item}

    def _one(
        self,
        result: InputResult,
        number: int,
        record: Json,
        raw: Json,
        mapping: WebhookMapping,
        parsed: Mapping[str, ParsedResult],
    ) -> None:
        found = _Found(record, parsed)
        expressions = dict(mapping.expressions())
        if found.errors:
            result.errors.extend(
                RecordError(number, expressions[t], f"could not be evaluated for {t}: {p}")
                for t, p in found.errors
            )
            return
        values = found.values
        title = _text(values.get("title"))
        fingerprint = _fingerprint(values.get("fingerprint"))
        missing = [(t, v) for t, v in (("title", title), ("fingerprint", fingerprint)) if v is None]
        if missing:
            result.errors.extend(
                RecordError(
                    number,
                    expressions[target],
                    f"found nothing: the {target} is required (mapping {self.mapping_name})",
                )
                for target, _ in missing
            )
            return
        warnings: list[IngestWarning] = []
        severity = self._severity(values, mapping, expressions, warnings)
        detected_at = _time(values.get("detected_at"))
        if detected_at is None:
            detected_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            if "detected_at" in expressions:  # unmapped: the time received, by design
                warnings.append(
                    IngestWarning(
                        expressions["detected_at"], "found nothing: the time received was used"
                    )
                )
        status = _scalar(values.get("status"))
        resolved = status is not None and status.casefold() in {
            v.casefold() for v in mapping.resolved_values
        }
        fields: dict[str, Any] = {
            "title": title,
            "description": _text(values.get("description"), "\n") or "",
            "severity": severity.value,
            "source": mapping.source,
            "category": _text(values.get("category")),
            "detected_at": detected_at,
            "affected_assets": _strings(values.get("affected_assets")),
            "tags": [*mapping.extra_tags, *_tags(values.get("tags"))][:MAX_TAGS],
            "external_id": _text(values.get("external_id")),
            "fingerprint": f"{mapping.source.casefold()}:{fingerprint}",
            "link": _text(values.get("link")),
            "module": mapping.module.value,
            "mitre": _strings(values.get("mitre")),
            "observables": [
                {"type": kind.value, "value": value}
                for kind in mapping.observables
                for value in dict.fromkeys(_strings(values.get(f"observables.{kind.value}")))
            ],
        }
        fields = {key: value for key, value in fields.items() if value is not None}
        score = values.get("threat_score")
        if isinstance(score, int | float) and not isinstance(score, bool):
            fields["threat_score"] = round(score)
        elif _present(score):
            warnings.append(
                IngestWarning(expressions["threat_score"], f"{score!r} is not a number: ignored")
            )
        self.record(result, number, fields, raw=raw, resolved=resolved, warnings=tuple(warnings))

    def _severity(
        self,
        values: Mapping[str, object],
        mapping: WebhookMapping,
        expressions: Mapping[str, str],
        warnings: list[IngestWarning],
    ) -> Severity:
        where = expressions.get("severity", "severity")
        given = _scalar(values.get("severity"))
        if given is None:
            if "severity" in expressions:
                warnings.append(
                    IngestWarning(
                        where, f"found nothing: the default {mapping.default_severity.value}"
                    )
                )
            return mapping.default_severity
        folded = {key.casefold(): value for key, value in mapping.severity_map.items()}
        found = folded.get(given.casefold())
        if found is None and given.casefold() in {s.value for s in Severity}:
            found = Severity(given.casefold())
        if found is None:
            warnings.append(
                IngestWarning(
                    where,
                    f"{given!r} is not in the mapping's severity map: "
                    f"the default {mapping.default_severity.value} was used",
                )
            )
            return mapping.default_severity
        return found
