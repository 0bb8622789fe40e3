"""One-line confirmations after a redirect, chosen by a fixed code (never text from the URL)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request


@dataclass(frozen=True)
class Flash:
    kind: str  # "success" | "info" | "error"
    text: str


MESSAGES = {
    "saved": Flash("success", "Jira settings saved."),
    "enabled": Flash("success", "Jira is enabled: new alerts will be filed as issues."),
    "disabled": Flash("info", "Jira is disabled: deliveries wait until it is enabled again."),
    "resumed": Flash("success", "Jira resumed: waiting deliveries are due again."),
    "deleted": Flash("info", "The Jira integration was deleted."),
    "replayed": Flash("success", "The delivery was queued again."),
    "replayed_all": Flash("success", "All dead deliveries were queued again."),
    "nothing_dead": Flash("info", "There were no dead deliveries to replay."),
    "revoked": Flash("info", "The API key was revoked. Requests using it are refused from now on."),
    "assignee_mapped": Flash("success", "Mapping saved: the next tickets for it are assigned."),
    "assignee_unmapped": Flash("info", "Mapping removed: Jira's user search decides again."),
    "mapping_saved": Flash("success", "Mapping saved: senders can post to its endpoint."),
    "mapping_deleted": Flash(
        "info", "Mapping deleted: its endpoint answers 404 (a preset is back)."
    ),
    "url_token_revoked": Flash(
        "info", "The sender URL was revoked. Posts to it are refused from now on (401)."
    ),
    "held_none": Flash("error", "Select at least one held ticket first."),
    "held_changed": Flash(
        "error",
        "Nothing was changed: some of the selected tickets are no longer held (released or "
        "discarded meanwhile). Review the list again.",
    ),
}
# Messages with a number (parsed as one, never echoed): the code -> (one, several).
COUNTED = {
    "held_released": (
        "1 held ticket was released: the next worker run files it.",
        "{n} held tickets were released: the next worker run files them.",
    ),
    "held_discarded": (
        "1 held ticket was discarded: it will not be filed.",
        "{n} held tickets were discarded: they will not be filed.",
    ),
}


def _count(request: Request) -> int | None:
    count = request.query_params.get("count", "")
    if count.isascii() and count.isdigit() and len(count) <= 9:
        return int(count)
    return None


def flash_from(request: Request) -> Flash | None:
    code = request.query_params.get("done", "")
    if code in COUNTED:
        number = _count(request)
        if number is not None:
            one, several = COUNTED[code]
            return Flash("success", one if number == 1 else several.format(n=number))
    if code == "backfilled":
        number = _count(request)
        if number is not None:
            if number == 0:
                missed = "no recent alert was missing a ticket."
            elif number == 1:
                missed = "1 recent alert without a ticket was queued."
            else:
                missed = f"{number} recent alerts without a ticket were queued."
            text = f"Jira is enabled: new alerts will be filed as issues; {missed}"
            return Flash("success", text)
    return MESSAGES.get(code)
