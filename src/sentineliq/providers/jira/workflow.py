"""Reading an issue's lifecycle state and moving it through the site's workflow.

Workflows differ per site (simplified or classic, custom names) and per language, so nothing here
knows English status names: an issue is open or done by its status *category*, and a transition is
picked by the names the operator configured ("Reopen Issue", "Erneut öffnen", ...), the first
one the issue offers from its current status.

Two caches keep the Jira calls down:
- the issue state, per issue, for the caller's `max_age_s` (the worker checks it before every
  comment or reopen); our own transitions and edits drop the entry;
- the transitions offered from (project, issue type, status), in the metadata scope of the
  configuration (so a new configuration version starts empty). A transition Jira refuses as
  invalid (the cached list or the cached status went stale) is looked up again once.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sentineliq.providers.base import ErrorKind, IssueState, ProviderError, StatusCategory
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.issuestate import ISSUE_STATE_FIELDS, parse_issue_state
from sentineliq.providers.jira.metadata import Kind, MetadataScope

log = logging.getLogger(__name__)

# Beyond the state itself: what the transitions cache is keyed by.
_READ_FIELDS = (*ISSUE_STATE_FIELDS, "issuetype", "project")
_MAX_STATES = 4096  # issues whose state is kept; the least recently read are dropped


@dataclass(frozen=True)
class TransitionOption:
    """One transition an issue offers: its id, (possibly localized) name and target."""

    id: str
    name: str
    to_status: str
    to_category: StatusCategory | None


@dataclass(frozen=True)
class _Read:
    """An issue's state plus what keys its transitions, and when it was read."""

    state: IssueState
    project: str
    issue_type_id: str
    status_id: str
    at: float

    @property
    def transitions_key(self) -> tuple[str, str, str]:
        return (self.project, self.issue_type_id, self.status_id)


def normalize_name(name: str) -> str:
    """How configured and offered names are compared: trimmed, inner spaces collapsed,
    case-insensitive (casefold: "ß" matches "SS" as Jira's own look-ups do not, harmlessly)."""
    return " ".join(name.split()).casefold()


def pick_transition(
    names: Sequence[str], offered: Sequence[TransitionOption]
) -> TransitionOption | None:
    """The transition named by the first of `names` that the issue offers."""
    by_name: dict[str, TransitionOption] = {}
    for option in offered:
        by_name.setdefault(normalize_name(option.name), option)
    for name in names:
        found = by_name.get(normalize_name(name))
        if found is not None:
            return found
    return None


def _option(raw: Mapping[str, Any]) -> TransitionOption | None:
    tid, name, to = raw.get("id"), raw.get("name"), raw.get("to")
    if not isinstance(tid, str | int) or not isinstance(name, str):
        return None
    to = to if isinstance(to, Mapping) else {}
    category = to.get("statusCategory")
    key = category.get("key") if isinstance(category, Mapping) else None
    to_name = to.get("name")
    return TransitionOption(
        id=str(tid),
        name=name,
        to_status=to_name if isinstance(to_name, str) else "",
        to_category=StatusCategory(key) if key in set(StatusCategory) else None,
    )


def _id_of(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, Mapping) else None
    return str(found) if isinstance(found, str | int) else None


