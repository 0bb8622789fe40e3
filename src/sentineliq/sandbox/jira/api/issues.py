"""One issue: create, read and properties (transitions and edits: `workflow`; comments:
`comments`)."""

from __future__ import annotations

from sentineliq.sandbox.jira.api.base import API, ApiBase, wanted_fields
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import Issue
from sentineliq.sandbox.jira.rules import check_property
from sentineliq.sandbox.jira.views import NAVIGABLE
from sentineliq.sandbox.jira.wire import Request, Response


class IssueApi(ApiBase):
    def create_issue(self, req: Request) -> Response:
        snap = self.state.create_issue(req.json_object(), req.caller)
        issue = snap.issue
        return Response.json(
            {"id": issue.id, "key": issue.key, "self": f"{req.base_url}{API}/issue/{issue.id}"},
            201,
        )

    def get_issue(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        wanted = wanted_fields(req.list_arg("fields"), default=NAVIGABLE)
        props = req.list_arg("properties")
        return Response.json(self._issue_json(snap, req.base_url, wanted, props))

    def list_properties(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        base = f"{req.base_url}{API}/issue/{snap.issue.id}/properties"
        keys = [{"self": f"{base}/{k}", "key": k} for k in snap.issue.properties]
        return Response.json({"keys": keys})

    def get_property(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        key = req.params["propertyKey"]
        if key not in snap.issue.properties:
            raise JiraError(404, [f"The property with key '{key}' does not exist."])
        return Response.json({"key": key, "value": snap.issue.properties[key]})

    def put_property(self, req: Request) -> Response:
        key, value = req.params["propertyKey"], req.json()
        self.state.issue(req.params["issueIdOrKey"])  # 404 before 403, as Jira does
        self._require_write(req.caller, "edit the issue")
        problem = check_property(key, value)
        if problem is not None:
            raise JiraError(400, [problem])

        def put(issue: Issue) -> bool:
            created = key not in issue.properties
            issue.properties[key] = value
            return created

        # Entity properties are not fields: Cloud leaves the issue's `updated` alone.
        created = self.state.update_issue(req.params["issueIdOrKey"], put, touch=False)
        return Response.empty(201 if created else 200)
