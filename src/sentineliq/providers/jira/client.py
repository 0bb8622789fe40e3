"""JiraClient: the Jira Cloud REST v3 calls SentinelIQ makes, over one sync httpx2.Client.

HTTP only: it knows endpoints, paging, auth and error classification, nothing about alerts.
Every failure surfaces as a classified ProviderError (see errors.py). Redirects are not followed:
a redirect means a wrong base_url, and following it would send the credentials elsewhere. With a
`limiter`, every request first takes its turn in the site's rate budget and every answer (429s
and 5xx included) is reported back to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import httpx2
from pydantic import SecretStr

from sentineliq import __version__, metrics
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira import errors
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.rateheaders import RateLimitSnapshot, rate_signal, rate_snapshot
from sentineliq.providers.net import BlockedTargetError, guarded_transport
from sentineliq.ratelimit import RateLimitDeadline, SiteRateLimiter, site_key
from sentineliq.tickets.redaction import Redactor

log = logging.getLogger(__name__)

API = "/rest/api/3"
USER_AGENT = f"sentineliq/{__version__} (jira-cloud-provider)"
_PAGE_SIZE = 200  # createmeta's maximum
_MAX_PAGES = 50  # a misbehaving server must not keep us paging forever
_CONNECT_TIMEOUT_CAP = 10.0
# Longest wait for the rate budget: past it the request fails as rate limited with the wait as
# retry_after, so a delivery is rescheduled instead of a worker sitting on its lease.
MAX_RATE_WAIT_S = 30.0
# A bulk create refused as a whole answers 400 in CreatedIssues' shape when every element failed.
_ALL_REFUSED = frozenset({400})
# Jira's XSRF check answers a multipart request without X-Atlassian-Token: no-check with a 403.
_XSRF_REFUSAL = frozenset({403})


def _segment(value: str) -> str:
    return quote(value, safe="")


class JiraClient:
    """Talks to one Jira Cloud site as one account. Thread-safe (httpx2.Client is)."""

    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: SecretStr,
        *,
        timeout_s: float = 15.0,
        allow_private_targets: bool = False,
        transport: httpx2.BaseTransport | None = None,
        now: Callable[[], float] = time.time,
        limiter: SiteRateLimiter | None = None,
        max_rate_wait_s: float | None = MAX_RATE_WAIT_S,
        redactor: Redactor | None = None,
    ) -> None:
        """`transport` replaces the guarded default (instrumentation); wrap `guarded_transport`
        to keep the outbound-address guard. `now` is the wall clock for HTTP-date Retry-After.
        `limiter` paces the requests to this site; when it has no room for `max_rate_wait_s`
        (None: wait as long as it takes), the call fails as RATE_LIMITED, nothing sent.
        `redactor` masks secrets in every JSON body sent: the last line behind the draft's own
        redaction, whatever part of the product wrote the body."""
        self._redactor = redactor
        self.base_url = base_url.rstrip("/")
        self.email = email
        self._token = api_token
        self._now = now
        self._host = urlsplit(self.base_url).netloc
        self.site = site_key(self.base_url)
        self._limiter = limiter
        self.max_rate_wait_s = max_rate_wait_s
        self._rate_lock = threading.Lock()
        self._rate: RateLimitSnapshot | None = None
        self.page_size = _PAGE_SIZE
        self._http = httpx2.Client(
            base_url=self.base_url,
            auth=httpx2.BasicAuth(email, api_token.get_secret_value()),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=httpx2.Timeout(timeout_s, connect=min(timeout_s, _CONNECT_TIMEOUT_CAP)),
            follow_redirects=False,
            trust_env=False,
            transport=transport or guarded_transport(allow_private=allow_private_targets),
        )

    @classmethod
    def from_config(
        cls,
        config: JiraConfig,
        *,
        transport: httpx2.BaseTransport | None = None,
        limiter: SiteRateLimiter | None = None,
    ) -> JiraClient:
        return cls(
            config.base_url,
            config.email,
            config.api_token,
            timeout_s=config.timeout_s,
            allow_private_targets=config.allow_private_targets,
            transport=transport,
            limiter=limiter,
            redactor=Redactor(config.content.redaction),
        )

    def __repr__(self) -> str:
        return f"JiraClient(base_url={self.base_url!r}, email={self.email!r})"

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def rate_limit(self) -> RateLimitSnapshot | None:
        with self._rate_lock:
            return self._rate

    # --- endpoints ------------------------------------------------------------------------------

    def server_info(self) -> dict[str, Any]:
        return self._object("GET", f"{API}/serverInfo", action="read the server info")

    def myself(self) -> dict[str, Any]:
        return self._object("GET", f"{API}/myself", action="read the account's own profile")

    def get_project(self, key: str) -> dict[str, Any]:
        return self._object("GET", f"{API}/project/{_segment(key)}", action=f"read project {key}")

    def createmeta_issuetypes(self, project: str) -> list[dict[str, Any]]:
        return self._paged(
            f"{API}/issue/createmeta/{_segment(project)}/issuetypes",
            "issueTypes",
            action=f"list the issue types of project {project}",
        )

    def createmeta_fields(self, project: str, issuetype_id: str) -> list[dict[str, Any]]:
        return self._paged(
            f"{API}/issue/createmeta/{_segment(project)}/issuetypes/{_segment(issuetype_id)}",
            "fields",
            action=f"list the create-screen fields of project {project}",
        )

    def fields(self) -> list[dict[str, Any]]:
        return self._list("GET", f"{API}/field", action="list the fields")

    def search_users(self, query: str, *, max_results: int = 50) -> list[dict[str, Any]]:
        return self._list(
            "GET",
            f"{API}/user/search",
            params={"query": query, "maxResults": max_results},
            action="search users",
        )

    def assignable_users(
        self,
        project: str,
        *,
        query: str | None = None,
        account_id: str | None = None,
        max_results: int = 50,
    ) -> list[dict[str, Any]]:
        """GET /user/assignable/search: people who can be assigned issues in `project`.

        Give exactly one of `query` (matched against names and emails, hidden ones exactly) or
        `account_id`."""
        params: dict[str, str | int] = {"project": project, "maxResults": max_results}
        if account_id is not None:
            params["accountId"] = account_id
        else:
            params["query"] = query or ""
        return self._list(
            "GET",
            f"{API}/user/assignable/search",
            params=params,
            action=f"search the users who can be assigned in project {project}",
        )

    def create_issue(
        self, body: Mapping[str, Any], *, before_send: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """`before_send` runs after the rate budget granted the request, just before it leaves:
        the caller records "possibly created" there, so waiting for the budget never eats into
        the time it allows Jira's search to catch up."""
        return self._object(
            "POST",
            f"{API}/issue",
            json=body,
            action="create an issue",
            non_idempotent=True,
            before_send=before_send,
        )

    def create_issues(
        self, updates: Sequence[Mapping[str, Any]], *, before_send: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """POST /issue/bulk: Jira's CreatedIssues answer, `issues` and `errors` (each with its
        `failedElementNumber`). A 400 in that shape (every element refused) is returned too;
        any other failure of the call raises, classified as for a single create."""
        action = f"create {len(updates)} issues in bulk"
        response = self._request(
            "POST",
            f"{API}/issue/bulk",
            json={"issueUpdates": list(updates)},
            action=action,
            non_idempotent=True,
            before_send=before_send,
            accept=_ALL_REFUSED,
        )
        if response.is_success:
            body = self._json(response, action=action, non_idempotent=True)
            if not isinstance(body, dict):
                raise errors.unreadable_answer(response, action=action, non_idempotent=True)
            return body
        try:
            refused = response.json()
        except ValueError:
            refused = None
        if isinstance(refused, dict) and isinstance(refused.get("errors"), list):
            return refused  # every element refused: nothing was created
        # A refusal of the whole request (more than 50, a malformed body): nothing was created.
        raise self._refusal(response, action)

    def search_jql(
        self,
        jql: str,
        fields: Sequence[str] = ("id", "key"),
        max_results: int = 50,
        *,
        next_page_token: str | None = None,
        reconcile_issues: Sequence[int] = (),
    ) -> dict[str, Any]:
        """One page of POST /search/jql (the only search left on Cloud; /search is 410 Gone)."""
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": max_results}
        if next_page_token:
            body["nextPageToken"] = next_page_token
        if reconcile_issues:
            body["reconcileIssues"] = list(reconcile_issues)
        return self._object("POST", f"{API}/search/jql", json=body, action="search issues")

    def get_issue(self, issue: str, fields: Sequence[str]) -> dict[str, Any]:
        """GET /issue/{key} with only `fields` (comma list) in its `fields` object."""
        return self._object(
            "GET",
            f"{API}/issue/{_segment(issue)}",
            params={"fields": ",".join(fields)},
            action=f"read issue {issue}",
        )

    def get_transitions(self, issue: str) -> list[dict[str, Any]]:
        """The transitions the issue offers from its current status, to this account."""
        action = f"list the transitions of issue {issue}"
        body = self._object("GET", f"{API}/issue/{_segment(issue)}/transitions", action=action)
        found = body.get("transitions")
        if not isinstance(found, list):
            raise ProviderError(
                ErrorKind.UNAVAILABLE, f"Jira's answer to the request to {action} has no list"
            )
        return [item for item in found if isinstance(item, dict)]

    def do_transition(
        self,
        issue: str,
        body: Mapping[str, Any],
        *,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        """POST /issue/{key}/transitions (204). A lost answer is AMBIGUOUS: the issue may
        have moved, so the caller re-reads its state before trying again."""
        self._request(
            "POST",
            f"{API}/issue/{_segment(issue)}/transitions",
            json=body,
            action=f"transition issue {issue}",
            non_idempotent=True,
            before_send=before_send,
        )

    def edit_issue(
        self,
        issue: str,
        body: Mapping[str, Any],
        *,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        """PUT /issue/{key} (204): `fields` to set and `update` operations."""
        self._request(
            "PUT",
            f"{API}/issue/{_segment(issue)}",
            json=body,
            action=f"edit issue {issue}",
            before_send=before_send,
        )

    def get_issue_property(self, issue: str, key: str) -> dict[str, Any]:
        return self._object(
            "GET",
            f"{API}/issue/{_segment(issue)}/properties/{_segment(key)}",
            action=f"read property {key} of issue {issue}",
        )

    def set_issue_property(self, issue: str, key: str, value: Mapping[str, Any]) -> None:
        """PUT .../properties/{key}: 201 created or 200 replaced, no body either way. Repeating
        it with the same value changes nothing, so it is safe to retry."""
        self._request(
            "PUT",
            f"{API}/issue/{_segment(issue)}/properties/{_segment(key)}",
            json=value,
            action=f"set property {key} of issue {issue}",
        )

    def add_comment(
        self,
        issue: str,
        comment: Mapping[str, Any],
        *,
        before_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """POST .../comment with a Comment body ({"body": ADF, "properties": [...]})."""
        return self._object(
            "POST",
            f"{API}/issue/{_segment(issue)}/comment",
            json=comment,
            action=f"add a comment to issue {issue}",
            non_idempotent=True,
            before_send=before_send,
        )

    def comments_page(
        self,
        issue: str,
        *,
        start_at: int = 0,
        max_results: int = 100,
        order_by: str = "-created",
        expand: str = "properties",
    ) -> dict[str, Any]:
        """One page of GET .../comment (read directly from the issue: no search lag)."""
        return self._object(
            "GET",
            f"{API}/issue/{_segment(issue)}/comment",
            params={
                "startAt": start_at,
                "maxResults": max_results,
                "orderBy": order_by,
                "expand": expand,
            },
            action=f"read the comments of issue {issue}",
        )

    def add_attachment(
        self,
        issue: str,
        filename: str,
        content: BinaryIO,
        content_type: str,
        *,
        before_send: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """POST .../attachments: one multipart part named `file`, with the XSRF opt-out header
        Jira requires for multipart requests. Jira answers 200 with a JSON array of the
        attachments made. A lost answer is AMBIGUOUS: list the issue's attachments before
        sending again. A 403 from the XSRF check (the header went missing on the way, e.g. a
        proxy stripping it) is a configuration problem, not a permission: CONFIG."""
        action = f"attach {filename!r} to issue {issue}"
        response = self._request(
            "POST",
            f"{API}/issue/{_segment(issue)}/attachments",
            action=action,
            files={"file": (filename, content, content_type)},
            headers={"X-Atlassian-Token": "no-check"},
            non_idempotent=True,
            before_send=before_send,
            accept=_XSRF_REFUSAL,
        )
        if response.status_code in _XSRF_REFUSAL:
            if "xsrf" in response.text[:500].lower():
                raise ProviderError(
                    ErrorKind.CONFIG,
                    f"Jira's XSRF check refused the request to {action} (HTTP 403): the "
                    "X-Atlassian-Token: no-check header did not arrive (a proxy removing it?)",
                    status=403,
                )
            raise self._refusal(response, action, non_idempotent=True)
        body = self._json(response, action=action, non_idempotent=True)
        if not isinstance(body, list):
            raise errors.unreadable_answer(response, action=action, non_idempotent=True)
        return [item for item in body if isinstance(item, dict)]

    def issue_attachments(self, issue: str) -> list[dict[str, Any]]:
        """The issue's attachments (GET /issue/{key}?fields=attachment), read directly."""
        fields = self.get_issue(issue, ("attachment",)).get("fields")
        found = fields.get("attachment") if isinstance(fields, dict) else None
        return [a for a in found if isinstance(a, dict)] if isinstance(found, list) else []

    def issue_link_types(self) -> list[dict[str, Any]]:
        body = self._object("GET", f"{API}/issueLinkType", action="list the issue link types")
        types = body.get("issueLinkTypes")
        return [t for t in types if isinstance(t, dict)] if isinstance(types, list) else []

    # --- plumbing -------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
        non_idempotent: bool = False,
        before_send: Callable[[], None] | None = None,
        accept: frozenset[int] = frozenset(),
        files: Mapping[str, tuple[str, BinaryIO, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        """The answer if 2xx (or its status is in `accept`), else the classified ProviderError."""
        secrets = (self._token.get_secret_value(),)
        if self._limiter is not None:
            # The limiter runs `before_send` with the token it takes: one transaction for both
            # when the budget is kept in the database.
            self._take_turn(self._limiter, action, before_send)
        elif before_send is not None:
            before_send()
        if json is not None and self._redactor is not None:
            json = self._redactor.json(json)
        started = time.monotonic()
        try:
            response = self._http.request(
                method, path, params=params, json=json, files=files, headers=headers
            )
        except BlockedTargetError as exc:
            raise errors.blocked_target(exc, action=action) from None
        except httpx2.TransportError as exc:
            metrics.observe_jira_response(method, path, None)
            error = errors.classify_transport_error(
                exc,
                action=action,
                host=self._host,
                non_idempotent=non_idempotent,
                secrets=secrets,
            )
            log.warning("jira %s %s failed (%s): %s", method, path, error.kind.value, error)
            raise error from None
        metrics.observe_jira_response(method, path, response.status_code)
        self._observe_rate(response)
        log.debug(
            "jira %s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if response.is_success or response.status_code in accept:
            return response
        error = self._refusal(response, action, non_idempotent=non_idempotent)
        log.info("jira %s %s -> %s: %s", method, path, error.kind.value, error)
        raise error

    def _refusal(
        self, response: httpx2.Response, action: str, *, non_idempotent: bool = False
    ) -> ProviderError:
        return errors.classify_response(
            response,
            action=action,
            account=self.email,
            secrets=(self._token.get_secret_value(),),
            non_idempotent=non_idempotent,
            now=self._now,
        )

    def element_error(self, status: int, element_errors: Any, *, action: str) -> ProviderError:
        """One refused element of a bulk call, classified as a single create's answer with the
        same status and ErrorCollection would be."""
        body = element_errors if isinstance(element_errors, dict) else {}
        return self._refusal(httpx2.Response(status, json=body), action, non_idempotent=True)

    def _json(self, response: httpx2.Response, *, action: str, non_idempotent: bool) -> Any:
        try:
            return response.json()
        except ValueError:
            raise errors.unreadable_answer(
                response, action=action, non_idempotent=non_idempotent
            ) from None

    def _object(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
        non_idempotent: bool = False,
        before_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        response = self._request(
            method,
            path,
            action=action,
            params=params,
            json=json,
            non_idempotent=non_idempotent,
            before_send=before_send,
        )
        body = self._json(response, action=action, non_idempotent=non_idempotent)
        if not isinstance(body, dict):
            raise errors.unreadable_answer(response, action=action, non_idempotent=non_idempotent)
        return body

    def _list(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: Mapping[str, str | int] | None = None,
    ) -> list[dict[str, Any]]:
        response = self._request(method, path, action=action, params=params)
        body = self._json(response, action=action, non_idempotent=False)
        if not isinstance(body, list):
            raise errors.unreadable_answer(response, action=action)
        return [item for item in body if isinstance(item, dict)]

    def _paged(self, path: str, item_key: str, *, action: str) -> list[dict[str, Any]]:
        """Follow startAt/maxResults/total paging (Data Center pages in `values`/`isLast`)."""
        items: list[dict[str, Any]] = []
        start = 0
        for _ in range(_MAX_PAGES):
            page = self._object(
                "GET", path, action=action, params={"startAt": start, "maxResults": self.page_size}
            )
            batch = page.get(item_key)
            if batch is None:
                batch = page.get("values")
            if not isinstance(batch, list):
                raise ProviderError(
                    ErrorKind.UNAVAILABLE,
                    f"Jira's answer to the request to {action} has no {item_key!r} list",
                )
            items.extend(item for item in batch if isinstance(item, dict))
            start += len(batch)
            total = page.get("total")
            done = (
                not batch
                or page.get("isLast") is True
                or (isinstance(total, int) and start >= total)
                or (total is None and "isLast" not in page)
            )
            if done:
                return items
        log.warning("jira paging of %s stopped after %d pages", path, _MAX_PAGES)
        return items

    def _take_turn(
        self, limiter: SiteRateLimiter, action: str, then: Callable[[], None] | None
    ) -> None:
        wait = self.max_rate_wait_s
        if wait is None:
            limiter.acquire(self.site, then=then)
            return
        try:
            limiter.acquire(self.site, deadline=limiter.now() + wait, then=then)
        except RateLimitDeadline as exc:
            raise ProviderError(
                ErrorKind.RATE_LIMITED,
                f"the request budget for {self._host} has no room to {action} within "
                f"{wait:g} s (nothing was sent); retry after {exc.wait_s:.1f} s",
                retry_after=exc.wait_s,
            ) from None

    def _observe_rate(self, response: httpx2.Response) -> None:
        if self._limiter is not None:
            self._limiter.observe(self.site, rate_signal(response, self._now))
        snapshot = rate_snapshot(response.headers, self._now)
        if snapshot is None:
            return
        with self._rate_lock:
            self._rate = snapshot
