"""Moving and editing one issue: transitions (GET, POST), resolutions and the edit call (PUT).

Which transitions an issue offers depends on the site's workflow and its current status
(`workflow`); a done transition sets the resolution from `fields.resolution` (Done by default)
and the resolution date, and `update.comment` adds comments in the same request, as on Cloud.
"""

from __future__ import annotations

from typing import Any

from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.api.base import API, ApiBase
from sentineliq.sandbox.jira.edit import check_edit
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.fieldchecks import NOT_ON_SCREEN
from sentineliq.sandbox.jira.model import Issue
from sentineliq.sandbox.jira.state import invalid_transition
from sentineliq.sandbox.jira.views import transition_json
from sentineliq.sandbox.jira.wire import Request, Response
from sentineliq.sandbox.jira.workflow import RESOLUTIONS, Resolution, find_resolution, is_done


def resolution_json(resolution: Resolution, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}{API}/resolution/{resolution.id}",
        "id": resolution.id,
        "name": resolution.name,
        "description": resolution.description,
    }


class WorkflowApi(ApiBase):
    def resolutions(self, req: Request) -> Response:
        return Response.json([resolution_json(r, req.base_url) for r in RESOLUTIONS])

    def get_transitions(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        only = req.arg("transitionId")
        workflow = self.state.workflow
        available = [
            {**transition_json(t, req.base_url), "isGlobal": workflow.name == "simple"}
            for t in workflow.available(snap.issue.status)
            if only is None or t.id == only
        ]
        return Response.json({"expand": "transitions", "transitions": available})

    def do_transition(self, req: Request) -> Response:
        body = req.json_object()
        ref = req.params["issueIdOrKey"]
        snap = self.state.issue(ref)
        self._require_write(req.caller, "transition this issue")
        raw = body.get("transition")
        transition_id = raw.get("id") if isinstance(raw, dict) else None
        if transition_id is None:
            raise JiraError(400, ["Missing 'transition' identifier"])
        transition = self.state.workflow.find(snap.issue.status, transition_id)
        if transition is None:
            raise JiraError(400, [invalid_transition(transition_id)])
        fields: dict[str, Any] = body.get("fields") or {}
        errors = {f: NOT_ON_SCREEN.format(field=f) for f in fields if f != "resolution"}
        resolution: Resolution | None = None
        if "resolution" in fields:
            if not is_done(transition.to) or not self.state.workflow.resolution_screen:
                # Only a done transition's screen holds the resolution field, if it has one.
                errors["resolution"] = NOT_ON_SCREEN.format(field="resolution")
            else:
                resolution, problem = _resolution(fields["resolution"])
                if problem is not None:
                    errors["resolution"] = problem
        comments: list[dict[str, Any]] = []
        for name, operations in (body.get("update") or {}).items():
            if name != "comment":
                errors[name] = NOT_ON_SCREEN.format(field=name)
                continue
            for op in operations:
                doc = op.get("add", {}).get("body") if isinstance(op.get("add"), dict) else None
                problem = adf_problem(doc)
                if problem is not None or not isinstance(doc, dict):
                    errors["comment"] = problem or "A comment body is required."
                    continue
                comments.append(doc)
        if errors:
            raise JiraError(400, [], errors)
        self.state.apply_transition(
            ref, transition.id, author=req.caller, resolution=resolution, comments=comments
        )
        return Response.empty(204)

    def edit_issue(self, req: Request) -> Response:
        body = req.json_object()
        ref = req.params["issueIdOrKey"]
        snap = self.state.issue(ref)  # 404 before 403, as Jira does
        self._require_write(req.caller, "edit this issue")
        # Turning notifications off needs admin rights; without them Cloud ignores the flag
        # (the documented behaviour), here: anyone but the project lead.
        quiet = (req.arg("notifyUsers") or "true").lower() == "false"
        notify = not (quiet and req.caller.account_id == snap.project.lead_account_id)

        def edit(issue: Issue) -> None:
            # Checked under the state's lock against the live issue (labels add/remove).
            values = check_edit(body, issue, snap.project, self.state)
            for field_id, value in values.items():
                if value is None:
                    issue.values.pop(field_id, None)
                else:
                    issue.values[field_id] = value

        self.state.update_issue(ref, edit)
        if notify:
            self.state.notify(snap.issue.key, "issue_updated")
        return Response.empty(204)


def _resolution(raw: Any) -> tuple[Resolution | None, str | None]:
    if not isinstance(raw, dict) or not (raw.get("id") or raw.get("name")):
        return None, "Could not find valid 'id' or 'name' in resolution object."
    found = find_resolution(raw)
    if found is None:
        given = raw.get("name") or raw.get("id")
        return None, f"Resolution '{given}' does not exist."
    return found, None
