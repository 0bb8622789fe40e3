"""Issues: create (one, or up to 50 in bulk), read and properties (transitions and edits:
`workflow`; comments: `comments`)."""

from __future__ import annotations

from typing import Any

from sentineliq.sandbox.jira.api.base import API, ApiBase, wanted_fields
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import Issue
from sentineliq.sandbox.jira.rules import check_property
from sentineliq.sandbox.jira.views import NAVIGABLE
from sentineliq.sandbox.jira.wire import Request, Response

# Jira Cloud's documented limit for POST /rest/api/3/issue/bulk ("Creates upto 50 issues").
MAX_BULK_CREATE = 50
# Jira's exact wording for more than 50 elements is not published; this names the limit.
TOO_MANY = "Bulk create is limited to {limit} issues per request ({count} were sent)."


class IssueApi(ApiBase):
    def create_issue(self, req: Request) -> Response:
        snap = self.state.create_issue(req.json_object(), req.caller)
        issue = snap.issue
        return Response.json(
            {"id": issue.id, "key": issue.key, "self": f"{req.base_url}{API}/issue/{issue.id}"},
            201,
        )

    def create_issues(self, req: Request) -> Response:
        """POST /issue/bulk: each element is created exactly as a single create would be (same
        rules, same errors); the ones refused are listed by `failedElementNumber` (0-based), the
        created ones in request order. 201 when any was created, 400 (same shape) when none."""
        updates = req.json_object().get("issueUpdates") or []
        if len(updates) > MAX_BULK_CREATE:
            # Refused whole, before any element is looked at.
            raise JiraError(400, [TOO_MANY.format(limit=MAX_BULK_CREATE, count=len(updates))])
        issues: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for number, element in enumerate(updates):
            try:
                snap = self.state.create_issue(element, req.caller)
            except JiraError as refused:
                errors.append(
                    {
                        "status": refused.status,
                        "elementErrors": refused.body(),
                        "failedElementNumber": number,
                    }
                )
                continue
            issue = snap.issue
            issues.append(
                {"id": issue.id, "key": issue.key, "self": f"{req.base_url}{API}/issue/{issue.id}"}
            )
        status = 201 if issues or not errors else 400
        return Response.json({"issues": issues, "errors": errors}, status)

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
