"""Structured JSON logs on stderr, with secrets scrubbed before anything is written."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|authorization|api[_-]?key|credential|cookie", re.I
)
# Basic credentials and Fernet tokens, should one ever reach a message by accident.
_SECRET_VALUE = re.compile(
    r"(Basic|Bearer)\s+[A-Za-z0-9+/=._-]{8,}"  # Authorization header values
    r"|gAAAAA[A-Za-z0-9_=-]{20,}"  # Fernet tokens (our encrypted secrets)
    r"|ATAT[A-Za-z0-9_=-]{20,}"  # Atlassian API tokens
    r"|siqh_[A-Za-z0-9_-]{8,}"  # input URL tokens (sender URLs), wherever they appear
    r"|(?<=/hooks/)[^/\s\"'?#]+"  # the token part of a sender URL's path, whatever its shape
)
MASK = "********"


def scrub(value: Any) -> Any:
    """A JSON-ready copy of `value`: values of secret-looking keys masked (an absent one stays
    None), and credential-shaped text masked wherever it appears. Used for logs and the audit log.
    """
    if isinstance(value, str):
        return _SECRET_VALUE.sub(MASK, value)
    if isinstance(value, Mapping):
        return {
            str(key): MASK if _SECRET_KEY.search(str(key)) and item is not None else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def scrub_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = MASK if _SECRET_KEY.search(key) else scrub(event[key])
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
    scrub_secrets,
]


def configure_logging(level: str | None = None) -> None:
    """JSON lines on stderr for structlog and standard-library loggers alike (the Jira client
    logs through `logging`), every line scrubbed by the same processor."""
    name = (level or os.environ.get("SENTINELIQ_LOG_LEVEL") or "INFO").upper()
    numeric = logging.getLevelNamesMapping().get(name, logging.INFO)
    structlog.configure(
        processors=[*_SHARED, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *_SHARED],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    # uvicorn's own logging config (when something used it) stops its loggers at their own
    # handlers; send them through the scrubbing JSON handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        served = logging.getLogger(name)
        served.handlers = []
        served.propagate = True
    # The HTTP stack logs every request at INFO; our client logs what matters, classified.
    for noisy in ("httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
