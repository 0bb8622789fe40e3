"""The description ladder: what a create sends when Jira refuses an alert's description.

Never an empty ticket. Jira may refuse a description we measured as within its 32,767-character
limit (it measures differently), or refuse content it cannot handle with a generic 400 ("We
can't create this issue for you right now, it could be due to unsupported content ..."). The
ladder steps down, one create per rung:

1. the full rendering (what `build_request` sent);
2. the same document rendered with a smaller budget, when Jira named the description (a size
   refusal); content it refused generically would only be refused again, so that skips to 3;
3. a short plain version: the alert's severity, source, detection time and the link back.

Each rung taken is recorded as a note on the description (shown with the dropped fields, its
reason saying "not left out", which storage reads as "reduced"), so an operator sees which version
the ticket carries. A 400 means nothing was created: repeating is safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentineliq.document.adf import adf_document, adf_text_paragraph, render_adf, sanitize_text
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.mapping import CreateRequest, Dropped
from sentineliq.tickets.draft import TicketDraft

FIELD = "description"
# The second rung's budget: half of Jira's limit, for a Jira that counts more than we do.
SHORTER_CHARS = 16_000
UNSUPPORTED_CONTENT = "unsupported content"
# Jira's answer when the description is not on the create screen: nothing to shorten there.
_NOT_ON_SCREEN = "cannot be set"
# The facts the plain version keeps, by draft attribute, in this order.
_FACTS = (("severity", "Severity"), ("source", "Source"), ("detected_at", "Detected at"))


def refuses_description(error: ProviderError) -> bool:
    """Whether Jira's 400 refused the description's content or size."""
    if error.kind is not ErrorKind.VALIDATION:
        return False
    named = error.field_errors.get(FIELD)
    if named is not None:
        return _NOT_ON_SCREEN not in named
    return not error.field_errors and UNSUPPORTED_CONTENT in error.message.lower()


def plain_description(draft: TicketDraft) -> dict[str, object]:
    """The last rung: a few plain paragraphs Jira has no reason to refuse."""
    lines = []
    for attribute, label in _FACTS:
        value = draft.attributes.get(attribute)
        if value not in (None, "", []):
            lines.append(f"{label}: {value}")
    if draft.link:
        lines.append(f"Alert: {draft.link}")
    lines.append(
        "Jira refused the full alert description, so this ticket carries a short version; "
        "the complete alert is in SentinelIQ."
    )
    return adf_document([adf_text_paragraph(sanitize_text(line)) for line in lines])


@dataclass
class DescriptionLadder:
    draft: TicketDraft
    rung: int = 1  # 1 full, 2 smaller budget, 3 plain

    def step_down(self, request: CreateRequest, error: ProviderError) -> bool:
        """Put the next rung's description into `request` after Jira refused the current one.

        False when the error is not about the description or no rung is left.
        """
        if FIELD not in request.fields or not refuses_description(error) or self.rung >= 3:
            return False
        why = error.field_errors.get(FIELD) or error.message
        if self.rung == 1 and FIELD in error.field_errors:
            shorter = render_adf(
                self.draft.document, max_chars=SHORTER_CHARS, full_content_url=self.draft.link
            )
            if shorter != request.fields[FIELD]:
                self.rung = 2
                request.fields[FIELD] = shorter
                self._note(
                    request,
                    f"shortened, not left out: Jira refused the full description ({why}); "
                    f"filed a rendering of at most {SHORTER_CHARS:,} characters",
                )
                return True
        self.rung = 3
        request.fields[FIELD] = plain_description(self.draft)
        self._note(
            request,
            f"reduced, not left out: Jira refused the description ({why}); filed a short plain "
            "version (severity, source, detection time, link to the alert)",
        )
        return True

    @staticmethod
    def _note(request: CreateRequest, reason: str) -> None:
        # The latest rung's note replaces an earlier one: the ticket carries only the last.
        request.dropped = [d for d in request.dropped if d.field != FIELD]
        request.dropped.append(Dropped(FIELD, reason))
