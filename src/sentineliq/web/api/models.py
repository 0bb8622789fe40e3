"""The API's input and output documents. Inputs are strict: no coercion, no unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    status: Literal["accepted", "duplicate", "refused"]
    alert_id: str | None = Field(
        default=None, description="The stored alert (the existing one for a duplicate)."
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


class IngestTotals(BaseModel):
    records: int
    accepted: int
    duplicate: int
    refused: int


class IngestResult(BaseModel):
    results: list[RecordResult]
    totals: IngestTotals
    without_delivery: int = Field(
        default=0,
        description="Accepted alerts queued for no provider (none is enabled in the workspace).",
    )
    warnings: list[str] = Field(
        default_factory=list, description="Warnings about the request as a whole."
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
    status: str
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


class AlertOut(BaseModel):
    id: str
    workspace_id: str
    fingerprint: str
    created_at: datetime
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
