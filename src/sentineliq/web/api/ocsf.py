"""Inputs: OCSF findings (Detection 2004, Security 2001, Vulnerability 2002; OCSF 1.x), one or a
JSON array per POST, or AWS Security Hub's EventBridge event. Answered like the Alertmanager
input, per finding, with what the source's status changed.

Its router is included before the inputs router, so `/inputs/ocsf` is this route even next to
a route with a path parameter in that segment.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sentineliq.inputs.ocsf import CLASSES
from sentineliq.web.api.alerts import MAX_RECORDS
from sentineliq.web.api.auth import Ingester
from sentineliq.web.api.inputs import InputIngestResult, _receive
from sentineliq.web.api.problems import ApiProblem

router = APIRouter(tags=["inputs"])

OCSF = "ocsf"
OCSF_PATH = "/workspaces/{workspace_id}/inputs/ocsf"

# A GuardDuty DNS command-and-control Detection Finding in OCSF 1.2, shaped as the OCSF
# project's own GuardDuty mapping writes it (github.com/ocsf/examples, Labs/ocsf-bento-lab); the
# test fixture tests/inputs/fixtures/ocsf_guardduty_detection_finding.json.
OCSF_EXAMPLE: dict[str, Any] = json.loads(
    files("sentineliq.web.api").joinpath("ocsf_example.json").read_text("utf-8")
)

_UID = {"type": "object", "properties": {"uid": {"type": "string"}, "name": {"type": "string"}}}
_FINDING: dict[str, Any] = {
    "type": "object",
    "required": ["class_uid"],
    "properties": {
        "class_uid": {"type": "integer", "enum": sorted(CLASSES)},
        "severity_id": {"type": "integer", "enum": [0, 1, 2, 3, 4, 5, 6, 99]},
        "status_id": {"type": "integer"},
        "state_id": {"type": "integer", "description": "OCSF 1.0 Security Finding's status."},
        "time": {"type": "integer", "description": "Epoch milliseconds."},
        "message": {"type": "string"},
        "metadata": {
            "type": "object",
            "properties": {
                "version": {"type": "string"},
                "product": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "vendor_name": {"type": "string"},
                        "uid": {"type": "string"},
                    },
                },
            },
        },
        "finding_info": {
            "type": "object",
            "required": ["uid", "title"],
            "properties": {
                "uid": {"type": "string", "minLength": 1},
                "title": {"type": "string", "minLength": 1},
                "desc": {"type": "string"},
                "src_url": {"type": "string"},
                "created_time": {"type": "integer"},
                "first_seen_time": {"type": "integer"},
                "types": {"type": "array", "items": {"type": "string"}},
                "attacks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "tactic": _UID,
                            "technique": _UID,
                            "sub_technique": _UID,
                        },
                    },
                },
            },
        },
        "observables": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "type_id": {"type": "integer"},
                    "value": {"type": "string"},
                },
            },
        },
        "resources": {"type": "array", "items": {"type": "object"}},
        "evidences": {"type": "array", "items": {"type": "object"}},
        "vulnerabilities": {"type": "array", "items": {"type": "object"}},
    },
}
_FINDINGS = {"type": "array", "minItems": 1, "maxItems": MAX_RECORDS, "items": _FINDING}
OCSF_BODY = {
    "required": True,
    "description": "One OCSF finding, a JSON array of them, or AWS Security Hub's EventBridge "
    "event (`detail.findings`). OCSF 1.0's `finding` is read where 1.1+ has `finding_info`.",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    _FINDING,
                    _FINDINGS,
                    {
                        "type": "object",
                        "description": "AWS Security Hub's EventBridge event",
                        "required": ["detail"],
                        "properties": {
                            "detail-type": {"type": "string"},
                            "detail": {
                                "type": "object",
                                "required": ["findings"],
                                "properties": {"findings": _FINDINGS},
                            },
                        },
                    },
                ]
            },
            "example": OCSF_EXAMPLE,
        }
    },
}


@router.post(
    OCSF_PATH,
    summary="Receive OCSF findings",
    description=(
        "Detection Finding (2004), Security Finding (2001) and Vulnerability Finding (2002) of "
        "OCSF 1.x, with the workspace's API key as a Bearer token. Each finding becomes one "
        "alert: `finding_info.uid` is its identity (with `metadata.product`), "
        "`finding_info.title` its title, `finding_info.desc` (or `message`) its description, "
        "`severity_id` its severity (1 info ... 5 critical, 6 fatal as critical), "
        "`finding_info.attacks[]` its ATT&CK tactics, techniques and sub-techniques, "
        "`observables[]` its observables, `resources[]` its affected assets, `evidences[]` its "
        "evidence and `finding_info.src_url` its link. The finding is kept with the alert "
        "(`source_payload`). `status_id` 3 (Suppressed) or 4 (Resolved) resolves the alert and "
        "transitions its tickets. Answered per finding like POST .../alerts: 200, 207 when some "
        "were refused (naming the field, e.g. `finding_info.uid`), 400 when the body holds no "
        "finding, 413 over the ingest limits."
    ),
    response_model=InputIngestResult,
    responses={207: {"model": InputIngestResult, "description": "Some findings were refused."}},
    openapi_extra={"requestBody": OCSF_BODY},
)
async def receive_ocsf(request: Request, caller: Ingester) -> JSONResponse:
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type.lower() != "application/json":
        raise ApiProblem(415, "send application/json")
    body = await request.body()
    result, refused = await run_in_threadpool(_receive, caller, OCSF, body)
    return JSONResponse(result.model_dump(mode="json"), status_code=207 if refused else 200)
