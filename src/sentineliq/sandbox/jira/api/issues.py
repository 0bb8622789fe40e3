"""One issue: create, read, properties and transitions (comments: `comments`)."""

from __future__ import annotations

from typing import Any

from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.api.base import API, ApiBase, wanted_fields
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.fieldchecks import NOT_ON_SCREEN
from sentineliq.sandbox.jira.model import Issue
from sentineliq.sandbox.jira.rules import check_property, find_transition
from sentineliq.sandbox.jira.seed import TRANSITIONS
from sentineliq.sandbox.jira.views import NAVIGABLE, transition_json
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

    def get_transitions(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        only = req.arg("transitionId")
        available = [
            transition_json(t, req.base_url)
            for t in TRANSITIONS
            if t.to.id != snap.issue.status.id and (only is None or t.id == only)
        ]
        return Response.json({"expand": "transitions", "transitions": available})

    def do_transition(self, req: Request) -> Response:
        body = req.json_object()
        ref = req.params["issueIdOrKey"]
        self.state.issue(ref)
        self._require_write(req.caller, "transition this issue")
        raw = body.get("transition")
        transition_id = raw.get("id") if isinstance(raw, dict) else None
        if transition_id is None:
            raise JiraError(400, ["Missing 'transition' identifier"])
        transition = find_transition(transition_id)
        if transition is None:
            raise JiraError(400, [f"Transition id '{transition_id}' is not valid for this issue."])
        errors = {
            f: NOT_ON_SCREEN.format(field=f)
            for f in (body.get("fields") or {})
            if f != "resolution"
        }
        comments: list[Any] = []
        for name, operations in (body.get("update") or {}).items():
            if name != "comment":
                errors[name] = NOT_ON_SCREEN.format(field=name)
                continue
            for op in operations:
                doc = op.get("add", {}).get("body") if isinstance(op.get("add"), dict) else None
                problem = adf_problem(doc)
                if problem is not None:
                    errors["comment"] = problem
                comments.append(doc)
        if errors:
            raise JiraError(400, [], errors)
        self.state.transition(ref, transition.to)
        for doc in comments:
            self.state.add_comment(ref, req.caller, doc)
        return Response.empty(204)
