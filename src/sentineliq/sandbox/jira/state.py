"""SandboxState: the sandbox's users, project, screens and issues behind one lock."""

from __future__ import annotations

import copy
import hmac
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sentineliq.sandbox.jira.clock import Clock, utc_now
from sentineliq.sandbox.jira.content import ContentRules
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.fieldchecks import NOT_ON_SCREEN
from sentineliq.sandbox.jira.links import (
    ISSUE_LINKS_FIELD,
    IssueLink,
    LinkedIssue,
    LinkRequest,
    LinkType,
    resolve_link_updates,
    seed_link_types,
    split_link_updates,
)
from sentineliq.sandbox.jira.model import (
    Attachment,
    Comment,
    Issue,
    IssueType,
    Project,
    Status,
    User,
    account_id_for,
)
from sentineliq.sandbox.jira.rules import NewIssue, check_create
from sentineliq.sandbox.jira.seed import (
    ADMIN_EMAIL,
    CREATE_SCREEN,
    FIELDS_BY_ID,
    TO_DO,
    UNREMOVABLE_FIELDS,
    seed_project,
    seed_users,
)
from sentineliq.sandbox.jira.workflow import DEFAULT_RESOLUTION, Resolution, Workflow

FIRST_ISSUE_ID = 10001
# Jira Cloud's default per-file attachment limit (GET /rest/api/3/attachment/meta uploadLimit).
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
_T = TypeVar("_T")


def invalid_transition(transition_id: object) -> str:
    return f"Transition id '{transition_id}' is not valid for this issue."


@dataclass(frozen=True)
class IssueSnapshot:
    """A deep copy of an issue, safe to read outside the lock."""

    issue: Issue
    project: Project
    linked: dict[str, LinkedIssue] = field(default_factory=dict)  # the other ends of its links


@dataclass(frozen=True)
class IssueChange:
    """What a listener (the webhook sender) hears after a change: copies, safe to keep."""

    event: str  # "created" | "updated" | "commented"
    before: Issue | None  # None for "created"
    after: IssueSnapshot
    actor: User | None  # the authenticated caller who made the change, if any
    comment: Comment | None = None  # for "commented"


ChangeListener = Callable[[IssueChange], None]


