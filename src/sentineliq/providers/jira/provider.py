"""JiraProvider: files TicketDrafts as Jira Cloud issues and checks a configuration.

Policy lives here; HTTP lives in client.py, field decisions in mapping and the test connection's
checks in connection.py. One create costs one POST plus whatever metadata the cache does not
already hold (createmeta issue types and fields, and a user search for the assignee). If Jira
refuses only optional fields (say the project's screen changed since createmeta was cached), the
create is repeated once without them: a 400 means nothing was created, so repeating is safe.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sentineliq.lifecycle.policy import LifecyclePolicy
from sentineliq.providers.base import (
    MAX_BULK_CREATE,
    AssigneeDirectory,
    BulkCreate,
    ConnectionReport,
    CreatedTicket,
    ErrorKind,
    IssueState,
    ProviderError,
    TicketAttachment,
    TicketOrError,
)
from sentineliq.providers.jira import comments, links
from sentineliq.providers.jira.assignees import AssigneeResolver
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.connection import HOW_TO_SET, ConnectionChecks
from sentineliq.providers.jira.fallback import DescriptionLadder, refuses_description
from sentineliq.providers.jira.fieldvalues import (
    ALWAYS_FILLED,
    StaticValues,
    is_mandatory,
    resolve_static,
    static_labels,
    user_emails,
)
from sentineliq.providers.jira.mapping import (
    CreateRequest,
    CreateScreen,
    Dropped,
    FieldMeta,
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
from sentineliq.providers.jira.workflow import IssueWorkflow
from sentineliq.ratelimit import SiteRateLimiter
from sentineliq.tickets.draft import Priority, TicketDraft

log = logging.getLogger(__name__)

ClientFactory = Callable[[JiraConfig], JiraClient]

# Fields the create may go without; everything else Jira refuses is a real validation failure.
_ESSENTIAL = frozenset({"project", "issuetype", "summary"})
# What a permission-refused create is retried with: the alert's story stays in the ticket.
_KEPT_ON_PERMISSION = _ESSENTIAL | {"description"}
# Jira's wording for a missing required field: "Team is required." / "Field 'x' is required".
_IS_REQUIRED = re.compile(r"\bis required\b", re.IGNORECASE)
_OWN_VALUES = ALWAYS_FILLED | {"priority"}
_FIELD_REQUIRED = re.compile(r"Field '([\w.-]+)' is required")


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


def _refused_elements(answer: Mapping[str, Any], sent: int) -> dict[int, tuple[int, Any]]:
    """Jira's `errors[]` of a bulk answer: element position -> (status, elementErrors)."""
    refused: dict[int, tuple[int, Any]] = {}
    for item in answer.get("errors") or ():
        if not isinstance(item, Mapping):
            continue
        number, status = item.get("failedElementNumber"), item.get("status")
        if isinstance(number, int) and 0 <= number < sent:
            code = status if isinstance(status, int) and 400 <= status <= 599 else 400
            refused[number] = (code, item.get("elementErrors"))
    return refused


