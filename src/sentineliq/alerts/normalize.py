"""Making what real senders emit into a valid Alert: refuse only what cannot become a ticket.

A record is refused only for: no usable title, a missing or unknown severity, a missing or
unreadable detected_at, any other date that cannot be read, or a link with a dangerous scheme.
Everything else is repaired and each repair is reported as an IngestWarning naming the field:
null is absent, empty strings are absent (or dropped from lists), over-long values are cut,
control characters become spaces, unknown fields and invalid optional values are ignored, an
invalid list item is dropped. The repaired record is then validated by the strict Alert model,
so what is stored is always a valid alert.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sentineliq.alerts.model import (
    HASH_OBSERVABLE_LENGTH,
    Alert,
    BrandProtection,
    CustodyEntry,
    Evidence,
    EvidenceHashes,
    Module,
    Observable,
    ObservableType,
)

Path = tuple[int | str, ...]

# Free text keeps its line breaks and tabs; every other string is one line.
MULTILINE_FIELDS = frozenset({"description", "notes"})
# Keys whose values are enumerations: read case-insensitively.
ENUM_FIELDS = frozenset(
    {"severity", "status", "module", "type", "tlp", "action", "detection_type", "infringement_type"}
)
# Enumerations whose words senders also join with spaces or hyphens ("Domain squatting").
_WORDS_JOINED = frozenset({"infringement_type", "detection_type"})
DATE_FIELDS = frozenset({"detected_at", "due_date", "collected_at", "at"})
# A record carrying one of these as its link is refused, not repaired: a script or inline
# document in a link back is an attack, not a cosmetic mistake.
DANGEROUS_SCHEMES = frozenset({"javascript", "vbscript", "data", "file", "blob"})
# Without these the record cannot become a useful ticket.
REFUSED_WHEN_INVALID = frozenset({"title", "severity", "detected_at"})
# Nested values refused rather than dropped: a detection's brand and infringement lead its
# ticket and decide whether one is filed; a typo must not silently gate a counterfeit out.
REFUSED_PATHS = frozenset(
    {
        ("brand_protection",),
        ("brand_protection", "brand"),
        ("brand_protection", "infringement_type"),
    }
)
# Replacement values for invalid required values that should not cost the record or item.
FALLBACKS: dict[tuple[str, ...], str] = {
    ("source",): "unknown",
    ("observables", "*", "type"): ObservableType.OTHER.value,
    ("observables", "*", "tlp"): "red",  # unknown marking: the most restrictive, never less
    ("evidence", "*", "type"): "other",
}
_CHILD_MODELS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {
    (Alert, "observables"): Observable,
    (Alert, "evidence"): Evidence,
    (Evidence, "hashes"): EvidenceHashes,
    (Evidence, "custody"): CustodyEntry,
    (Alert, "brand_protection"): BrandProtection,
}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
MAX_ROUNDS = 8  # repairs can reveal errors behind them (model validators run last)


@dataclass(frozen=True)
class IngestWarning:
    """Something ingest changed in a record to accept it: the field and what was done."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}

    @classmethod
    def from_json(cls, value: dict[str, str]) -> IngestWarning:
        return cls(field=value["field"], message=value["message"])


@dataclass(frozen=True)
class Refusal:
    field: str
    problem: str


@dataclass(frozen=True)
class Normalized:
    alert: Alert | None  # None when refused
    warnings: tuple[IngestWarning, ...] = ()
    refusals: tuple[Refusal, ...] = ()


def field_path(loc: Path) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def error_location(error: ErrorDetails) -> tuple[Path, str]:
    """The error's path and problem; a cross-field validator's "<field>: <problem>" is moved
    into the path."""
    loc: Path = tuple(error["loc"])
    problem = str(error["msg"]).removeprefix("Value error, ")
    head, sep, rest = problem.partition(": ")
    if sep and head.isidentifier() and error["type"] == "value_error":
        loc, problem = (*loc, head), rest
    if error["type"] == "extra_forbidden":
        problem = "unknown field"
    return loc, problem


