"""The API's input and output documents. Inputs are strict: no coercion, no unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, field_validator

from sentineliq.alerts.model import ObservableType
from sentineliq.lifecycle.fingerprint import (
    DEFAULT_KEY_OBSERVABLES,
    DEFAULT_RECIPE,
    FingerprintRecipe,
    Part,
)
from sentineliq.storage.deliveries import DeliveryView
from sentineliq.web.api.problems import FieldError


class StrictInput(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# --- alerts ---------------------------------------------------------------------------------------


class FieldWarning(BaseModel):
    field: str = Field(description='Dotted path of the field, e.g. "tags[2]".')
    message: str = Field(description="What was done to the value to accept the record.")


class RecordResult(BaseModel):
    record: int = Field(description="1-based position of the record in the request.")
    status: Literal["accepted", "occurrence", "duplicate", "refused"] = Field(
        description="accepted: a new alert; occurrence: a repeat of a known alert (the same "
        "problem again), recorded and reported to its ticket; duplicate: the same record sent "
        "again, nothing new; refused: see errors."
    )
    alert_id: str | None = Field(
        default=None,
        description="The stored alert (the known one for an occurrence or a duplicate).",
    )
    occurrence: int | None = Field(
        default=None, description="For an occurrence: the repeat's number (1 for the first)."
    )
    held: list[str] = Field(
        default_factory=list,
        description="Providers whose new ticket for this alert the storm guard held: it waits "
        "for an operator to release or discard it.",
    )
    errors: list[FieldError] = Field(default_factory=list)
    warnings: list[FieldWarning] = Field(
        default_factory=list,
        description="What was repaired to accept the record (null, empty or over-long values, "
        "odd characters, unknown fields, invalid optional values); kept with the alert.",
    )
    deliveries: int = Field(
        default=0, description="Deliveries queued for this record (one per enabled provider)."
    )
    without_delivery: bool = Field(
        default=False,
        description="Stored, but no ticket will be filed until a provider is enabled.",
    )
    not_ticketed: dict[str, str] = Field(
        default_factory=dict,
        description="Providers that file no ticket for it, and why (a brand-protection "
        "detection below the workspace's gate): stored and listed, not ticketed.",
    )


class IngestTotals(BaseModel):
    records: int
    accepted: int
    occurrence: int = Field(description="Repeats of known alerts.")
    duplicate: int
    refused: int
    held: int = Field(description="New tickets the storm guard held (all providers).")


class IngestResult(BaseModel):
    results: list[RecordResult]
    totals: IngestTotals
    without_delivery: int = Field(
        default=0,
        description="Accepted alerts queued for no provider (none is enabled in the workspace).",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Warnings about the request as a whole (alerts without a delivery, new "
        "tickets held by the storm guard).",
    )


class TicketLinkOut(BaseModel):
    provider: str
    issue_key: str
    url: str
    created_at: datetime


class DroppedFieldOut(BaseModel):
    field: str
    reason: str


class DeliveryOut(BaseModel):
    id: str
    alert_id: str
    alert_title: str
    provider: str
    operation: str = Field(
        description="What it does at the provider: create_issue (the alert's ticket), "
        "report_occurrences (a comment about repeats), transition_issue, ..."
    )
    status: str = Field(
        description="pending, in_flight, delivered, failed, dead, held (by the storm guard, "
        "waiting for release or discard) or discarded."
    )
    phase: str = Field(
        description="The status, or 'reconcile' while Jira is searched for an earlier, "
        "unanswered create before creating again."
    )
    attempts: int
    last_error: str | None
    error_kind: str | None
    issue_key: str | None
    url: str | None
    available_at: datetime
    updated_at: datetime
    provider_paused: bool
    dropped_fields: list[DroppedFieldOut] = Field(
        description="Fields filed without, or in a reduced form (e.g. a shortened description)."
    )

    @classmethod
    def from_view(cls, view: DeliveryView) -> DeliveryOut:
        return cls(
            id=view.id,
            alert_id=view.alert_id,
            alert_title=view.alert_title,
            provider=view.provider,
            operation=view.operation,
            status=view.status.value,
            phase=view.phase,
            attempts=view.attempts,
            last_error=view.last_error,
            error_kind=view.error_kind,
            issue_key=view.issue_key,
            url=view.url,
            available_at=view.available_at,
            updated_at=view.updated_at,
            provider_paused=view.provider_paused_at is not None,
            dropped_fields=[
                DroppedFieldOut(field=d.field, reason=d.reason) for d in view.dropped_fields
            ],
        )


class NoteOut(BaseModel):
    at: datetime
    author: str
    body: str = Field(description="Plain text.")
    source: str = Field(description='Where it came from, e.g. "jira:10042" (a comment id).')


class ObservableKeyOut(BaseModel):
    type: str
    value: str


class OccurrenceOut(BaseModel):
    seq: int = Field(description="The repeat's number: 1 for the first repeat.")
    received_at: datetime
    detected_at: datetime
    source_id: str | None = Field(description="The source's id of the repeated record.")
    severity: str
    raised_from: str | None = Field(
        description="When this repeat raised the alert's peak severity: the peak before it."
    )
    new_observables: list[ObservableKeyOut] = Field(
        description="Observables no earlier record of the alert had."
    )
    new_assets: list[str] = Field(description="Affected assets no earlier record named.")


class AlertListItem(BaseModel):
    id: str
    title: str
    severity: str
    status: str
    fingerprint: str
    detected_at: datetime
    created_at: datetime
    not_ticketed: dict[str, str] = Field(
        default_factory=dict,
        description="Providers that file no ticket for it, and why (a brand-protection "
        "detection below the workspace's gate).",
    )


class AlertList(BaseModel):
    alerts: list[AlertListItem] = Field(description="Newest first.")


class AlertOut(BaseModel):
    id: str
    workspace_id: str
    fingerprint: str
    created_at: datetime
    occurrence_count: int = Field(
        description="Repeats of the alert after the first record (0: it never came back)."
    )
    last_seen_at: datetime = Field(description="The latest detection time of it or a repeat.")
    peak_severity: str = Field(description="The highest severity it or a repeat had.")
    occurrences: list[OccurrenceOut] = Field(
        description="The latest repeats, newest first (at most 20; occurrence_count has all)."
    )
    alert: dict[str, Any] = Field(description="The alert as ingested (normalised).")
    warnings: list[FieldWarning] = Field(
        default_factory=list, description="What ingest repaired in the alert to accept it."
    )
    tickets: list[TicketLinkOut]
    deliveries: list[DeliveryOut]
    status: str = Field(
        default="new", description="The alert's current status (the ingested one is in alert)."
    )
    resolution: str | None = Field(
        default=None, description="The ticket's resolution while resolved from the ticket."
    )
    status_changed_at: datetime | None = None
    status_changed_by: str | None = Field(
        default=None, description='Who last changed the status, e.g. "jira:Alex Analyst".'
    )
    notes: list[NoteOut] = Field(default_factory=list)
    not_ticketed: dict[str, str] = Field(
        default_factory=dict,
        description="Providers that file no ticket for it, and why (a brand-protection "
        "detection below the workspace's gate): stored and listed, not ticketed.",
    )
    source_payload: dict[str, Any] | None = Field(
        default=None,
        description="What an input (e.g. .../inputs/alertmanager) was sent for the alert, "
        "verbatim; null for alerts sent in SentinelIQ's own format.",
    )


# --- providers ------------------------------------------------------------------------------------


class ProviderOut(BaseModel):
    provider: str
    title: str
    enabled: bool
    config: dict[str, Any] = Field(
        description="The settings, every secret masked as ********; the schema per provider is "
        "in the OpenAPI document."
    )
    secret_fields: list[str]
    config_version: int
    paused_at: datetime | None
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime


class EnableIn(StrictInput):
    backfill_hours: int = Field(
        default=24,
        ge=0,
        le=720,
        description="Queue a delivery for every alert received in this many hours that has "
        "none for this provider (alerts stored while it was off); 0 for none.",
    )

    @field_validator("backfill_hours", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        # JSON has one number type: 24.0 is the integer 24 (strings and 24.5 stay refused).
        return int(value) if isinstance(value, float) and value.is_integer() else value


class ProviderEnabledOut(ProviderOut):
    backfill_hours: int
    backfilled: int = Field(description="Deliveries the backfill queued.")


class ProviderList(BaseModel):
    providers: list[ProviderOut]
    available: list[str] = Field(description="Provider names this instance can configure.")


class ProviderSettingsIn(StrictInput):
    # Validated by the provider's own config model (whose rules go beyond JSON Schema: https, a
    # public host, ...); the OpenAPI document shows that model's schema per provider (openapi.py).
    config: dict[str, Any] = Field(
        description="The provider's settings. Secrets are write-only: an empty, masked "
        "(********) or absent secret keeps the stored one."
    )
    enabled: bool = True


class ConnectionTestIn(StrictInput):
    assignee_email: str | None = Field(
        default=None, max_length=320, description="Also check this user can be assigned."
    )


class CheckOut(BaseModel):
    name: str
    ok: bool
    detail: str


class ConnectionReportOut(BaseModel):
    ok: bool
    checks: list[CheckOut]


# --- deliveries -----------------------------------------------------------------------------------


class AttemptOut(BaseModel):
    attempt: int
    worker_id: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    error_kind: str | None
    message: str | None
    http_status: int | None
    retry_at: datetime | None


class DeliveryDetailOut(DeliveryOut):
    created_at: datetime
    delivered_at: datetime | None
    provider_paused_reason: str | None
    history: list[AttemptOut]


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]


class ReplayResult(BaseModel):
    replayed: list[str] = Field(description="Ids of the deliveries queued again.")


HeldId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class HeldSelectionIn(StrictInput):
    """Which held deliveries: their ids, or all of the workspace's (one of the two)."""

    # Checked by the route (naming the field); declared here so the document says it too.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["ids"], "properties": {"all": {"const": False}}},
                {
                    "required": ["all"],
                    "properties": {"all": {"const": True}},
                    "not": {"required": ["ids"]},
                },
            ]
        }
    )

    ids: list[HeldId] = Field(
        default_factory=list,
        max_length=1000,
        description="Ids of held deliveries (at least one).",
        json_schema_extra={"minItems": 1},
    )
    all: bool = Field(default=False, description="Every held delivery of the workspace.")