class IssueWorkflow:
    """Issue state reads, transitions by name and priority edits for one provider."""

    def __init__(
        self,
        client: JiraClient,
        metadata: Callable[[], MetadataScope],
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._metadata = metadata
        self._clock = clock
        self._lock = threading.Lock()
        self._reads: OrderedDict[str, _Read] = OrderedDict()

    # --- state ----------------------------------------------------------------------------------

    def issue_state(self, issue_key: str, *, max_age_s: float = 30.0) -> IssueState:
        return self._read(issue_key, max_age_s)[0].state

    def forget(self, issue_key: str) -> None:
        """Drop the cached state (after anything that changed the issue)."""
        with self._lock:
            self._reads.pop(issue_key.upper(), None)

    def _read(self, issue_key: str, max_age_s: float) -> tuple[_Read, bool]:
        """The issue's read and whether it was fetched just now."""
        cache_key = issue_key.upper()
        with self._lock:
            cached = self._reads.get(cache_key)
            if cached is not None and self._clock() - cached.at < max_age_s:
                self._reads.move_to_end(cache_key)
                return cached, False
        raw = self._client.get_issue(issue_key, _READ_FIELDS)
        try:
            state = parse_issue_state(raw)
        except ValueError as exc:
            raise ProviderError(
                ErrorKind.UNAVAILABLE, f"Jira's answer for issue {issue_key} is unreadable: {exc}"
            ) from None
        fields = raw.get("fields")
        fields = fields if isinstance(fields, Mapping) else {}
        project = fields.get("project")
        project_key = project.get("key") if isinstance(project, Mapping) else None
        read = _Read(
            state=state,
            project=project_key if isinstance(project_key, str) else state.key.split("-")[0],
            issue_type_id=_id_of(fields.get("issuetype")) or "",
            status_id=_id_of(fields.get("status")) or state.status,
            at=self._clock(),
        )
        with self._lock:
            self._reads[cache_key] = read
            self._reads.move_to_end(cache_key)
            while len(self._reads) > _MAX_STATES:
                self._reads.popitem(last=False)
        return read, True

    # --- transitions ----------------------------------------------------------------------------

    def transition(
        self,
        issue_key: str,
        names: Sequence[str],
        *,
        resolution: str | None = None,
        comment: Mapping[str, Any] | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> IssueState:
        wanted = [n for n in names if n.strip()]
        if not wanted:
            raise ProviderError(ErrorKind.CONFIG, "no transition names are configured")
        read, fetched = self._read(issue_key, max_age_s=30.0)
        option, offered, loaded = self._choose(issue_key, read, wanted)
        if option is None and not (fetched and loaded):
            # The cached state or list may be stale (someone moved the issue): look once more.
            read, option, offered = self._refresh(issue_key, read, wanted)
        if option is None:
            raise self._no_match(issue_key, read, wanted, offered)
        try:
            self._send(issue_key, option, resolution, comment, before_send)
        except ProviderError as error:
            if resolution is not None and _refused_resolution(error):
                # The done transition has no screen holding Resolution (team-managed and
                # simplified workflows): Jira sets one itself. Move it without ours.
                log.info("%s: no resolution on the screen of transition %s", issue_key, option.id)
                try:
                    self._send(issue_key, option, None, comment, before_send)
                finally:
                    self.forget(issue_key)
                return self.issue_state(issue_key, max_age_s=0.0)
            # A 400 without field errors is Jira refusing the transition id: the cached list or
            # status is stale. Field errors (resolution, comment) are not cured by a new look-up.
            if error.kind is not ErrorKind.VALIDATION or error.field_errors:
                self.forget(issue_key)
                raise
            log.info("jira refused transition %s of %s; looking it up again", option.id, issue_key)
            read, option, offered = self._refresh(issue_key, read, wanted)
            if option is None:
                raise self._no_match(issue_key, read, wanted, offered) from None
            try:
                self._send(issue_key, option, resolution, comment, before_send)
            finally:
                self.forget(issue_key)
        self.forget(issue_key)
        return self.issue_state(issue_key, max_age_s=0.0)

    def _choose(
        self, issue_key: str, read: _Read, names: Sequence[str]
    ) -> tuple[TransitionOption | None, list[TransitionOption], bool]:
        """The option picked, the options offered, and whether they were just loaded."""
        loaded: list[bool] = []

        def load() -> list[TransitionOption]:
            loaded.append(True)
            return self._load_transitions(issue_key)

        offered = self._metadata().get_or_load(Kind.TRANSITIONS, read.transitions_key, load)
        return pick_transition(names, offered), offered, bool(loaded)

    def _refresh(
        self, issue_key: str, stale: _Read, names: Sequence[str]
    ) -> tuple[_Read, TransitionOption | None, list[TransitionOption]]:
        scope = self._metadata()
        scope.drop(Kind.TRANSITIONS, stale.transitions_key)
        self.forget(issue_key)
        read, _ = self._read(issue_key, max_age_s=0.0)
        scope.drop(Kind.TRANSITIONS, read.transitions_key)
        option, offered, _ = self._choose(issue_key, read, names)
        return read, option, offered

    def _load_transitions(self, issue_key: str) -> list[TransitionOption]:
        options = (_option(raw) for raw in self._client.get_transitions(issue_key))
        return [o for o in options if o is not None]

    def _send(
        self,
        issue_key: str,
        option: TransitionOption,
        resolution: str | None,
        comment: Mapping[str, Any] | None,
        before_send: Callable[[], None] | None,
    ) -> None:
        body: dict[str, Any] = {"transition": {"id": option.id}}
        if resolution is not None and option.to_category is StatusCategory.DONE:
            # Only a done transition's screen takes a resolution; elsewhere Jira refuses it.
            body["fields"] = {"resolution": {"name": resolution}}
        if comment is not None:
            body["update"] = {"comment": [{"add": {"body": dict(comment)}}]}
        with _permission_hint("Transition issues, Resolve issues, Add comments"):
            self._client.do_transition(issue_key, body, before_send=before_send)

    @staticmethod
    def _no_match(
        issue_key: str, read: _Read, names: Sequence[str], offered: Sequence[TransitionOption]
    ) -> ProviderError:
        available = ", ".join(repr(o.name) for o in offered) or "none"
        configured = ", ".join(repr(n) for n in names)
        return ProviderError(
            ErrorKind.CONFIG,
            f"none of the configured transition names ({configured}) is available for "
            f"{issue_key} in status {read.state.status!r}; Jira offers: {available}",
        )

    # --- edits ----------------------------------------------------------------------------------

    def set_priority(
        self, issue_key: str, priority: str, *, before_send: Callable[[], None] | None = None
    ) -> None:
        body = {"fields": {"priority": {"name": priority}}}
        try:
            with _permission_hint("Edit issues"):
                self._client.edit_issue(issue_key, body, before_send=before_send)
        finally:
            self.forget(issue_key)


def _refused_resolution(error: ProviderError) -> bool:
    return error.kind is ErrorKind.VALIDATION and set(error.field_errors) == {"resolution"}


@contextmanager
def _permission_hint(needed: str) -> Iterator[None]:
    """A 403 names the permissions this call needs (the client's hint is about creating)."""
    try:
        yield
    except ProviderError as error:
        if error.kind is not ErrorKind.PERMISSION:
            raise
        message = error.message.split("; check its project permissions")[0]
        raise ProviderError(
            ErrorKind.PERMISSION,
            f"{message}; check its project permissions (Browse projects, {needed})",
            status=error.status,
            field_errors=error.field_errors,
        ) from None
