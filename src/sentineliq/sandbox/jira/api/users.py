"""User search and assignable-user search: hidden addresses match exactly, never by prefix."""

from __future__ import annotations

from sentineliq.sandbox.jira.api.base import ApiBase
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import User
from sentineliq.sandbox.jira.state import ISSUE_NOT_FOUND
from sentineliq.sandbox.jira.views import user_json
from sentineliq.sandbox.jira.wire import Request, Response

USER_SEARCH_MAX = 1000


class UserApi(ApiBase):
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
