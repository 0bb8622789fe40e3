"""The API's input and output documents. Inputs are strict: no coercion, no unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sentineliq.storage.deliveries import DeliveryView
from sentineliq.web.api.problems import FieldError


class StrictInput(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# --- alerts ---------------------------------------------------------------------------------------


class RecordResult(BaseModel):
    record: int = Field(description="1-based position of the record in the request.")
    status: Literal["accepted", "duplicate", "refused"]
    alert_id: str | None = Field(
        default=None, description="The stored alert (the existing one for a duplicate)."
    )
    errors: list[FieldError] = Field(default_factory=list)


class IngestTotals(BaseModel):
    records: int
    accepted: int
    duplicate: int
    refused: int


class IngestResult(BaseModel):
    results: list[RecordResult]
    totals: IngestTotals


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


class AlertOut(BaseModel):
    id: str
    workspace_id: str
    fingerprint: str
    created_at: datetime
    alert: dict[str, Any] = Field(description="The alert as ingested (normalised).")
    tickets: list[TicketLinkOut]
    deliveries: list[DeliveryOut]


# --- providers ------------------------------------------------------------------------------------


class ProviderOut(BaseModel):
    provider: str
    title: str
    enabled: bool
    config: dict[str, Any] = Field(description="The settings, every secret masked as ********.")
    secret_fields: list[str]
    config_version: int
    paused_at: datetime | None
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime


class ProviderList(BaseModel):
    providers: list[ProviderOut]
    available: list[str] = Field(description="Provider names this instance can configure.")


class ProviderSettingsIn(StrictInput):
    config: dict[str, Any] = Field(
        description=(
            "The provider's settings (for jira: base_url, email, api_token, project_key, "
            "issue_type, priority_map, custom_fields, timeout_s). Secrets are write-only: an "
            "empty, masked or absent secret keeps the stored one."
        )
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
