"""The Jira Cloud REST v3 endpoints the sandbox implements (see the package docstring).

One module per area of the API, each a subclass of `base.ApiBase` over the same state:
`metadata` (project, createmeta, field), `users` (user and assignable search), `issues` (create,
read, properties), `workflow` (transitions, resolutions, edit), `comments`, `links` (link
types, issue links) and `search`
(search/jql), `attachments`. `JiraApi` joins them and
wires them to paths; serverInfo and myself are here.
"""

from __future__ import annotations

from sentineliq.sandbox.jira.api.attachments import AttachmentApi
from sentineliq.sandbox.jira.api.base import API, ApiBase
from sentineliq.sandbox.jira.api.comments import CommentApi
from sentineliq.sandbox.jira.api.issues import IssueApi
from sentineliq.sandbox.jira.api.links import LinkApi
from sentineliq.sandbox.jira.api.metadata import MetadataApi
from sentineliq.sandbox.jira.api.search import SearchApi
from sentineliq.sandbox.jira.api.users import UserApi
from sentineliq.sandbox.jira.api.workflow import WorkflowApi
from sentineliq.sandbox.jira.clock import jira_timestamp, utc_now
from sentineliq.sandbox.jira.views import user_json
from sentineliq.sandbox.jira.wire import Request, Response, Route

__all__ = ["API", "ApiBase", "JiraApi"]


class JiraApi(
    MetadataApi, UserApi, IssueApi, WorkflowApi, CommentApi, LinkApi, SearchApi, AttachmentApi
):
    """Request handlers over a SandboxState; `routes()` wires them to paths."""

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
            Route("POST", f"{API}/issue/bulk", self.create_issues, validate_body=True),
            Route("GET", issue, self.get_issue),
            Route("PUT", issue, self.edit_issue, validate_body=True),
            Route("GET", f"{API}/resolution", self.resolutions),
            Route("GET", f"{issue}/properties", self.list_properties),
            Route("GET", f"{issue}/properties/{{propertyKey}}", self.get_property),
            Route(
                "PUT", f"{issue}/properties/{{propertyKey}}", self.put_property, validate_body=True
            ),
            Route("GET", f"{issue}/comment", self.get_comments),
            Route("POST", f"{issue}/comment", self.add_comment, validate_body=True),
            Route("GET", f"{issue}/comment/{{id}}", self.get_comment),
            Route("POST", f"{issue}/attachments", self.add_attachments),
            Route("GET", f"{API}/attachment/content/{{id}}", self.attachment_content),
            Route("GET", f"{API}/issueLinkType", self.link_types),
            Route("POST", f"{API}/issueLink", self.link_issues, validate_body=True),
            Route("GET", f"{issue}/transitions", self.get_transitions),
            Route("POST", f"{issue}/transitions", self.do_transition, validate_body=True),
            Route("GET", f"{API}/search/jql", self.search),
            Route("POST", f"{API}/search/jql", self.search, validate_body=True),
            Route("GET", f"{API}/search", self.search_removed),
            Route("POST", f"{API}/search", self.search_removed),
        ]

    # -- server ---------------------------------------------------------------------------------

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
