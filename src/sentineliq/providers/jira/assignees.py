"""Assignee resolution: an alert's assignee email -> a Jira Cloud accountId, or why not.

Cloud identifies people by accountId only, and most accounts hide their email address. The
order is:

1. The workspace's own mapping (email -> accountId, set by an operator). It always wins: it is
   how people fix what a search cannot settle.
2. GET /user/assignable/search?project=KEY&query=EMAIL, cached (a hit 1 h, a miss 5 min, see
   metadata.py). It returns only people who can be assigned in the project, and matches a hidden
   address exactly but answers without `emailAddress`. Accepted:
   - exactly one active `atlassian` account whose visible email equals the address
     (case-insensitive); or
   - when no returned account shows any email, exactly one account, active and `atlassian`.
   Anything else (several candidates, only other visible emails, app or customer accounts,
   inactive people) stays unassigned with the reason: assigning a guess would page the wrong
   person.

A lookup failure that will hit the create as well (rate limit, outage, credentials) is raised; any
other refusal only costs the assignee.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sentineliq.addresses import email_key
from sentineliq.providers.base import AssigneeDirectory, CheckResult, ProviderError
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.metadata import Kind, MetadataScope

NOTE_MAX = 500  # the line added to the description stays short whatever the reason says
PERSON = "atlassian"


@dataclass(frozen=True)
class AssigneeLookup:
    account_id: str | None
    reason: str | None = None  # why there is no account id
    email: str | None = None  # the address that was looked up, for the note in the ticket
    source: str | None = None  # "mapping" or "search" when resolved


def unassigned_note(lookup: AssigneeLookup | None) -> str | None:
    """The one line the ticket's description gets when its assignee could not be resolved."""
    if lookup is None or lookup.account_id is not None or not lookup.reason or not lookup.email:
        return None
    note = " ".join(f"Assignee {lookup.email} could not be assigned: {lookup.reason}".split())
    return note if len(note) <= NOTE_MAX else note[: NOTE_MAX - 1] + "…"


def _person(user: dict[str, Any]) -> bool:
    active = user.get("active") is True
    return active and user.get("accountType") == PERSON and bool(user.get("accountId"))


def _what(user: dict[str, Any]) -> str:
    kind = str(user.get("accountType") or "unknown")
    if kind != PERSON:
        article = "an" if kind[:1] in "aeiou" else "a"
        return f"{article} {kind} account, not a person"
    return "inactive" if user.get("active") is not True else "unusable (no account id)"


def pick_account(users: Sequence[dict[str, Any]], email: str, project: str) -> AssigneeLookup:
    """The accountId for `email` among the answer of an assignable search, or the reason not."""
    wanted = email_key(email)
    shown = [u for u in users if u.get("emailAddress")]
    exact = [u for u in shown if email_key(str(u["emailAddress"])) == wanted]
    if exact:
        people = {str(u["accountId"]) for u in exact if _person(u)}
        if len(people) == 1:
            return AssigneeLookup(people.pop(), email=email, source="search")
        if not people:
            return AssigneeLookup(
                None, f"the account with this email is {_what(exact[0])}", email=email
            )
        return AssigneeLookup(
            None, f"{len(people)} accounts show this email; map it to one of them", email=email
        )
    if not users:
        return AssigneeLookup(
            None,
            f"nobody who can be assigned in {project} has this email (not invited, deactivated, "
            "or without the Assignable user permission)",
            email=email,
        )
    if shown:
        return AssigneeLookup(
            None,
            "the search matched only accounts showing other email addresses; map the email to "
            "the right account",
            email=email,
        )
    if len(users) > 1:
        return AssigneeLookup(
            None,
            f"{len(users)} accounts with hidden email addresses match; map the email to the "
            "right account",
            email=email,
        )
    (only,) = users
    if not _person(only):
        return AssigneeLookup(None, f"the only match is {_what(only)}", email=email)
    return AssigneeLookup(str(only["accountId"]), email=email, source="search")


class AssigneeResolver:
    """Resolves assignee emails for one provider: its client, project, cache scope and mapping."""

    def __init__(
        self,
        client: JiraClient,
        project_key: str,
        scope: Callable[[], MetadataScope],
        directory: AssigneeDirectory | None = None,
    ) -> None:
        self._client = client
        self._project = project_key
        self._scope = scope  # looked up per use: the cache may evict and rebuild a scope
        self._directory = directory

    def mapped(self, email: str) -> AssigneeLookup | None:
        if self._directory is None:
            return None
        account = self._directory.account_for(email_key(email))
        return AssigneeLookup(account, email=email, source="mapping") if account else None

    def search(self, email: str) -> AssigneeLookup:
        """A fresh assignable search; raises ProviderError as the client does."""
        users = self._client.assignable_users(self._project, query=email.strip())
        return pick_account(users, email, self._project)

    def for_create(self, email: str | None, *, on_screen: bool) -> AssigneeLookup | None:
        """None when the draft names nobody; an account id, or the reason there is none."""
        if email is None:
            return None
        if not on_screen:
            return AssigneeLookup(None, email=email)  # mapping records it as not on the screen
        mapped = self.mapped(email)
        if mapped is not None:
            return mapped
        try:
            return self._scope().get_or_load(
                Kind.USER,
                email_key(email),
                lambda: self.search(email),
                is_negative=lambda found: found.account_id is None,
            )
        except ProviderError as error:
            # A failure the create would meet as well is raised for a retry; a refused lookup
            # only costs the assignee.
            if error.retryable or error.pauses_provider:
                raise
            return AssigneeLookup(None, f"the assignable user search failed: {error}", email=email)

    def check(self, email: str) -> CheckResult:
        """The "assignee lookup" connection check for one email; refreshes the cache."""
        name = "assignee lookup"
        try:
            mapped = self.mapped(email)
            if mapped is not None:
                return self._check_mapped(email, str(mapped.account_id))
            found = self.search(email)
            self._scope().put(Kind.USER, email_key(email), found, negative=found.account_id is None)
        except ProviderError as error:
            return CheckResult(name, False, f"the assignable user search failed: {error}")
        if found.account_id is None:
            return CheckResult(name, False, f"{email} cannot be assigned: {found.reason}")
        return CheckResult(
            name,
            True,
            f"{email} resolves to account {found.account_id} (assignable user search)",
        )

    def _check_mapped(self, email: str, account_id: str) -> CheckResult:
        name = "assignee lookup"
        users = self._client.assignable_users(self._project, account_id=account_id)
        if any(u.get("accountId") == account_id and _person(u) for u in users):
            return CheckResult(
                name,
                True,
                f"{email} is mapped to account {account_id} (workspace mapping), who can be "
                f"assigned in {self._project}",
            )
        return CheckResult(
            name,
            False,
            f"{email} is mapped to account {account_id} (workspace mapping), but that account "
            f"cannot be assigned in {self._project}: fix or remove the mapping",
        )
