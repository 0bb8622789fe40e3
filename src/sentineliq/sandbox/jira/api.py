"""The Jira Cloud REST v3 endpoints the sandbox implements (see the package docstring)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sentineliq.sandbox.jira import jql
from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.clock import jira_timestamp, utc_now
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import Issue, Project, User
from sentineliq.sandbox.jira.rules import NOT_ON_SCREEN, check_property, find_transition
from sentineliq.sandbox.jira.seed import FIELDS, FIELDS_BY_ID, TRANSITIONS
from sentineliq.sandbox.jira.state import ISSUE_NOT_FOUND, IssueSnapshot, SandboxState
from sentineliq.sandbox.jira.views import (
    NAVIGABLE,
    comment_json,
    create_field_json,
    field_json,
    issue_json,
    issue_type_json,
    priority_json,
    project_json,
    project_summary_json,
    transition_json,
    user_json,
)
from sentineliq.sandbox.jira.wire import Request, Response, Route

API = "/rest/api/3"
CREATEMETA_MAX = 200
SEARCH_MAX_IDS = 5000  # page size limit when only id/key are requested
SEARCH_MAX_FIELDS = 100  # ... and when other fields are
USER_SEARCH_MAX = 1000
MAX_SEARCH_PROPERTIES = 5
MAX_RECONCILE = 50
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)


class JiraApi:
    """Request handlers over a SandboxState; `routes()` wires them to paths."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        issue = f"{API}/issue/{{issueIdOrKey}}"
        return [
            Route("GET", f"{API}/serverInfo", self.server_info, auth=False),
            Route("GET", f"{API}/myself", self.myself),
            Route("GET", f"{API}/project/{{projectIdOrKey}}", self.project),
            Route("GET", f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes", self.meta_types),
            Route(
                "GET",
                f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes/{{issueTypeId}}",
                self.meta_fields,
            ),
            Route("GET", f"{API}/field", self.fields),
            Route("GET", f"{API}/user/search", self.user_search),
            Route("GET", f"{API}/user/assignable/search", self.assignable_search),
            Route("POST", f"{API}/issue", self.create_issue, validate_body=True),
            Route("GET", issue, self.get_issue),
            Route("GET", f"{issue}/properties", self.list_properties),
            Route("GET", f"{issue}/properties/{{propertyKey}}", self.get_property),
            Route(
                "PUT", f"{issue}/properties/{{propertyKey}}", self.put_property, validate_body=True
            ),
            Route("GET", f"{issue}/comment", self.get_comments),
            Route("POST", f"{issue}/comment", self.add_comment, validate_body=True),
            Route("GET", f"{issue}/transitions", self.get_transitions),
            Route("POST", f"{issue}/transitions", self.do_transition, validate_body=True),
            Route("GET", f"{API}/search/jql", self.search),
            Route("POST", f"{API}/search/jql", self.search, validate_body=True),
            Route("GET", f"{API}/search", self.search_removed),
            Route("POST", f"{API}/search", self.search_removed),
        ]

    # -- helpers ------------------------------------------------------------------------------

    def _user(self, account_id: str) -> User | None:
        return self.state.find_user(account_id)

    def _project(self, ref: str) -> Project:
        project = self.state.find_project(ref)
        if project is None:
            kind = "id" if ref.isdigit() else "key"
            raise JiraError(404, [f"No project could be found with {kind} '{ref}'."])
        return project

    def _issue_json(
        self,
        snap: IssueSnapshot,
        base: str,
        wanted: Sequence[str] = NAVIGABLE,
        props: Sequence[str] = (),
    ) -> dict[str, Any]:
        return issue_json(snap.issue, snap.project, base, self._user, wanted, props)

    @staticmethod
    def _require_write(caller: User, action: str) -> None:
        if not caller.can_create:
            raise JiraError(403, [f"You do not have permission to {action}."])

    # -- server, user, project, metadata ----------------------------------------------------

    def server_info(self, req: Request) -> Response:
        now = utc_now()
        return Response.json(
            {
                "baseUrl": req.base_url,
                "displayUrl": req.base_url,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100294,
                "buildDate": "2026-11-01T00:00:00.000+0000",
                "serverTime": jira_timestamp(now),
                "scmInfo": "sentineliq-sandbox",
                "serverTitle": "SentinelIQ Jira sandbox",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            }
        )

    def myself(self, req: Request) -> Response:
        body = user_json(req.caller, req.base_url)
        body["groups"] = {"size": 1, "items": []}
        body["applicationRoles"] = {"size": 1, "items": []}
        return Response.json(body)

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

    # -- users ------------------------------------------------------------------------------------

    @staticmethod
    def _matches(user: User, query: str) -> bool:
        q = query.lower()
        if not q:
            return True
        email = user.email.lower()
        # A hidden address can be looked up exactly but not enumerated by prefix.
        if email == q or (user.email_visible and email.startswith(q)):
            return True
        name = user.display_name.lower()
        return name.startswith(q) or any(w.startswith(q) for w in name.split())

    def _user_page(self, req: Request, users: list[User]) -> Response:
        start = req.int_arg("startAt", 0)
        size = req.int_arg("maxResults", 50, maximum=USER_SEARCH_MAX)
        return Response.json([user_json(u, req.base_url) for u in users[start : start + size]])

    def user_search(self, req: Request) -> Response:
        query, account_id, prop = req.arg("query"), req.arg("accountId"), req.arg("property")
        if query is None and account_id is None and prop is None:
            raise JiraError(400, ["One of 'query', 'accountId' or 'property' must be provided."])
        if query is not None and account_id is not None:
            raise JiraError(400, ["Provide either 'query' or 'accountId', not both."])
        if not req.caller.can_browse_users:
            return Response.json([])  # Cloud answers an empty list, not an error
        users = [u for u in self.state.users() if u.active]
        if account_id is not None:
            users = [u for u in users if u.account_id == account_id]
        elif query is not None:
            users = [u for u in users if self._matches(u, query)]
        else:
            users = []  # no user properties exist in the sandbox
        return self._user_page(req, users)

    def assignable_search(self, req: Request) -> Response:
        query, account_id = req.arg("query"), req.arg("accountId")
        project_ref, issue_ref = req.arg("project"), req.arg("issueKey") or req.arg("issueId")
        if project_ref is None and issue_ref is None:
            raise JiraError(400, ["One of 'project', 'issueKey' or 'issueId' must be provided."])
        if query is None and account_id is None:
            raise JiraError(400, ["One of 'query' or 'accountId' must be provided."])
        if query is not None and account_id is not None:
            raise JiraError(400, ["Provide either 'query' or 'accountId', not both."])
        if project_ref is not None:
            self._project(project_ref)
        elif issue_ref is not None and self.state.find_issue(issue_ref) is None:
            raise JiraError(404, [ISSUE_NOT_FOUND])
        users = [u for u in self.state.users() if u.active and u.assignable]
        if account_id is not None:
            users = [u for u in users if u.account_id == account_id]
        else:
            users = [u for u in users if self._matches(u, query or "")]
        # Privacy hides the address in the answer, never from the match (see `_matches`).
        return self._user_page(req, users)

    # -- issues ----------------------------------------------------------------------------------

    def create_issue(self, req: Request) -> Response:
        snap = self.state.create_issue(req.json_object(), req.caller)
        issue = snap.issue
        return Response.json(
            {"id": issue.id, "key": issue.key, "self": f"{req.base_url}{API}/issue/{issue.id}"},
            201,
        )

    def get_issue(self, req: Request) -> Response:
        snap = self.state.issue(req.params["issueIdOrKey"])
        wanted = _wanted_fields(req.list_arg("fields"), default=NAVIGABLE)
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

    # -- search -------------------------------------------------------------------------------

    def search_removed(self, req: Request) -> Response:
        raise JiraError(410, [SEARCH_REMOVED])

    def search(self, req: Request) -> Response:
        if req.method == "POST":
            body = req.json_object()
            text = body.get("jql") or ""
            token = body.get("nextPageToken")
            max_results = body.get("maxResults", 50)
            fields = list(body.get("fields") or [])
            props = list(body.get("properties") or [])
            reconcile = [str(i) for i in body.get("reconcileIssues") or []]
        else:
            text = req.arg("jql") or ""
            token = req.arg("nextPageToken")
            max_results = req.int_arg("maxResults", 50)
            fields = req.list_arg("fields")
            props = req.list_arg("properties")
            reconcile = req.list_arg("reconcileIssues")
        if max_results < 1:
            raise JiraError(400, ["The 'maxResults' parameter must be at least 1."])
        if len(props) > MAX_SEARCH_PROPERTIES:
            raise JiraError(400, [f"You can request at most {MAX_SEARCH_PROPERTIES} properties."])
        if len(reconcile) > MAX_RECONCILE:
            raise JiraError(400, [f"You can reconcile at most {MAX_RECONCILE} issues."])

        query = jql.parse(text)
        predicate = jql.compile_query(query, self.state)
        wanted = _wanted_fields(fields, default=("id",))
        id_only = set(wanted) <= {"id", "key"}
        size = min(max_results, SEARCH_MAX_IDS if id_only else SEARCH_MAX_FIELDS)
        offset = _decode_token(token, text) if token else 0

        hits = [s for s in self.state.searchable(reconcile) if predicate(s.issue, s.project)]
        order = jql.sort_key(query.order)
        hits.sort(key=lambda s: order(s.issue))
        page = hits[offset : offset + size]
        out: dict[str, Any] = {
            "issues": [self._search_hit(s, req.base_url, wanted, props) for s in page]
        }
        if offset + size < len(hits):
            out["nextPageToken"] = _encode_token(offset + size, text)
        out["isLast"] = "nextPageToken" not in out
        return Response.json(out)

    def _search_hit(
        self, snap: IssueSnapshot, base: str, wanted: Sequence[str], props: Sequence[str]
    ) -> dict[str, Any]:
        if list(wanted) == ["id"] and not props:
            return {"id": snap.issue.id}
        hit = self._issue_json(snap, base, [f for f in wanted if f not in ("id", "key")], props)
        if not hit["fields"]:
            del hit["fields"]
        return hit


def _wanted_fields(requested: list[str], default: Sequence[str]) -> list[str]:
    """Resolve Jira's `fields` parameter: ids, `*all`, `*navigable`, and `-id` exclusions."""
    if not requested:
        return list(default)
    out: list[str] = []
    for name in requested:
        if name in ("*all", "*navigable"):
            out.extend(NAVIGABLE)
        elif not name.startswith("-"):
            out.append(name)
    excluded = {n[1:] for n in requested if n.startswith("-")}
    if excluded and not out:
        out = list(NAVIGABLE)
    return [f for f in dict.fromkeys(out) if f not in excluded]


def _query_tag(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _encode_token(offset: int, text: str) -> str:
    raw = json.dumps({"o": offset, "q": _query_tag(text)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset = data["o"]
        valid = isinstance(offset, int) and offset >= 0 and data["q"] == _query_tag(text)
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise JiraError(400, ["The provided nextPageToken is invalid for this query."])
    return int(offset)
