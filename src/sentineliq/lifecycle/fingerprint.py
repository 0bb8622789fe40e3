"""Recognising a repeat: the fingerprint that makes two alerts the same problem.

A source's own `fingerprint` wins, then its `external_id`. Without either, the fingerprint is
derived by a recipe: by default module, source, the title with its variable parts masked (digits,
hex ids, timestamps: "Login failure for 10.0.0.5 at 12:01" and "... 10.0.0.9 at 12:07" are one
problem) and the key observables (hashes, domains, URLs: the same sample or site is the same
problem; attacking IPs rotate, so they are not part of it). A workspace can choose its own recipe.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sentineliq.alerts.model import Alert, ObservableType

Part = Literal["module", "source", "title", "category", "observables", "assets"]

DEFAULT_KEY_OBSERVABLES = (
    ObservableType.HASH_SHA256,
    ObservableType.HASH_SHA1,
    ObservableType.HASH_MD5,
    ObservableType.DOMAIN,
    ObservableType.URL,
)


def _default_parts() -> list[Part]:
    return ["module", "source", "title", "observables"]


class FingerprintRecipe(BaseModel):
    """What a derived fingerprint is made of (for alerts without fingerprint or external id)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    parts: list[Part] = Field(
        default_factory=_default_parts,
        min_length=1,
        description="Alert attributes the fingerprint is made of; the title is normalized.",
    )
    observable_types: list[ObservableType] = Field(
        default_factory=lambda: list(DEFAULT_KEY_OBSERVABLES),
        description="With 'observables' among the parts: which observable types count.",
    )


DEFAULT_RECIPE = FingerprintRecipe()

# Order matters: whole timestamps and ids before the digits inside them. A hex id is a run of
# hex digits holding both a digit and a letter ("deadbeef42"), so words like "cafe" survive.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_HEX_ID = r"\b(?:0x)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]+\b"
_MASKS = (
    (re.compile(_TIMESTAMP), "<ts>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
    (re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"), "<time>"),
    (re.compile(_UUID), "<uuid>"),
    (re.compile(_HEX_ID), "<hex>"),
    (re.compile(r"\d+"), "#"),
)
_SPACE = re.compile(r"\s+")


def normalize_title(title: str) -> str:
    """The title with its variable parts masked, case and spacing folded."""
    text = _SPACE.sub(" ", title.casefold()).strip()
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def derived_basis(alert: Alert, recipe: FingerprintRecipe) -> list[str]:
    basis: list[str] = []
    for part in recipe.parts:
        match part:
            case "module":
                basis.append(alert.module.value)
            case "source":
                basis.append(alert.source.casefold())
            case "title":
                basis.append(normalize_title(alert.title))
            case "category":
                basis.append((alert.category or "").casefold())
            case "observables":
                wanted = set(recipe.observable_types)
                values = {
                    f"{o.type.value}:{o.value.casefold()}"
                    for o in alert.observables
                    if o.type in wanted
                }
                basis.append(",".join(sorted(values)))
            case "assets":
                basis.append(",".join(sorted({a.casefold() for a in alert.affected_assets})))
    return basis


def fingerprint_of(alert: Alert, recipe: FingerprintRecipe = DEFAULT_RECIPE) -> str:
    """The identity of the problem `alert` reports: repeats share it."""
    if alert.fingerprint:
        return alert.fingerprint
    if alert.external_id:
        basis = [alert.module.value, alert.source, "id", alert.external_id]
    else:
        basis = ["recipe", *derived_basis(alert, recipe)]
    return "sha256:" + hashlib.sha256("\x1f".join(basis).encode()).hexdigest()
