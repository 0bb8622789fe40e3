"""JiraProvider: files TicketDrafts as Jira Cloud issues and checks a configuration.

Policy lives here; HTTP lives in client.py and field decisions in mapping.py. One create costs one
POST plus whatever metadata the cache does not already hold (createmeta issue types and fields,
and a user search for the assignee). If Jira refuses only optional fields (say the project's
screen changed since createmeta was cached), the create is repeated once without them: a 400 means
nothing was created, so repeating is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sentineliq.delivery.ratelimit import SiteRateLimiter
from sentineliq.providers.base import (
    CheckResult,
    ConnectionReport,
    CreatedTicket,
    ErrorKind,
    ProviderError,
)
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.fallback import DescriptionLadder, refuses_description
from sentineliq.providers.jira.mapping import (
    AssigneeLookup,
    CreateRequest,
    CreateScreen,
    Dropped,
    IssueTypeMeta,
    build_request,
    idempotency_label,
    resolve_issue_type,
)
from sentineliq.providers.jira.metadata import (
    Kind,
    MetadataCache,
    MetadataScope,
    config_fingerprint,
    shared_cache,
)
from sentineliq.tickets.draft import TicketDraft

log = logging.getLogger(__name__)

ClientFactory = Callable[[JiraConfig], JiraClient]

# Fields the create may go without; everything else Jira refuses is a real validation failure.
_ESSENTIAL = frozenset({"project", "issuetype", "summary"})
# What a permission-refused create is retried with: the alert's story stays in the ticket.
_KEPT_ON_PERMISSION = _ESSENTIAL | {"description"}
_TRANSIENT = frozenset(
    {ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE, ErrorKind.NETWORK, ErrorKind.AMBIGUOUS}
)


def _after_degrade(
    again: ProviderError, first: ProviderError, request: CreateRequest
) -> ProviderError:
    """The second refusal, carrying the first one's per-field messages and what was dropped."""
    dropped = ", ".join(d.field for d in request.dropped) or "nothing"
    return ProviderError(
        again.kind,
        f"{again.message} (retried once without {dropped} after: {first.message})",
        status=again.status,
        retry_after=again.retry_after,
        field_errors={**first.field_errors, **again.field_errors},
    )


@dataclass(frozen=True)
class JiraCreatedTicket(CreatedTicket):
    """A CreatedTicket that also says why each dropped field was dropped."""

    drop_reasons: tuple[Dropped, ...] = ()


def find_account(users: Sequence[dict[str, Any]], email: str) -> str | None:
    """The accountId of the one active Atlassian user whose visible email is exactly `email`.

    User search matches prefixes of names and emails, so anything but an exact, case-insensitive
    email match could assign the ticket to the wrong person.
    """
    wanted = email.casefold()
    matches = {
        str(user["accountId"])
        for user in users
        if str(user.get("emailAddress") or "").casefold() == wanted
        and user.get("active") is True
        and user.get("accountType") == "atlassian"
        and user.get("accountId")
    }
    return matches.pop() if len(matches) == 1 else None


