"""Issue link types (GET /issueLinkType) and linking two issues (POST /issueLink)."""

from __future__ import annotations

from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.api.base import ApiBase
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.links import find_link_type, issue_ref, link_type_json
from sentineliq.sandbox.jira.state import ISSUE_NOT_FOUND
from sentineliq.sandbox.jira.wire import Request, Response


class LinkApi(ApiBase):
    def link_types(self, req: Request) -> Response:
        types = [link_type_json(t, req.base_url) for t in self.state.link_types()]
        return Response.json({"issueLinkTypes": types})

    def link_issues(self, req: Request) -> Response:
        """201 with an empty body, as Cloud answers; a duplicate link is "created" again
        without a second one. The optional comment goes on the outward (from) issue."""
        body = req.json_object()
        link_type = find_link_type(self.state.link_types(), body.get("type"))
        if link_type is None:
            raise JiraError(404, ["No issue link type with name or id given was found."])
        source, target = issue_ref(body.get("outwardIssue")), issue_ref(body.get("inwardIssue"))
        if source is None or target is None:
            raise JiraError(400, ["Both 'inwardIssue' and 'outwardIssue' need a key or an id."])
        for ref in (source, target):
            if self.state.find_issue(ref) is None:
                raise JiraError(404, [ISSUE_NOT_FOUND])
        if not req.caller.can_create:
            raise JiraError(404, ["You do not have the permission to link issues."])
        comment = body.get("comment")
        doc = comment.get("body") if isinstance(comment, dict) else None
        if comment is not None:
            problem = adf_problem(doc)
            if problem is not None or not isinstance(doc, dict):
                raise JiraError(400, [], {"comment": problem or "A comment body is required."})
        if source.upper() == target.upper() or (
            self.state.find_issue(source) is self.state.find_issue(target)
        ):
            raise JiraError(400, ["You cannot link an issue to itself."])
        self.state.link(link_type, source, target)
        if isinstance(doc, dict):
            self.state.add_comment(source, req.caller, doc)
        return Response(201, b"", None)