@dataclass(frozen=True)
class JiraCreatedTicket(CreatedTicket):
    """A CreatedTicket that also says why each dropped field was dropped."""

    drop_reasons: tuple[Dropped, ...] = ()


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
        assignees: AssigneeDirectory | None = None,
    ) -> None:
        """`limiter` paces the default client's requests; a `client_factory` paces its own.
        `assignees` is the workspace's email -> accountId mapping, tried before any search."""
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
        # Required fields without a default that SentinelIQ does not fill by itself, as the last
        # test_connection found them (the panel offers a value for each).
        self.required_fields: tuple[FieldMeta, ...] = ()
        self._assignees = AssigneeResolver(
            self._client, config.project_key, lambda: self.metadata, assignees
        )
        self._workflow = IssueWorkflow(self._client, lambda: self.metadata, self._cache.clock)

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
    def lifecycle(self) -> LifecyclePolicy:
        return self.config.lifecycle

    def priority_name(self, priority: Priority) -> str:
        return self.config.priority_map[priority.value]

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
        relates_to: str | None = None,
    ) -> CreatedTicket:
        """`relates_to`: an issue key the new issue is linked to ("relates to") by the create
        itself; if the site cannot take the link, the ticket is created without it and the link
        is reported among the dropped fields."""
        screen = self._screen()
        static = self._usable_static(screen)
        site = self.site_url()
        request = self._request(draft, screen, static, idempotency_key, relates_to)
        created = self._send(request, screen, DescriptionLadder(draft), before_send)
        return self._ticket(created, request, site)

    def create_tickets(
        self, items: Sequence[BulkCreate], *, before_send: Callable[[], None] | None = None
    ) -> list[TicketOrError]:
        """File up to 50 tickets with one POST /issue/bulk; one outcome per item, in order.

        Each element is built exactly as `create_ticket` builds it (mapping, idempotency label,
        dropped fields). An element Jira refuses gets what a single create's refusal gets: a
        required field pauses (REQUIRED_FIELD), a refused description or optional field is
        retried alone as a single create (a refusal means nothing was created for it, so
        repeating is safe). A failure of the whole call raises: AMBIGUOUS when issues may exist.
        """
        if len(items) > MAX_BULK_CREATE:
            raise ValueError(f"at most {MAX_BULK_CREATE} tickets per bulk create")
        screen = self._screen()
        static = self._usable_static(screen)  # the same for every element: raise for all
        site = self.site_url()
        outcomes: list[TicketOrError | None] = [None] * len(items)
        requests: dict[int, CreateRequest] = {}
        for number, item in enumerate(items):
            try:
                requests[number] = self._request(
                    item.draft, screen, static, item.idempotency_key, item.relates_to
                )
            except ProviderError as lookup:  # an assignee lookup failed: nothing sent for it
                outcomes[number] = lookup
        sent = sorted(requests)
        if not sent:
            return [outcome for outcome in outcomes if outcome is not None]
        answer = self._client.create_issues(
            [requests[n].body() for n in sent], before_send=before_send
        )
        action = f"create {len(sent)} issues in bulk"
        refused = _refused_elements(answer, len(sent))
        created_ones = [i for i in answer.get("issues") or () if isinstance(i, dict)]
        accepted = [n for position, n in enumerate(sent) if position not in refused]
        if len(created_ones) != len(accepted):
            # Jira lists the created issues in request order; a count that does not add up
            # leaves no way to tell which is which: each is looked up by its label.
            lost = self._unmatched(len(created_ones), len(accepted))
            for n in accepted:
                outcomes[n] = lost
            accepted = []
        for n, raw in zip(accepted, created_ones, strict=False):
            try:
                outcomes[n] = self._ticket(raw, requests[n], site)
            except ProviderError as unreadable:
                outcomes[n] = unreadable
        for position, (status, element_errors) in refused.items():
            n = sent[position]
            answer_for = self._client.element_error(status, element_errors, action=action)
            try:
                again = self._send(
                    requests[n],
                    screen,
                    DescriptionLadder(items[n].draft),
                    items[n].before_resend,
                    refused=answer_for,
                )
                outcomes[n] = self._ticket(again, requests[n], site)
            except ProviderError as final:
                outcomes[n] = final
        gap = self._unmatched(len(created_ones), len(accepted))
        return [outcome if outcome is not None else gap for outcome in outcomes]

    @staticmethod
    def _unmatched(created: int, accepted: int) -> ProviderError:
        return ProviderError(
            ErrorKind.AMBIGUOUS,
            f"Jira's bulk answer lists {created} created issues for {accepted} accepted "
            "elements; each is looked up by its idempotency label before it is created again",
        )

    def _usable_static(self, screen: CreateScreen) -> StaticValues:
        static = self._static(screen)
        unusable = [p for p in static.problems if p.required]
        if unusable:
            # Jira would refuse every create: a configuration problem, not this alert's.
            raise ProviderError(
                ErrorKind.REQUIRED_FIELD,
                f"the configured value of a required field cannot be used in {screen.where}: "
                + "; ".join(p.describe() for p in unusable)
                + f"; {HOW_TO_SET}",
            )
        return static

    def _request(
        self,
        draft: TicketDraft,
        screen: CreateScreen,
        static: StaticValues,
        idempotency_key: str,
        relates_to: str | None,
    ) -> CreateRequest:
        """The create request for one ticket (no request leaves for it here)."""
        assignee = self._assignees.for_create(
            draft.assignee_email, on_screen="assignee" in screen.fields
        )
        request = build_request(
            draft,
            config=self.config,
            screen=screen,
            idempotency_key=idempotency_key,
            assignee=assignee,
            static_fields=static.fields,
            static_labels=static_labels(self.config),
        )
        for problem in static.problems:
            name = problem.meta.field_id if problem.meta is not None else problem.ref
            request.drop(name, f"field value: {problem.reason}", not_on_screen=problem.meta is None)
        if relates_to is not None:
            self._add_relates_link(request, screen, relates_to)
        # Before the POST: nothing may fail between a created issue and returning it.
        request.dropped = self._explain_unknown_fields(request.dropped)
        return request

    def _send(
        self,
        request: CreateRequest,
        screen: CreateScreen,
        ladder: DescriptionLadder,
        before_send: Callable[[], None] | None,
        *,
        refused: ProviderError | None = None,
    ) -> dict[str, Any]:
        """POST the create, stepping down on refusals; `refused`: the answer an earlier request
        (a bulk element) already got, handled as if this loop had received it."""
        # A refused description steps down (fallback.py), never out; other optional fields
        # Jira refuses are dropped once. Each repeat follows a 400 or 403: nothing was created.
        first_refusal: ProviderError | None = None
        while True:
            if refused is None:
                try:
                    return self._client.create_issue(request.body(), before_send=before_send)
                except ProviderError as answer:
                    refused = answer
            error, refused = refused, None
            required = self._required_refusal(error, screen)
            if required is not None:
                raise required from None
            if ladder.step_down(request, error):
                log.info(
                    "jira create in %s retried with a reduced description",
                    self.config.project_key,
                )
                continue
            if first_refusal is not None:
                raise _after_degrade(error, first_refusal, request) from None
            if refuses_description(error) or not self._degrade(request, error):
                raise error
            first_refusal = error
            log.info(
                "jira create in %s retried without %s",
                self.config.project_key,
                ", ".join(sorted(error.field_errors)) or "optional fields",
            )

    def _add_relates_link(self, request: CreateRequest, screen: CreateScreen, key: str) -> None:
        wanted = key.strip().upper()
        field = links.LINKS_FIELD
        if not links.is_issue_key(wanted):
            request.drop(field, f"relates_to {key!r} is not an issue key")
        elif field not in screen.fields:
            request.drop(
                field,
                f"Linked Issues is not on the create screen of {screen.where}; "
                f"not linked to {wanted}",
                not_on_screen=True,
            )
        else:
            type_ref = links.relates_type(self._link_types())
            if type_ref is None:
                request.drop(
                    field,
                    f"the site has no '{links.RELATES_NAME}' issue link type (nor one reading "
                    f"'{links.RELATES_VERB}'); not linked to {wanted}",
                )
            else:
                request.update[field] = links.relates_update(type_ref, wanted)

    def _link_types(self) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            try:
                return self._client.issue_link_types()
            except ProviderError as error:
                # 404: issue linking is off on this site; 403: not visible to this account.
                if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.PERMISSION):
                    return []
                raise

        return self.metadata.get_or_load(Kind.LINK_TYPES, "all", load)

    # --- comments and properties (comments.py) --------------------------------------------------

    def add_comment(
        self,
        issue_key: str,
        body: dict[str, Any],
        *,
        marker: str,
        before_send: Callable[[], None] | None = None,
    ) -> str:
        """Post an ADF comment carrying the idempotency `marker`; the comment's id."""
        return comments.post_comment(
            self._client, issue_key, body, marker=marker, before_send=before_send
        )

    def find_comment(self, issue_key: str, marker: str) -> str | None:
        """The id of a comment on `issue_key` carrying `marker`, or None (no search lag)."""
        return comments.find_comment(self._client, issue_key, marker)

    def set_issue_property(self, issue_key: str, key: str, value: Mapping[str, Any]) -> None:
        self._client.set_issue_property(issue_key, key, value)

    # --- attachments ----------------------------------------------------------------------------

    def attachments(self, issue_key: str) -> list[TicketAttachment]:
        """The issue's attachments, read from the issue itself (no search lag)."""
        found = []
        for item in self._client.issue_attachments(issue_key):
            size = item.get("size")
            found.append(
                TicketAttachment(
                    id=str(item.get("id", "")),
                    filename=str(item.get("filename", "")),
                    size=size if isinstance(size, int) else -1,
                )
            )
        return found

    def add_attachment(
        self,
        issue_key: str,
        filename: str,
        content: BinaryIO,
        content_type: str,
        *,
        before_send: Callable[[], None] | None = None,
    ) -> TicketAttachment:
        """Attach one file (multipart, `X-Atlassian-Token: no-check`); what Jira made of it."""
        made = self._client.add_attachment(
            issue_key, filename, content, content_type, before_send=before_send
        )
        if not made:
            raise ProviderError(
                ErrorKind.UNAVAILABLE,
                f"Jira answered the attachment of {filename!r} to {issue_key} with no attachment",
            )
        first = made[0]
        size = first.get("size")
        return TicketAttachment(
            id=str(first.get("id", "")),
            filename=str(first.get("filename", filename)),
            size=size if isinstance(size, int) else -1,
        )

    def _ticket(
        self, created: dict[str, Any], request: CreateRequest, site: str
    ) -> JiraCreatedTicket:
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
            url=f"{site}/browse/{key}",
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
        site = self.site_url()
        label = idempotency_label(idempotency_key)
        jql = f'project = "{self.config.project_key}" AND labels = "{label}" ORDER BY created ASC'
        found = self._client.search_jql(jql, ("id", "key"), 10).get("issues") or []
        issues = [i for i in found if isinstance(i, dict) and i.get("key") and i.get("id")]
        if not issues:
            return None
        # Several can only exist if something else duplicated it; the oldest is the original.
        first = min(issues, key=lambda issue: int(str(issue["id"])))
        key = str(first["key"])
        return CreatedTicket(id=str(first["id"]), key=key, url=f"{site}/browse/{key}")

    def _degrade(self, request: CreateRequest, error: ProviderError) -> bool:
        """Drop the optional fields Jira refused; True if the create is worth repeating once."""
        if error.kind is ErrorKind.PERMISSION:
            # A 403 names no field: try once with only what an issue cannot do without.
            optional = [name for name in request.fields if name not in _KEPT_ON_PERMISSION]
            optional += list(request.update)
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
        if refused & _ESSENTIAL or not refused <= set(request.fields) | set(request.update):
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
        refs = set(self.config.custom_fields) | set(self.config.field_values)
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

    def _required_refusal(self, error: ProviderError, screen: CreateScreen) -> ProviderError | None:
        """A REQUIRED_FIELD error if Jira refused a required field (missing or invalid), else None.

        A required field is never "degraded" away: without it no create can succeed.
        """
        if error.kind is not ErrorKind.VALIDATION:
            return None
        refused = dict(error.field_errors)
        # Some refusals name the field only in errorMessages: "Field 'priority' is required".
        for field_id in _FIELD_REQUIRED.findall(error.message):
            refused.setdefault(field_id, f"Field '{field_id}' is required")
        fresh: CreateScreen | None = None
        hits: list[tuple[str, str]] = []
        for field_id, message in sorted(refused.items()):
            meta = screen.fields.get(field_id)
            if meta is None and fresh is None:
                # A field our cached screen does not know: the screen changed, read it again.
                self.metadata.invalidate(Kind.CREATE_FIELDS)
                try:
                    fresh = self._screen()
                except ProviderError:
                    fresh = screen
            if meta is None and fresh is not None:
                meta = fresh.fields.get(field_id)
            if field_id in _OWN_VALUES:
                # SentinelIQ's own value for this alert was refused, not a missing setting.
                required = bool(_IS_REQUIRED.search(message))
            else:
                required = (meta is not None and is_mandatory(meta)) or bool(
                    _IS_REQUIRED.search(message)
                )
            if required:
                name = f"{meta.name} ({field_id})" if meta is not None else field_id
                hits.append((name, message))
        if not hits:
            return None
        named = "; ".join(f"{name}: {message}" for name, message in hits)
        return ProviderError(
            ErrorKind.REQUIRED_FIELD,
            f"Jira refused a required field of {screen.where} ({named}); {HOW_TO_SET}",
            status=error.status,
            field_errors=refused,
        )

    def _static(self, screen: CreateScreen) -> StaticValues:
        accounts: dict[str, str | None] = {}
        for email in user_emails(self.config, screen):
            try:
                accounts[email] = self._account_for(email)
            except ProviderError as error:
                if error.retryable or error.pauses_provider:
                    raise
                accounts[email] = None  # reported as a value that cannot be used
        return resolve_static(self.config, screen, accounts)

    def _account_for(self, email: str) -> str | None:
        # A user-valued field resolves like the assignee: workspace mapping first, then search.
        found = self._assignees.for_create(email, on_screen=True)
        return found.account_id if found is not None else None

    def site_url(self) -> str:
        """Where issue links point: the site, also when base_url is the scoped-token gateway."""
        if self.config.site_url:
            return self.config.site_url
        if not self.config.is_gateway:
            return self.config.base_url
        return self.metadata.get_or_load(Kind.SITE, "site", self._site_from_server_info)

    def _site_from_server_info(self) -> str:
        raw = self._client.server_info().get("baseUrl")
        url = raw.strip().rstrip("/") if isinstance(raw, str) else ""
        if not url.startswith(("https://", "http://")):
            raise ProviderError(
                ErrorKind.CONFIG,
                "Jira's server info names no site URL for issue links; set site_url "
                "(e.g. https://your-site.atlassian.net)",
            )
        return url

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

    # --- lifecycle of existing issues (workflow.py) -------------------------------------------

    def issue_state(self, issue_key: str, *, max_age_s: float = 30.0) -> IssueState:
        """The issue's status, category, resolution and priority, read at most `max_age_s`
        ago (0: read now). Raises ProviderError (NOT_FOUND for a deleted issue)."""
        return self._workflow.issue_state(issue_key, max_age_s=max_age_s)

    def transition(
        self,
        issue_key: str,
        names: Sequence[str],
        *,
        resolution: str | None = None,
        comment: dict[str, Any] | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> IssueState:
        """Move the issue by the first of `names` it offers now (case-insensitive); returns
        the state after it. `resolution` is sent only by a transition into a done status."""
        return self._workflow.transition(
            issue_key, names, resolution=resolution, comment=comment, before_send=before_send
        )

    def set_priority(
        self, issue_key: str, priority: str, *, before_send: Callable[[], None] | None = None
    ) -> None:
        """Set the issue's priority by name (the caller decides never to lower it)."""
        self._workflow.set_priority(issue_key, priority, before_send=before_send)

    # --- test connection (connection.py) --------------------------------------------------------

    def test_connection(self, *, assignee_email: str | None = None) -> ConnectionReport:
        """Named checks in order; never raises for anything Jira answers (or fails to)."""
        return ConnectionChecks(self).run(assignee_email)