class HeldResult(BaseModel):
    action: Literal["released", "discarded"]
    ids: list[str] = Field(
        description="The deliveries changed, oldest first: released ones are pending (filed by "
        "the next worker run), discarded ones will never be filed."
    )
    count: int
    still_held: int = Field(description="Held deliveries the workspace has left.")


# --- workspace settings ---------------------------------------------------------------------------


class FingerprintRecipeIn(StrictInput):
    parts: list[Part] = Field(
        min_length=1,
        description="Alert attributes the fingerprint of an alert without its own fingerprint "
        "or external_id is made of (the title with digits, ids and times masked).",
    )
    # Lax for the items only: JSON carries an enum as its value, which strict mode refuses.
    observable_types: list[Annotated[ObservableType, Strict(False)]] = Field(
        default_factory=lambda: list(DEFAULT_KEY_OBSERVABLES),
        max_length=len(ObservableType),
        description="With 'observables' among the parts: the observable types that count.",
    )

    @field_validator("parts", "observable_types")
    @classmethod
    def _each_once(cls, values: list[Any]) -> list[Any]:
        if len(set(values)) != len(values):
            raise ValueError("name each one once")
        return values

    def recipe(self) -> FingerprintRecipe:
        return FingerprintRecipe(parts=self.parts, observable_types=self.observable_types)


class FingerprintRecipeOut(BaseModel):
    parts: list[str]
    observable_types: list[str]
    default: bool = Field(description="Whether this is the default recipe (none was set).")

    @classmethod
    def of(cls, recipe: FingerprintRecipe | None) -> FingerprintRecipeOut:
        shown = recipe or DEFAULT_RECIPE
        return cls(
            parts=list(shown.parts),
            observable_types=[t.value for t in shown.observable_types],
            default=recipe is None,
        )
