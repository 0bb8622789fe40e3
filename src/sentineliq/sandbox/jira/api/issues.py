"""One issue: create, read, properties and comments (transitions and edits: `workflow`)."""

from __future__ import annotations

from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.api.base import API, ApiBase, wanted_fields
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import Issue
from sentineliq.sandbox.jira.rules import check_property
from sentineliq.sandbox.jira.views import NAVIGABLE, comment_json
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

        created = self.state.update_issue(req.params["issueIdOrKey"], put)
        return Response.empty(201 if created else 200)

    def get_comments(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        start = req.int_arg("startAt", 0)
        size = req.int_arg("maxResults", 100, maximum=5000)
        order = req.arg("orderBy") or "created"
        if order not in ("created", "+created", "-created"):
            raise JiraError(400, ["'orderBy' must be one of created, +created, -created."])
        comments = [
            comment_json(c, snap.issue, req.base_url, self._user) for c in snap.issue.comments
        ]
        if order == "-created":
            comments.reverse()
        return Response.json(
            {
                "startAt": start,
                "maxResults": size,
                "total": len(comments),
                "comments": comments[start : start + size],
            }
        )

    def add_comment(self, req: Request) -> Response:
        body = req.json_object().get("body")
        self.state.issue(req.params["issueIdOrKey"])
        self._require_write(req.caller, "add comments to this issue")
        problem = adf_problem(body)
        if problem is not None or not isinstance(body, dict):
            raise JiraError(400, [], {"comment": problem or "A comment body is required."})
        comment = self.state.add_comment(req.params["issueIdOrKey"], req.caller, body)
        snap = self.state.issue(req.params["issueIdOrKey"])
        return Response.json(comment_json(comment, snap.issue, req.base_url, self._user), 201)
