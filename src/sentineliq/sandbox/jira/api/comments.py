"""Issue comments: list (paged, ordered), read one, add one with comment properties.

As on Cloud, comment properties come back only with `expand=properties`; `orderBy` takes
created / +created / -created; a comment's author is the caller.
"""

from __future__ import annotations

from typing import Any

from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.api.base import ApiBase
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.rules import check_property
from sentineliq.sandbox.jira.views import comment_json
from sentineliq.sandbox.jira.wire import Request, Response

COMMENTS_DEFAULT_PAGE = 100  # the OpenAPI default for maxResults
COMMENTS_MAX_PAGE = 5000
_ORDERS = ("created", "+created", "-created")


class CommentApi(ApiBase):
    def get_comments(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        start = req.int_arg("startAt", 0)
        # A larger page is cut to the limit, not refused; the answer's maxResults says so.
        size = min(req.int_arg("maxResults", COMMENTS_DEFAULT_PAGE), COMMENTS_MAX_PAGE)
        order = req.arg("orderBy") or "created"
        if order not in _ORDERS:
            raise JiraError(400, ["'orderBy' must be one of created, +created, -created."])
        expand = "properties" in req.list_arg("expand")
        ordered = sorted(snap.issue.comments, key=lambda c: (c.created, int(c.id)))
        if order == "-created":
            ordered.reverse()
        page = [
            comment_json(c, snap.issue, req.base_url, self._user, with_properties=expand)
            for c in ordered[start : start + size]
        ]
        return Response.json(
            {"startAt": start, "maxResults": size, "total": len(ordered), "comments": page}
        )

    def get_comment(self, req: Request) -> Response:
        snap, comment = self.state.comment(req.params["issueIdOrKey"], req.params["id"])
        expand = "properties" in req.list_arg("expand")
        body = comment_json(comment, snap.issue, req.base_url, self._user, with_properties=expand)
        return Response.json(body)

    def add_comment(self, req: Request) -> Response:
        data = req.json_object()
        body = data.get("body")
        self.state.issue(req.params["issueIdOrKey"])  # 404 before 403, as Jira does
        self._require_write(req.caller, "add comments to this issue")
        problem = adf_problem(body)
        if problem is not None or not isinstance(body, dict):
            raise JiraError(400, [], {"comment": problem or "A comment body is required."})
        properties = _comment_properties(data.get("properties"))
        comment = self.state.add_comment(req.params["issueIdOrKey"], req.caller, body, properties)
        snap = self.state.issue(req.params["issueIdOrKey"])
        expand = "properties" in req.list_arg("expand")
        answer = comment_json(comment, snap.issue, req.base_url, self._user, with_properties=expand)
        return Response.json(answer, 201)


def _comment_properties(raw: Any) -> dict[str, Any]:
    """`properties` of a new comment ([{"key", "value"}], schema-checked already), with the
    limits Cloud puts on every entity property."""
    out: dict[str, Any] = {}
    for item in raw or []:
        key = item.get("key")
        if not isinstance(key, str) or "value" not in item:
            raise JiraError(400, ["Each comment property needs a 'key' and a 'value'."])
        problem = check_property(key, item["value"])
        if problem is not None:
            raise JiraError(400, [problem])
        out[key] = item["value"]
    return out