class SandboxState:
    """All mutable Jira data. Every public method takes the lock, so handlers on many server
    threads see consistent data; validation of a create runs under the same lock as the insert,
    so a concurrent screen change cannot slip between check and write."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._search_lag = 0.0
        self._content = ContentRules()
        self._users: dict[str, User] = {}
        self._projects: dict[str, Project] = {}
        self._screens: dict[tuple[str, str], tuple[str, ...]] = {}
        # Fields made required per (project id, issue type id), beyond FieldDef.required.
        self._required: dict[tuple[str, str], frozenset[str]] = {}
        self._issues: dict[str, Issue] = {}  # by id, in creation order
        self._next_issue_id = FIRST_ISSUE_ID
        self._next_number: dict[str, int] = {}
        self._next_comment_id = 10000
        self._workflow = Workflow()
        self._notifications: list[tuple[str, str]] = []  # (issue key, event) mails Jira sent
        self._link_types: tuple[LinkType, ...] = ()
        self._next_link_id = 10000
        self._next_attachment_id = 10000
        self._attachment_max_bytes = DEFAULT_ATTACHMENT_MAX_BYTES
        self._listeners: list[ChangeListener] = []  # kept across reset(): wiring, not data
        self._acting = threading.local()
        self.reset()

    # -- change listeners ---------------------------------------------------------------------

    def listen(self, listener: ChangeListener) -> None:
        """Call `listener` after every change of an issue, under the lock (so in change order);
        it must only queue work, never block or call back into the state."""
        with self._lock:
            self._listeners.append(listener)

    @contextmanager
    def acting_as(self, user: User | None) -> Iterator[None]:
        """Changes made on this thread inside the block are attributed to `user`."""
        previous = getattr(self._acting, "user", None)
        self._acting.user = user
        try:
            yield
        finally:
            self._acting.user = previous

    def _notify(self, change: IssueChange) -> None:
        for listener in self._listeners:
            listener(change)

    # -- set-up ---------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._users = {u.account_id: u for u in seed_users()}
            project = seed_project(account_id_for(ADMIN_EMAIL))
            self._projects = {project.id: project}
            self._screens = {(project.id, it.id): CREATE_SCREEN for it in project.issue_types}
            self._required = {}
            self._issues = {}
            self._next_issue_id = FIRST_ISSUE_ID
            self._next_number = {}
            self._next_comment_id = 10000
            self._link_types = seed_link_types()
            self._next_link_id = 10000
            self._next_attachment_id = 10000
            self._attachment_max_bytes = DEFAULT_ATTACHMENT_MAX_BYTES
            self._search_lag = 0.0
            self._content = ContentRules()
            self._workflow = Workflow()
            self._notifications = []

    def add_user(self, user: User) -> str:
        with self._lock:
            if any(u.email.lower() == user.email.lower() for u in self._users.values()):
                raise ValueError(f"a user with email {user.email!r} already exists")
            self._users[user.account_id] = user
            return user.account_id

    def set_emails_hidden(self, hidden: bool, email: str | None = None) -> None:
        """Hide (or show) the email of one user, or of every user when `email` is None."""
        with self._lock:
            users = [
                u for u in self._users.values() if email is None or u.email.lower() == email.lower()
            ]
            if not users:
                raise ValueError(f"no user with email {email!r}")
            for user in users:
                user.email_visible = not hidden

    def set_search_lag(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("search lag cannot be negative")
        with self._lock:
            self._search_lag = seconds

    @property
    def workflow(self) -> Workflow:
        with self._lock:
            return self._workflow

    def set_workflow(self, workflow: Workflow) -> None:
        """Switch workflow or names; existing issues keep their status id, shown renamed."""
        with self._lock:
            self._workflow = workflow
            for issue in self._issues.values():
                issue.status = workflow.status(issue.status)

    def notify(self, issue_key: str, event: str) -> None:
        with self._lock:
            self._notifications.append((issue_key, event))

    def notifications(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._notifications)

    def set_content_rules(self, rules: ContentRules) -> None:
        with self._lock:
            self._content = rules

    def remove_field_from_screen(
        self, project_ref: str, issue_type_ref: str, field_id: str
    ) -> None:
        with self._lock:
            project = self.find_project(project_ref)
            if project is None:
                raise ValueError(f"no project {project_ref!r}")
            issue_type = project.issue_type(issue_type_ref)
            if issue_type is None:
                raise ValueError(f"no issue type {issue_type_ref!r} in project {project.key}")
            if field_id in UNREMOVABLE_FIELDS:
                raise ValueError(f"field {field_id!r} is required by Jira and cannot be removed")
            screen = self._screens[(project.id, issue_type.id)]
            if field_id not in FIELDS_BY_ID:
                raise ValueError(f"unknown field {field_id!r}")
            self._screens[(project.id, issue_type.id)] = tuple(f for f in screen if f != field_id)

    def require_field(self, project_ref: str, issue_type_ref: str | None, field_id: str) -> None:
        """Put `field_id` on the create screen(s) as a required field without a default, as a
        Jira admin does in a field configuration. `issue_type_ref` None: every issue type."""
        with self._lock:
            project = self.find_project(project_ref)
            if project is None:
                raise ValueError(f"no project {project_ref!r}")
            if issue_type_ref is None:
                types = list(project.issue_types)
            else:
                found = project.issue_type(issue_type_ref)
                if found is None:
                    raise ValueError(f"no issue type {issue_type_ref!r} in project {project.key}")
                types = [found]
            definition = FIELDS_BY_ID.get(field_id)
            if definition is None or not definition.operations or definition.kind == "readonly":
                raise ValueError(f"unknown or read-only field {field_id!r}")
            for issue_type in types:
                key = (project.id, issue_type.id)
                if field_id not in self._screens[key]:
                    self._screens[key] = (*self._screens[key], field_id)
                self._required[key] = self._required.get(key, frozenset()) | {field_id}

    # -- look-ups (the rules.Directory protocol) ---------------------------------------------

    def find_project(self, ref: str) -> Project | None:
        """By id, or by key; keys are case-sensitive in the REST API, as on Cloud."""
        with self._lock:
            return self._projects.get(ref) or next(
                (p for p in self._projects.values() if p.key == ref), None
            )

    def find_user(self, account_id: str) -> User | None:
        with self._lock:
            return self._users.get(account_id)

    def screen(self, project: Project, issue_type: IssueType) -> tuple[str, ...]:
        with self._lock:
            return self._screens[(project.id, issue_type.id)]

    def required(self, project: Project, issue_type: IssueType) -> frozenset[str]:
        """Field ids required on this screen (beyond those FieldDef marks required)."""
        with self._lock:
            return self._required.get((project.id, issue_type.id), frozenset())

    def projects(self) -> list[Project]:
        with self._lock:
            return list(self._projects.values())

    def users(self) -> list[User]:
        with self._lock:
            return [copy.copy(u) for u in self._users.values()]

    def authenticate(self, email: str, token: str) -> User | None:
        with self._lock:
            for user in self._users.values():
                if user.email.lower() != email.lower() or user.api_token is None:
                    continue
                if hmac.compare_digest(user.api_token.encode(), token.encode()) and user.active:
                    return copy.copy(user)
            return None

    # -- issues -------------------------------------------------------------------------------

    def create_issue(self, body: dict[str, Any], caller: User) -> IssueSnapshot:
        with self._lock:
            body, link_ops = split_link_updates(body)
            links, link_problem = resolve_link_updates(
                link_ops, self._link_types, self._issue_id_of
            )
            link_errors = {ISSUE_LINKS_FIELD: link_problem} if link_problem else {}
            try:
                new: NewIssue = check_create(body, self, caller)
            except JiraError as refused:
                if refused.status == 400:  # all field problems together, as Jira does
                    refused.errors = {
                        **self._content.field_errors(body),
                        **link_errors,
                        **refused.errors,
                    }
                raise
            screen = self._screens[(new.project.id, new.issue_type.id)]
            if link_ops and ISSUE_LINKS_FIELD not in screen:
                link_errors = {ISSUE_LINKS_FIELD: NOT_ON_SCREEN.format(field=ISSUE_LINKS_FIELD)}
            if link_errors:
                raise JiraError(400, [], {**self._content.field_errors(body), **link_errors})
            self._content.check(body)
            number = self._next_number.get(new.project.id, 1)
            self._next_number[new.project.id] = number + 1
            now = utc_now()
            issue = Issue(
                id=str(self._next_issue_id),
                key=f"{new.project.key}-{number}",
                project_id=new.project.id,
                issue_type_id=new.issue_type.id,
                values=new.values,
                status=self._workflow.status(TO_DO),
                creator_id=caller.account_id,
                created=now,
                updated=now,
                visible_at=self._clock() + self._search_lag,
                properties=new.properties,
            )
            self._next_issue_id += 1
            if new.transition is not None:
                self._set_status(issue, new.transition.to, now)
            self._issues[issue.id] = issue
            for request in links:
                self._link_new(issue, request)
            snapshot = self._snapshot(issue)
            self._notify(IssueChange("created", None, snapshot, copy.copy(caller)))
            return snapshot

    def find_issue(self, ref: str) -> Issue | None:
        """By id or key (keys match case-insensitively, as Jira's issue look-up does)."""
        with self._lock:
            if ref in self._issues:
                return self._issues[ref]
            upper = ref.upper()
            return next((i for i in self._issues.values() if i.key == upper), None)

    def issue(self, ref: str) -> IssueSnapshot:
        with self._lock:
            issue = self.find_issue(ref)
            if issue is None:
                raise JiraError(404, [ISSUE_NOT_FOUND])
            return self._snapshot(issue)

    def all_issues(self) -> list[IssueSnapshot]:
        with self._lock:
            return [self._snapshot(i) for i in self._issues.values()]

    def searchable(
        self,
        forced_ids: Iterable[str] = (),
        matches: Callable[[Issue, Project], bool] = lambda _issue, _project: True,
    ) -> list[IssueSnapshot]:
        """Issues the search index has caught up with, plus any the caller asked to reconcile,
        that `matches` accepts. Only the hits are copied: a search by one label on a site of
        thousands must not copy every issue under the lock."""
        forced = set(forced_ids)
        with self._lock:
            now = self._clock()
            return [
                self._snapshot(i)
                for i in self._issues.values()
                if (i.visible_at <= now or i.id in forced)
                and matches(i, self._projects[i.project_id])
            ]

    def update_issue(self, ref: str, change: Callable[[Issue], _T], *, touch: bool = True) -> _T:
        """Apply `change` to the live issue under the lock and, with `touch`, bump its `updated`
        time (entity properties are not fields: setting one leaves `updated` alone, and fires no
        webhook)."""
        return self._update(ref, change, commented=False, touch=touch)

    def _update(
        self, ref: str, change: Callable[[Issue], _T], *, commented: bool, touch: bool = True
    ) -> _T:
        with self._lock:
            issue = self.find_issue(ref)
            if issue is None:
                raise JiraError(404, [ISSUE_NOT_FOUND])
            before = copy.deepcopy(issue) if self._listeners else None
            result = change(issue)
            if touch:
                issue.updated = utc_now()
            if before is not None and (touch or commented):
                actor = getattr(self._acting, "user", None)
                comment = result if commented and isinstance(result, Comment) else None
                event = "commented" if comment is not None else "updated"
                self._notify(
                    IssueChange(event, before, self._snapshot(issue), copy.copy(actor), comment)
                )
            return result

    def add_comment(
        self,
        ref: str,
        author: User,
        body: dict[str, Any],
        properties: dict[str, Any] | None = None,
    ) -> Comment:
        def add(issue: Issue) -> Comment:
            return copy.deepcopy(self._append_comment(issue, author, body, properties))

        with self.acting_as(author):
            return self._update(ref, add, commented=True, touch=False)

    # -- attachments ----------------------------------------------------------------------------

    @property
    def attachment_max_bytes(self) -> int:
        with self._lock:
            return self._attachment_max_bytes

    def set_attachment_max_bytes(self, limit: int) -> None:
        """The largest file an attachment may be (larger: 413), as a site admin sets it."""
        if limit < 1:
            raise ValueError("the attachment limit must be at least 1 byte")
        with self._lock:
            self._attachment_max_bytes = limit

    def add_attachments(
        self, ref: str, author: User, files: Sequence[tuple[str, str, bytes]]
    ) -> list[Attachment]:
        """Attach (filename, mime type, content) files to the issue, in one change."""

        def attach(issue: Issue) -> list[Attachment]:
            added = []
            for filename, mime_type, content in files:
                attachment = Attachment(
                    str(self._next_attachment_id),
                    filename,
                    len(content),
                    mime_type,
                    utc_now(),
                    author.account_id,
                    content,
                )
                self._next_attachment_id += 1
                issue.attachments.append(attachment)
                added.append(copy.copy(attachment))
            return added

        with self.acting_as(author):
            return self._update(ref, attach, commented=False)

    def attachment(self, attachment_id: str) -> tuple[IssueSnapshot, Attachment]:
        with self._lock:
            for issue in self._issues.values():
                for attachment in issue.attachments:
                    if attachment.id == attachment_id:
                        return self._snapshot(issue), attachment
        raise JiraError(404, [f"The attachment with id '{attachment_id}' does not exist"])

    # -- comments, links ------------------------------------------------------------------------

    def comment(self, ref: str, comment_id: str) -> tuple[IssueSnapshot, Comment]:
        with self._lock:
            snap = self.issue(ref)
            found = next((c for c in snap.issue.comments if c.id == comment_id), None)
            if found is None:
                raise JiraError(404, [f"Can not find a comment for key: {comment_id}."])
            return snap, found

    def link_types(self) -> tuple[LinkType, ...]:
        with self._lock:
            return self._link_types

    def set_link_types(self, types: Iterable[LinkType]) -> None:
        """Replace the site's link types (an admin deleting "Relates", say)."""
        with self._lock:
            self._link_types = tuple(types)

    def link(self, link_type: LinkType, source_ref: str, target_ref: str) -> IssueLink:
        """Link two existing issues; a link that already exists is not added twice, as Jira
        answers 201 for a duplicate without making a second one."""
        with self._lock:
            source, target = self.find_issue(source_ref), self.find_issue(target_ref)
            if source is None or target is None:
                raise JiraError(404, [ISSUE_NOT_FOUND])
            for existing in source.links:
                same = (existing.source_id, existing.target_id) == (source.id, target.id)
                if same and existing.type.id == link_type.id:
                    return existing
            link = IssueLink(str(self._next_link_id), link_type, source.id, target.id)
            self._next_link_id += 1
            now = utc_now()
            for issue in (source, target):
                issue.links.append(link)
                issue.updated = now
            return link

    def _link_new(self, issue: Issue, request: LinkRequest) -> None:
        other = self._issues[request.other_id]
        source, target = (issue, other) if request.new_is_source else (other, issue)
        self.link(request.type, source.id, target.id)

    def _issue_id_of(self, ref: str) -> str | None:
        found = self.find_issue(ref)
        return found.id if found is not None else None

    def _append_comment(
        self,
        issue: Issue,
        author: User,
        body: dict[str, Any],
        properties: dict[str, Any] | None = None,
    ) -> Comment:
        now = utc_now()
        comment = Comment(
            str(self._next_comment_id),
            author.account_id,
            body,
            now,
            updated=now,
            properties=dict(properties or {}),
        )
        self._next_comment_id += 1
        issue.comments.append(comment)
        issue.updated = now  # the issue's `updated` is the comment's time
        return comment

    def apply_transition(
        self,
        ref: str,
        transition_id: str,
        *,
        author: User,
        resolution: Resolution | None = None,
        comments: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Move the issue by a transition available from its current status (checked under the
        lock, so a concurrent move cannot slip in) and add the comments, all in one update."""

        def move(issue: Issue) -> None:
            transition = self._workflow.find(issue.status, transition_id)
            if transition is None:
                raise JiraError(400, [invalid_transition(transition_id)])
            self._set_status(issue, transition.to, utc_now(), resolution)
            for body in comments:
                self._append_comment(issue, author, body)

        self.update_issue(ref, move)

    def transition(self, ref: str, status: Status, resolution: Resolution | None = None) -> None:
        self.update_issue(ref, lambda issue: self._set_status(issue, status, utc_now(), resolution))

    def _set_status(
        self,
        issue: Issue,
        status: Status,
        now: datetime,
        resolution: Resolution | None = None,
    ) -> None:
        """Entering a done status sets the resolution (Done by default) and its date; leaving
        done clears both; moving between done statuses keeps them unless one is given."""
        was_done = issue.status.category == "done"
        issue.status = self._workflow.status(status)
        if status.category != "done":
            issue.resolution, issue.resolution_date = None, None
        elif resolution is not None or not was_done:
            issue.resolution = (resolution or DEFAULT_RESOLUTION).name
            issue.resolution_date = now

    def _snapshot(self, issue: Issue) -> IssueSnapshot:
        linked: dict[str, LinkedIssue] = {}
        for link in issue.links:
            for end in (link.source_id, link.target_id):
                other = self._issues.get(end)
                if other is None or other.id == issue.id:
                    continue
                linked[other.id] = LinkedIssue(
                    other.id,
                    other.key,
                    str(other.values.get("summary", "")),
                    other.status,
                    other.values.get("priority"),
                    other.issue_type_id,
                )
        return IssueSnapshot(copy.deepcopy(issue), self._projects[issue.project_id], linked)