def normalize_alert(record: dict[str, Any]) -> Normalized:
    """Repair `record` (a decoded JSON object; not modified) into an Alert, or refuse it."""
    value = _copy(record)
    warnings: list[IngestWarning] = []
    refusals = _prepare(value, (), warnings)
    _brand_protection(value, warnings)
    if refusals:
        return Normalized(None, refusals=tuple(refusals))
    for _ in range(MAX_ROUNDS):
        try:
            # JSON mode keeps strictness (no "5" -> 5) while still reading ISO dates and URLs.
            alert = Alert.model_validate_json(json.dumps(value))
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        else:
            return Normalized(alert, tuple(warnings))
        refusals = _repair(value, errors, warnings)
        if refusals:
            return Normalized(None, refusals=tuple(refusals))
    last = [error_location(error) for error in errors]
    return Normalized(None, refusals=tuple(Refusal(field_path(loc), p) for loc, p in last))


def _copy(value: Any) -> Any:
    """A copy of a decoded JSON value (containers copied, scalars are immutable): what
    copy.deepcopy gives, without its memo and dispatch, which cost more than the rest."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# --- before validation: nulls, odd characters, letter case, link schemes, hash shapes ---------


def _prepare(value: Any, path: Path, warnings: list[IngestWarning]) -> list[Refusal]:
    refusals: list[Refusal] = []
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            where = (*path, key)
            if item is None:
                del value[key]
                warnings.append(IngestWarning(field_path(where), "null; treated as absent"))
            elif isinstance(item, str):
                value[key] = _prepare_text(item, where, warnings)
            else:
                refusals.extend(_prepare(item, where, warnings))
        refusals.extend(_check_link(value, path))
        _retype_bad_hash(value, path, warnings)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                value[index] = _prepare_text(item, (*path, index), warnings)
            else:
                refusals.extend(_prepare(item, (*path, index), warnings))
    return refusals


def _prepare_text(text: str, path: Path, warnings: list[IngestWarning]) -> str:
    name = next((part for part in reversed(path) if isinstance(part, str)), "")
    suspect = _SUSPECT_MULTILINE if name in MULTILINE_FIELDS else _SUSPECT
    if suspect.search(text) is not None:
        text = _replace_odd(text, path, name, warnings)
    if name in ENUM_FIELDS and len(path) <= 5 and not isinstance(path[-1], int):
        folded = text.strip().lower()
        if name == "tlp":
            folded = folded.removeprefix("tlp:").strip()
        if name in _WORDS_JOINED:
            folded = re.sub(r"[\s-]+", "_", folded)
        if folded != text:
            warnings.append(IngestWarning(field_path(path), f"read {_shown(text)} as {folded!r}"))
            text = folded
    return text


def _replace_odd(text: str, path: Path, name: str, warnings: list[IngestWarning]) -> str:
    where = field_path(path)
    surrogates = sum(1 for char in text if "\ud800" <= char <= "\udfff")
    if surrogates:
        # Legal JSON escapes but not text: no database or ticket system could store them.
        text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
        warnings.append(
            IngestWarning(where, f"{_count(surrogates, 'unpaired surrogate')} replaced by U+FFFD")
        )
    multiline = name in MULTILINE_FIELDS
    odd = sum(1 for char in text if _is_odd(char, multiline))
    if odd:
        text = "".join(" " if _is_odd(char, multiline) else char for char in text)
        warnings.append(
            IngestWarning(where, f"{_count(odd, 'control character')} replaced by spaces")
        )
    return text


# Every character _replace_odd may change: control characters (category Cc: U+0000-U+001F,
# U+007F-U+009F), line and paragraph separators (Zl, Zp), surrogates. Most text has none, and
# one search is much cheaper than asking unicodedata about every character.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Free text keeps tabs, line breaks and separators.
_SUSPECT_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What _check_link removes before reading the scheme: whitespace and control characters.
_LINK_NOISE = re.compile("[\\s\x00-\x1f\x7f-\x9f]")


def _is_odd(char: str, multiline: bool) -> bool:
    if multiline and char in "\t\n\r":
        return False
    category = unicodedata.category(char)
    # Line and paragraph separators would break a one-line value such as a ticket summary.
    return category == "Cc" or (not multiline and category in ("Zl", "Zp"))


def _check_link(value: dict[str, Any], path: Path) -> list[Refusal]:
    if path == ():
        name = "link"
    elif path == ("brand_protection",):
        name = "screenshot_url"
    else:
        return []
    link = value.get(name)
    if not isinstance(link, str):
        return []
    # Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
    compact = link
    if _LINK_NOISE.search(link) is not None:
        compact = "".join(c for c in link if not c.isspace() and unicodedata.category(c) != "Cc")
    match = _SCHEME.match(compact)
    if match and match.group(1).lower() in DANGEROUS_SCHEMES:
        scheme = match.group(1).lower()
        problem = f"the {scheme}: scheme is not allowed (use http or https)"
        return [Refusal(field_path((*path, name)), problem)]
    return []


def _brand_protection(value: dict[str, Any], warnings: list[IngestWarning]) -> None:
    """A detection is an Eclipse alert whatever module it was sent with; a confidence given as
    a percentage (1 < c <= 100) is read as the fraction it means."""
    section = value.get("brand_protection")
    if not isinstance(section, dict):
        return
    module = value.get("module")
    if module is None:
        value["module"] = Module.ECLIPSE.value
    elif module != Module.ECLIPSE.value:
        value["module"] = Module.ECLIPSE.value
        note = (
            f"read {_shown(module)} as 'eclipse' (brand_protection is a brand-protection detection)"
        )
        warnings.append(IngestWarning("module", note))
    confidence = section.get("confidence")
    if (
        isinstance(confidence, int | float)
        and not isinstance(confidence, bool)
        and 1 < confidence <= 100
    ):
        section["confidence"] = confidence / 100
        note = f"read {confidence} as a percentage: {confidence / 100:g}"
        warnings.append(IngestWarning("brand_protection.confidence", note))


def _retype_bad_hash(value: dict[str, Any], path: Path, warnings: list[IngestWarning]) -> None:
    if len(path) != 2 or path[0] != "observables":
        return
    kind, text = value.get("type"), value.get("value")
    length = next((n for t, n in HASH_OBSERVABLE_LENGTH.items() if t.value == kind), None)
    if length is None or not isinstance(text, str):
        return
    if not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", text.strip()):
        value["type"] = ObservableType.OTHER.value
        message = f"value is not {length} hexadecimal characters; kept as type 'other'"
        warnings.append(IngestWarning(field_path((*path, "type")), message))


# --- after validation: repair what the model refused, or refuse the record -------------------


@dataclass(frozen=True)
class _Repair:
    path: Path
    remove: bool
    value: Any = None


def _repair(value: Any, errors: list[ErrorDetails], warnings: list[IngestWarning]) -> list[Refusal]:
    refusals: list[Refusal] = []
    repairs: dict[Path, tuple[_Repair, IngestWarning]] = {}
    for error in errors:
        loc, problem = error_location(error)
        decided = _decide(loc, problem, error)
        if isinstance(decided, Refusal):
            refusals.append(decided)
        else:
            repairs.setdefault(decided[0].path, decided)
    if refusals:
        return refusals
    removed = [path for path, (repair, _) in repairs.items() if repair.remove]
    kept = {
        path: item
        for path, item in repairs.items()
        if not any(len(r) < len(path) and path[: len(r)] == r for r in removed)
    }
    for path, (repair, warning) in kept.items():
        warnings.append(warning)
        if not repair.remove:
            _set(value, path, repair.value)
    for path in sorted((p for p, (r, _) in kept.items() if r.remove), key=_order, reverse=True):
        _remove(value, path)
    return []


def _decide(
    loc: Path, problem: str, error: ErrorDetails
) -> Refusal | tuple[_Repair, IngestWarning]:
    kind, given = error["type"], error.get("input")
    where = field_path(loc)
    if kind == "string_too_long" and isinstance(given, str):
        limit = int(error.get("ctx", {}).get("max_length", len(given)))
        if loc == ("fingerprint",):
            # Cutting an identity could merge two problems into one ticket; a digest cannot.
            digest = "sha256:" + hashlib.sha256(given.encode()).hexdigest()
            note = f"longer than {limit} characters; replaced by its SHA-256"
            return _Repair(loc, False, digest), IngestWarning(where, note)
        note = f"cut from {len(given)} to {limit} characters"
        return _Repair(loc, False, given[: limit - 1] + "…"), IngestWarning(where, note)
    if kind == "too_long" and isinstance(given, list):
        limit = int(error.get("ctx", {}).get("max_length", len(given)))
        note = f"cut from {len(given)} to {limit} items"
        return _Repair(loc, False, given[:limit]), IngestWarning(where, note)
    if (len(loc) == 1 and loc[0] in REFUSED_WHEN_INVALID) or loc in REFUSED_PATHS:
        return Refusal(where, problem)
    last = loc[-1] if loc else ""
    if last in DATE_FIELDS and kind not in ("missing", "extra_forbidden"):
        return Refusal(where, problem)
    pattern = tuple("*" if isinstance(part, int) else part for part in loc)
    fallback = FALLBACKS.get(pattern)
    if fallback is not None:
        what = "missing" if kind == "missing" else _with_input(problem, given)
        note = f"{what}; set to {fallback!r}"
        return _Repair(loc, False, fallback), IngestWarning(where, note)
    if kind == "extra_forbidden":
        return _Repair(loc, True), IngestWarning(where, "unknown field; ignored")
    target = _removable(loc)
    if target is None:
        return Refusal(where, problem)
    if target != loc:
        inner = field_path(loc[len(target) :]).lstrip(".")
        note = f"dropped: {inner}: {_with_input(problem, given)}"
        return _Repair(target, True), IngestWarning(field_path(target), note)
    if given is None:
        note = "null; dropped"
    elif kind == "string_too_short" and isinstance(given, str):
        note = "empty string dropped" if isinstance(last, int) else "empty; treated as absent"
    else:
        note = f"{_with_input(problem, given)}; {'dropped' if isinstance(last, int) else 'ignored'}"
    return _Repair(loc, True), IngestWarning(where, note)


def _removable(loc: Path) -> Path | None:
    """The deepest part of `loc` that can go: a list item, or an optional or unknown field."""
    for end in range(len(loc), 0, -1):
        prefix = loc[:end]
        last = prefix[-1]
        if isinstance(last, int):
            return prefix
        owner = _model_at(prefix[:-1])
        if owner is None:
            continue
        field = owner.model_fields.get(last)
        if field is None or not field.is_required():
            return prefix
    return None


def _model_at(path: Path) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Alert
    for part in path:
        if isinstance(part, str):
            model = _CHILD_MODELS.get((model, part)) if model is not None else None
    return model


def _order(path: Path) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in path)


def _parent(value: Any, path: Path) -> Any:
    """The container holding the last element of `path`; None if it is gone."""
    for part in path[:-1]:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _set(value: Any, path: Path, new: Any) -> None:
    parent = _parent(value, path)
    if isinstance(parent, dict) or (isinstance(parent, list) and isinstance(path[-1], int)):
        with contextlib.suppress(IndexError):
            parent[path[-1]] = new  # type: ignore[index]


def _remove(value: Any, path: Path) -> None:
    parent = _parent(value, path)
    if isinstance(parent, dict) or (isinstance(parent, list) and isinstance(path[-1], int)):
        with contextlib.suppress(KeyError, IndexError):
            del parent[path[-1]]  # type: ignore[arg-type]


def _with_input(problem: str, given: Any) -> str:
    if isinstance(given, str | int | float | bool):
        return f"{problem} (got {_shown(given)})"
    return problem


def _shown(given: object) -> str:
    text = repr(given)
    return text if len(text) <= 60 else text[:57] + "..."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
