"""The Jira test connection: named checks in order, each saying what works or what to fix.

Credentials, site, project, issue type, priority scheme, required fields and assignee lookup, in
that order; a failed early check skips the rest with the reason. The checks read Jira fresh, which
also refreshes the provider's metadata cache for the creates that follow, and they resolve the
create screen, static field values and assignees through the same provider helpers creates use,
so they judge what a create would see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentineliq.providers.base import CheckResult, ConnectionReport, ErrorKind, ProviderError
from sentineliq.providers.jira.fieldvalues import StaticValues, required_summary, unfilled_required
from sentineliq.providers.jira.mapping import CreateScreen
from sentineliq.providers.jira.metadata import Kind, MetadataScope

if TYPE_CHECKING:
    from sentineliq.providers.jira.provider import JiraProvider

# What to do about a required field no create fills: the required-fields check and a create
# that Jira refused for such a field both end with it.
HOW_TO_SET = (
    "set a value for it in the Jira settings' field values (panel: Settings > Integrations > "
    'Jira; CLI: sentineliq provider configure jira --field "Name=value"; API: field_values) or '
    "give the field a default in Jira; deliveries wait until the configuration changes"
)


class ConnectionChecks:
    """One test connection of one provider; JiraProvider.test_connection runs it."""

    def __init__(self, provider: JiraProvider) -> None:
        self._provider = provider
        self.config = provider.config
        self._client = provider.client

    @property
    def metadata(self) -> MetadataScope:
        return self._provider.metadata  # looked up per use, as the provider does

    def run(self, assignee_email: str | None = None) -> ConnectionReport:
        """Named checks in order; never raises for anything Jira answers (or fails to)."""
        checks: list[CheckResult] = []
        project = self.config.project_key
        names = [
            "credentials",
            "site",
            "project",
            "issue type",
            "priority scheme",
            "required fields",
            "assignee lookup",
        ]

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
        checks.append(self._check_site())

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
            checks.append(CheckResult("required fields", False, "skipped: no usable issue type"))
        else:
            checks.append(self._check_priorities(screen))
            checks.append(self._check_required(screen))
        checks.append(self._check_user_search(assignee_email, me))
        return ConnectionReport(tuple(checks))

    def _check_issue_type(self, checks: list[CheckResult]) -> CreateScreen | None:
        project = self.config.project_key
        # Fresh reads: a test must show Jira as it is now, and it refreshes the cache for creates.
        self.metadata.invalidate(Kind.ISSUE_TYPES)
        self.metadata.invalidate(Kind.CREATE_FIELDS)
        try:
            types = self._provider._issue_types()
            if not types:
                raise ProviderError(
                    ErrorKind.PERMISSION,
                    f"{self.config.email} cannot create any issue type in {project}: check the "
                    "Create issues permission",
                )
            screen = self._provider._screen()
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

    def _check_site(self) -> CheckResult:
        base = self.config.base_url
        self.metadata.invalidate(Kind.SITE)
        try:
            site = self._provider.site_url()
        except ProviderError as error:
            return CheckResult("site", False, f"API base {base}; issue links: {error}")
        if site == base:
            return CheckResult("site", True, f"API base and issue links: {base}")
        source = "site_url" if self.config.site_url else "Jira's server info"
        via = " (the scoped-token gateway)" if self.config.is_gateway else ""
        return CheckResult(
            "site", True, f"API base {base}{via}; issue links use {site} (from {source})"
        )

    def _check_required(self, screen: CreateScreen) -> CheckResult:
        """Fails for each required field without a default that no create would fill."""
        name = "required fields"
        try:
            static = self._provider._static(screen)
        except ProviderError as error:
            return CheckResult(name, False, f"could not look up a user of a field value: {error}")
        # What the panel offers a value for: every required field SentinelIQ cannot fill by
        # itself, those that already have a static value included.
        natively = unfilled_required(self.config, screen, StaticValues())
        self._provider.required_fields = tuple(natively)
        missing = unfilled_required(self.config, screen, static)
        problems: list[str] = []
        if missing:
            problems.append(
                f"{screen.where} requires fields SentinelIQ does not fill: "
                f"{required_summary(missing)}; {HOW_TO_SET}"
            )
        if static.problems:
            problems.append(
                "field values that cannot be set: "
                + "; ".join(p.describe() for p in static.problems)
            )
        if problems:
            return CheckResult(name, False, "; ".join(problems))
        if static.fields:
            filled = ", ".join(screen.fields[f].name for f in static.fields if f in screen.fields)
            return CheckResult(
                name, True, f"every required field is filled (set statically: {filled})"
            )
        return CheckResult(name, True, "every required field is filled")

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
        if email is not None:
            return self._provider._assignees.check(email)
        name = "assignee lookup"
        permission = (
            f"{self.config.email} needs the global Browse users and groups permission to turn "
            "assignee emails into Jira accounts; without it tickets stay unassigned"
        )
        try:
            # The account's own display name: always visible, unlike a hidden email.
            query = str(me.get("displayName") or self.config.email)
            users = self._client.search_users(query, max_results=5)
        except ProviderError as error:
            return CheckResult(name, False, f"{error}; {permission}")
        if not users:
            return CheckResult(name, False, f"user search returned nobody: {permission}")
        return CheckResult(name, True, "user search works")
