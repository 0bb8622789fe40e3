"""search/jql (GET and POST) with token paging; the removed search answers 410."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sentineliq.sandbox.jira import jql
from sentineliq.sandbox.jira.api.base import ApiBase, wanted_fields
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.state import IssueSnapshot
from sentineliq.sandbox.jira.wire import Request, Response

SEARCH_MAX_IDS = 5000  # page size limit when only id/key are requested
SEARCH_MAX_FIELDS = 100  # ... and when other fields are
MAX_SEARCH_PROPERTIES = 5
MAX_RECONCILE = 50
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)


class SearchApi(ApiBase):
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
        wanted = wanted_fields(fields, default=("id",))
        id_only = set(wanted) <= {"id", "key"}
        size = min(max_results, SEARCH_MAX_IDS if id_only else SEARCH_MAX_FIELDS)
        offset = _decode_token(token, text) if token else 0

        hits = self.state.searchable(reconcile, predicate)
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
