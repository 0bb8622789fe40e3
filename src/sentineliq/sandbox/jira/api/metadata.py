"""Project and create-screen metadata: project, createmeta issue types and fields, field."""

from __future__ import annotations

from typing import Any

from sentineliq.sandbox.jira.api.base import API, ApiBase
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.seed import FIELDS, FIELDS_BY_ID
from sentineliq.sandbox.jira.views import (
    create_field_json,
    field_json,
    issue_type_json,
    priority_json,
    project_json,
    project_summary_json,
)
from sentineliq.sandbox.jira.wire import Request, Response

CREATEMETA_MAX = 200


class MetadataApi(ApiBase):
    def project(self, req: Request) -> Response:
        project = self._project(req.params["projectIdOrKey"])
        return Response.json(project_json(project, req.base_url, self._user))

    def meta_types(self, req: Request) -> Response:
        project = self._project(req.params["projectIdOrKey"])
        start = req.int_arg("startAt", 0)
        size = req.int_arg("maxResults", 50, maximum=CREATEMETA_MAX)
        # Without create permission Jira lists no issue types to create.
        types = list(project.issue_types) if req.caller.can_create else []
        page = types[start : start + size]
        return Response.json(
            {
                "maxResults": size,
                "startAt": start,
                "total": len(types),
                "issueTypes": [issue_type_json(it, req.base_url) for it in page],
            }
        )

    def meta_fields(self, req: Request) -> Response:
        project = self._project(req.params["projectIdOrKey"])
        start = req.int_arg("startAt", 0)
        size = req.int_arg("maxResults", 50, maximum=CREATEMETA_MAX)
        type_id = req.params["issueTypeId"]
        issue_type = next((it for it in project.issue_types if it.id == type_id), None)
        if issue_type is None or not req.caller.can_create:
            raise JiraError(
                404,
                [
                    f"The issue type with id '{type_id}' does not exist, or you do not have "
                    "permission to create issues of this type."
                ],
            )
        base = req.base_url
        fields = []
        required = self.state.required(project, issue_type)
        for field_id in self.state.screen(project, issue_type):
            definition = FIELDS_BY_ID[field_id]
            allowed: list[dict[str, Any]] | None = None
            if definition.options:
                allowed = [
                    {"self": f"{base}{API}/customFieldOption/{o.id}", "value": o.value, "id": o.id}
                    for o in definition.options
                ]
            elif field_id == "components":
                allowed = [
                    {"self": f"{base}{API}/component/{c.id}", "id": c.id, "name": c.value}
                    for c in project.components
                ]
            elif field_id == "priority":
                allowed = [priority_json(p, base) for p in project.priorities]
            elif field_id == "issuetype":
                allowed = [issue_type_json(issue_type, base)]
            elif field_id == "project":
                allowed = [project_summary_json(project, base)]
            fields.append(
                create_field_json(definition, project, base, allowed, required=field_id in required)
            )
        page = fields[start : start + size]
        return Response.json(
            {"maxResults": size, "startAt": start, "total": len(fields), "fields": page}
        )

    def fields(self, req: Request) -> Response:
        return Response.json([field_json(f) for f in FIELDS])