class JiraProvider:
    name = "jira"

    def __init__(
        self,
        config: JiraConfig,
        *,
        config_version: int = 0,
        client_factory: ClientFactory | None = None,
        cache: MetadataCache | None = None,
        limiter: SiteRateLimiter | None = None,
    ) -> None:
        """`limiter` paces the default client's requests; a `client_factory` paces its own."""
        if client_factory is not None and limiter is not None:
            raise ValueError("pass the limiter to the client that client_factory builds")
        self.config = config
        self.config_version = config_version
        if client_factory is None:
            self._client = JiraClient.from_config(config, limiter=limiter)
        else:
            self._client = client_factory(config)
        self._cache = cache if cache is not None else shared_cache()
        self._fingerprint = config_fingerprint(config, config_version)

    def __repr__(self) -> str:
        return (
            f"JiraProvider(base_url={self.config.base_url!r}, "
            f"project={self.config.project_key!r}, version={self.config_version})"
        )

    @property
    def request_timeout_s(self) -> float:
        """The longest one request may take; a worker keeps its lease at least this long."""
        return float(self.config.timeout_s)

    @property
    def client(self) -> JiraClient:
        return self._client

    @property
    def metadata(self) -> MetadataScope:
        # Looked up per use, so an LRU eviction never leaves a provider on a detached scope.
        return self._cache.scope(self.config.base_url, self._fingerprint)

    def close(self) -> None:
        self._client.close()

    # --- create ---------------------------------------------------------------------------------

    def create_ticket(
        self,
        draft: TicketDraft,
        *,
        idempotency_key: str,
        before_send: Callable[[], None] | None = None,
    ) -> CreatedTicket:
        screen = self._screen()
        assignee = self._assignee(draft.assignee_email, screen)
        request = build_request(
            draft,
            config=self.config,
            screen=screen,
            idempotency_key=idempotency_key,
            assignee=assignee,
        )
        # Before the POST: nothing may fail between a created issue and returning it.
        request.dropped = self._explain_unknown_fields(request.dropped)
        # A refused description steps down (fallback.py), never out; other optional fields
        # Jira refuses are dropped once. Each repeat follows a 400 or 403: nothing was created.
        ladder = DescriptionLadder(draft)
        first_refusal: ProviderError | None = None
        while True:
            try:
                created = self._client.create_issue(request.body(), before_send=before_send)
                break
            except ProviderError as error:
                if ladder.step_down(request, error):
                    log.info(
                        "jira create in %s retried with a reduced description",
                        self.config.project_key,
                    )
                    continue
                if first_refusal is not None:
                    raise _after_degrade(error, first_refusal, request) from None
                if refuses_description(error) or not self._degrade(request, error):
                    raise
                first_refusal = error
                log.info(
                    "jira create in %s retried without %s",
                    self.config.project_key,
                    ", ".join(sorted(error.field_errors)) or "optional fields",
                )
        return self._ticket(created, request)

    def _ticket(self, created: dict[str, Any], request: CreateRequest) -> JiraCreatedTicket:
        key, issue_id = created.get("key"), created.get("id")
        if not isinstance(key, str) or not key or issue_id is None:
            raise ProviderError(
                ErrorKind.AMBIGUOUS,
                "Jira accepted the issue but its answer carried no issue key; look it up by the "
                f"label {request.idempotency_label} before creating it again",
            )
        dropped = request.dropped
        for item in dropped:
            log.info("jira %s: left out %s: %s", key, item.field, item.reason)
        return JiraCreatedTicket(
            id=str(issue_id),
            key=key,
            url=f"{self.config.base_url}/browse/{key}",
            dropped_fields=tuple(item.field for item in dropped),
            drop_reasons=tuple(dropped),
        )

    def find_existing(self, idempotency_key: str) -> CreatedTicket | None:
        """The issue an earlier, unanswered create made for this key, if Jira's search has it.

        Jira's search can lag a just-created issue by seconds: an empty answer means "not yet
        visible", and the caller decides how long to keep asking before creating again.
        """
        if "labels" not in self._screen().fields:
            # Without the label nothing can be found; creating again could file a duplicate.
            raise ProviderError(
                ErrorKind.CONFIG,
                "an earlier create may have succeeded but cannot be looked up: the Labels field "
                f"is not on the create screen of {self.config.project_key}, so the idempotency "
                "label was not set. Check Jira for the issue, then replay or discard this delivery",
            )
        label = idempotency_label(idempotency_key)
        jql = f'project = "{self.config.project_key}" AND labels = "{label}" ORDER BY created ASC'
        found = self._client.search_jql(jql, ("id", "key"), 10).get("issues") or []
        issues = [i for i in found if isinstance(i, dict) and i.get("key") and i.get("id")]
        if not issues:
            return None
        # Several can only exist if something else duplicated it; the oldest is the original.
        first = min(issues, key=lambda issue: int(str(issue["id"])))
        key = str(first["key"])
        return CreatedTicket(
            id=str(first["id"]), key=key, url=f"{self.config.base_url}/browse/{key}"
        )

    def _degrade(self, request: CreateRequest, error: ProviderError) -> bool:
        """Drop the optional fields Jira refused; True if the create is worth repeating once."""
        if error.kind is ErrorKind.PERMISSION:
            # A 403 names no field: try once with only what an issue cannot do without.
            optional = [name for name in request.fields if name not in _KEPT_ON_PERMISSION]
            if not optional or optional == ["labels"]:
                return False
            for name in optional:
                if name == "labels":
                    request.fields["labels"] = [request.idempotency_label]
                else:
                    request.drop(name, f"left out after Jira refused the create: {error}")
            return True
        if error.kind is not ErrorKind.VALIDATION or not error.field_errors:
            return False
        refused = set(error.field_errors)
        if refused & _ESSENTIAL or not refused <= set(request.fields):
            return False
        # Our cached view of the screen was wrong; the next create should fetch it again.
        self.metadata.invalidate(Kind.CREATE_FIELDS)
        for name in sorted(refused):
            reason = f"Jira refused it: {error.field_errors[name]}"
            if name == "labels" and request.fields["labels"] != [request.idempotency_label]:
                # Keep the idempotency label; it is what makes a lost answer recoverable.
                request.fields["labels"] = [request.idempotency_label]
                request.dropped.append(Dropped("labels", reason + " (kept only the id label)"))
            else:
                request.drop(name, reason)
        return True

    def _explain_unknown_fields(self, dropped: list[Dropped]) -> list[Dropped]:
        """Tell "no such field" apart from "not on the screen" for configured custom fields."""
        refs = set(self.config.custom_fields)
        unresolved = [d for d in dropped if d.field in refs and d.not_on_screen]
        if not unresolved:
            return dropped
        try:
            known = self.metadata.get_or_load(Kind.FIELDS, "all", self._client.fields)
        except ProviderError:
            return dropped
        ids = {str(f.get("id")) for f in known}
        names = {str(f.get("name", "")).casefold() for f in known}
        out = []
        for item in dropped:
            if item in unresolved and item.field not in ids and item.field.casefold() not in names:
                item = Dropped(item.field, "Jira has no field with this id or name", True)
            out.append(item)
        return out

    # --- metadata -------------------------------------------------------------------------------

    def _issue_types(self) -> list[IssueTypeMeta]:
        project = self.config.project_key
        return self.metadata.get_or_load(
            Kind.ISSUE_TYPES,
            project,
            lambda: [
                IssueTypeMeta.from_createmeta(t)
                for t in self._client.createmeta_issuetypes(project)
            ],
        )

    def _screen(self) -> CreateScreen:
        project = self.config.project_key
        issue_type = resolve_issue_type(self.config.issue_type, self._issue_types(), project)
        raw = self.metadata.get_or_load(
            Kind.CREATE_FIELDS,
            (project, issue_type.id),
            lambda: self._client.createmeta_fields(project, issue_type.id),
        )
        return CreateScreen.build(project, issue_type, raw)

    def _lookup_user(self, email: str) -> AssigneeLookup:
        account = find_account(self._client.search_users(email), email)
        if account is not None:
            return AssigneeLookup(account)
        return AssigneeLookup(
            None,
            f"no active Jira user with the email {email} is visible to {self.config.email} "
            "(the user may not exist, be deactivated or hide their email address, or the "
            "account lacks the Browse users and groups permission)",
        )

    def _assignee(self, email: str | None, screen: CreateScreen) -> AssigneeLookup | None:
        if email is None:
            return None
        if "assignee" not in screen.fields:
            return AssigneeLookup(None)  # mapping records it as not on the screen
        try:
            return self.metadata.get_or_load(
                Kind.USER,
                email.casefold(),
                lambda: self._lookup_user(email),
                is_negative=lambda found: found.account_id is None,
            )
        except ProviderError as error:
            # A transient, credential or CAPTCHA failure will hit the create too: surface it
            # now (no create after a CAPTCHA lock). A refused lookup only costs the assignee.
            if error.kind in _TRANSIENT or error.pauses_provider:
                raise
            return AssigneeLookup(None, f"the user search failed: {error}")

    # --- test connection ------------------------------------------------------------------------

    def test_connection(self, *, assignee_email: str | None = None) -> ConnectionReport:
        """Named checks in order; never raises for anything Jira answers (or fails to)."""
        checks: list[CheckResult] = []
        project = self.config.project_key
        names = ["credentials", "project", "issue type", "priority scheme", "assignee lookup"]

        def skip_rest(reason: str) -> ConnectionReport:
            done = {c.name for c in checks}
            for name in names:
                if name not in done:
                    checks.append(CheckResult(name, False, f"skipped: {reason}"))
            return ConnectionReport(tuple(checks))

        try:
            me = self._client.myself()
        except ProviderError as error:
            checks.append(CheckResult("credentials", False, str(error)))
            return skip_rest("the credentials check failed")
        who = me.get("displayName") or self.config.email
        checks.append(
            CheckResult("credentials", True, f"signed in to Jira as {who} ({self.config.email})")
        )

        try:
            found = self._client.get_project(project)
            self.metadata.put(Kind.PROJECT, project, found)
            checks.append(
                CheckResult("project", True, f"project {project} ({found.get('name')}) is visible")
            )
        except ProviderError as error:
            detail = (
                f"project {project} not found or no Browse permission for {self.config.email}"
                if error.kind is ErrorKind.NOT_FOUND
                else str(error)
            )
            checks.append(CheckResult("project", False, detail))
            return skip_rest("the project check failed")

        screen = self._check_issue_type(checks)
        if screen is None:
            checks.append(CheckResult("priority scheme", False, "skipped: no usable issue type"))
        else:
            checks.append(self._check_priorities(screen))
        checks.append(self._check_user_search(assignee_email, me))
        return ConnectionReport(tuple(checks))

    def _check_issue_type(self, checks: list[CheckResult]) -> CreateScreen | None:
        project = self.config.project_key
        # Fresh reads: a test must show Jira as it is now, and it refreshes the cache for creates.
        self.metadata.invalidate(Kind.ISSUE_TYPES)
        self.metadata.invalidate(Kind.CREATE_FIELDS)
        try:
            types = self._issue_types()
            if not types:
                raise ProviderError(
                    ErrorKind.PERMISSION,
                    f"{self.config.email} cannot create any issue type in {project}: check the "
                    "Create issues permission",
                )
            screen = self._screen()
        except ProviderError as error:
            checks.append(CheckResult("issue type", False, str(error)))
            return None
        detail = (
            f"issue type {screen.issue_type.name} (id {screen.issue_type.id}) can be created "
            f"in {project}"
        )
        if "labels" not in screen.fields:
            detail += (
                "; note: labels are not on its create screen, so issues whose creation answer "
                "is lost cannot be found again by their idempotency label"
            )
        checks.append(CheckResult("issue type", True, detail))
        return screen

    def _check_priorities(self, screen: CreateScreen) -> CheckResult:
        meta = screen.fields.get("priority")
        if meta is None:
            return CheckResult(
                "priority scheme",
                True,
                f"note: priority is not on the create screen of {screen.where}; tickets will "
                "be created without a priority",
            )
        if not meta.allowed:
            return CheckResult(
                "priority scheme", True, "the create screen does not list priorities to check"
            )
        missing: dict[str, list[str]] = {}
        for neutral, name in self.config.priority_map.items():
            if meta.allowed_by_name(name) is None:
                missing.setdefault(name, []).append(neutral)
        available = ", ".join(v.label for v in meta.allowed)
        if missing:
            listed = "; ".join(f"{name} (for {', '.join(n)})" for name, n in missing.items())
            return CheckResult(
                "priority scheme",
                False,
                f"priorities missing from the scheme of {screen.project_key}: {listed}; "
                f"available: {available}; adjust priority_map",
            )
        return CheckResult("priority scheme", True, f"all mapped priorities exist ({available})")

    def _check_user_search(self, email: str | None, me: dict[str, Any]) -> CheckResult:
        name = "assignee lookup"
        permission = (
            f"{self.config.email} needs the global Browse users and groups permission to turn "
            "assignee emails into Jira accounts; without it tickets stay unassigned"
        )
        try:
            if email is None:
                # The account's own display name: always visible, unlike a hidden email.
                query = str(me.get("displayName") or self.config.email)
                users = self._client.search_users(query, max_results=5)
                if not users:
                    return CheckResult(name, False, f"user search returned nobody: {permission}")
                return CheckResult(name, True, "user search works")
            found = self._lookup_user(email)
            self.metadata.put(Kind.USER, email.casefold(), found, negative=found.account_id is None)
        except ProviderError as error:
            return CheckResult(name, False, f"{error}; {permission}")
        if found.account_id is None:
            return CheckResult(name, False, found.reason or f"{email} did not resolve")
        return CheckResult(name, True, f"{email} resolves to account {found.account_id}")
