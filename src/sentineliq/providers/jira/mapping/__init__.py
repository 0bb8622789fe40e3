"""TicketDraft -> a Jira Cloud create-issue request, decided without I/O.

Three parts: `screen` (the create screen the provider fetched: fields, schemas, allowed values),
`limits` (Jira's text limits for summaries, labels and text fields) and `request` (the fields and
properties of the create, with every optional field left out recorded as `Dropped`). Callers
import from here.
"""

from sentineliq.providers.jira.assignees import AssigneeLookup
from sentineliq.providers.jira.mapping.limits import (
    LABEL_MAX,
    SUMMARY_MAX,
    TEXTFIELD_MAX,
    cut,
    sanitize_label,
    sanitize_labels,
    sanitize_line,
    summary_of,
    utf16_len,
)
from sentineliq.providers.jira.mapping.request import (
    IDEMPOTENCY_PREFIX,
    MANAGED_FIELDS,
    PROPERTY_KEY,
    CreateRequest,
    Dropped,
    build_request,
    idempotency_label,
    shape_value,
    textarea_adf,
)
from sentineliq.providers.jira.mapping.screen import (
    AllowedValue,
    CreateScreen,
    FieldMeta,
    IssueTypeMeta,
    resolve_issue_type,
)

__all__ = [
    "IDEMPOTENCY_PREFIX",
    "LABEL_MAX",
    "MANAGED_FIELDS",
    "PROPERTY_KEY",
    "SUMMARY_MAX",
    "TEXTFIELD_MAX",
    "AllowedValue",
    "AssigneeLookup",  # what build_request takes for the assignee
    "CreateRequest",
    "CreateScreen",
    "Dropped",
    "FieldMeta",
    "IssueTypeMeta",
    "build_request",
    "cut",
    "idempotency_label",
    "resolve_issue_type",
    "sanitize_label",
    "sanitize_labels",
    "sanitize_line",
    "shape_value",
    "summary_of",
    "textarea_adf",
    "utf16_len",
]
