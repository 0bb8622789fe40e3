"""The storm guard over the API: ingest says what was held (answer, log line, counter), held
deliveries are listed, released or discarded; repeats show as occurrences on the alert."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from sentineliq import metrics
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.web.app import create_app


def _alert(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "title": f"Beaconing from host {n}",
        "severity": "medium",
        "source": "NDR",
        "detected_at": f"2026-11-27T08:{n:02d}:00Z",
        "external_id": f"ndr-{n}",
        **extra,
    }


def _ndjson(*records: dict[str, Any]) -> bytes:
    return ("\n".join(json.dumps(r) for r in records) + "\n").encode()


def _held_metric(provider: str) -> float:
    value = metrics.REGISTRY.get_sample_value("sentineliq_storm_held_total", {"provider": provider})
    return value or 0.0


def test_ingest_past_the_threshold_holds_then_release_and_discard(
    app_context: AppContext,
    people: Any,
    jira_settings: Callable[..., dict[str, Any]],
    json_logs: io.StringIO,
) -> None:
    workspace = people.workspace("SOC")
    key = people.api_key(workspace.id)
    admin = people.user("admin@soc.test", {workspace.id: Role.ADMIN})
    member = people.user("member@soc.test", {workspace.id: Role.MEMBER})
    configure(
        app_context,
        workspace.id,
        "jira",
        jira_settings(lifecycle={"storm_threshold": 2, "storm_window_s": 3600}),
        actor="t",
    )
    base = f"/api/v1/workspaces/{workspace.id}"
    before = _held_metric("jira")
    with TestClient(create_app(app_context)) as http:
        answer = http.post(
            f"{base}/alerts",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            content=_ndjson(*(_alert(n) for n in range(1, 6))),
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["totals"] == {
            "records": 5,
            "accepted": 5,
            "occurrence": 0,
            "duplicate": 0,
            "refused": 0,
            "held": 3,
        }
        assert [r["held"] for r in body["results"]] == [[], [], ["jira"], ["jira"], ["jira"]]
        assert body["warnings"] == [
            "3 new tickets were held by the storm guard for jira: more new tickets than its "
            "threshold arrived within its window; review them (release or discard) in the "
            "panel's held list, with `sentineliq deliveries held`, or GET "
            ".../deliveries?status=held"
        ]
        assert _held_metric("jira") == before + 3
        logged = [json.loads(line) for line in json_logs.getvalue().splitlines()]
        [warning] = [entry for entry in logged if entry.get("event") == "ingest.storm_held"]
        assert (warning["level"], warning["provider"], warning["held"]) == ("warning", "jira", 3)

        held = http.get(f"{base}/deliveries?status=held", headers=member.headers).json()
        held_ids = [d["id"] for d in held["deliveries"]]
        assert len(held_ids) == 3
        assert {(d["status"], d["operation"]) for d in held["deliveries"]} == {
            ("held", "create_issue")
        }

        release = f"{base}/deliveries/held/release"
        # One of ids / all, named when missing or both; unknown ids are named, nothing changes.
        for sent, field in (
            ({}, "body.ids"),
            ({"all": False}, "body.ids"),
            ({"ids": held_ids[:1], "all": True}, "body.all"),
            ({"ids": []}, "body.ids"),
            ({"ids": "x"}, "body.ids"),
            ({"every": True}, "body.every"),
        ):
            refused = http.post(release, headers=admin.headers, json=sent)
            assert refused.status_code == 422, (sent, refused.text)
            assert [e["field"] for e in refused.json()["errors"]] == [field], refused.text
        unknown = http.post(
            release, headers=admin.headers, json={"ids": [held_ids[0], "no-such-id"]}
        )
        assert unknown.status_code == 404
        assert "no-such-id" in unknown.json()["detail"]
        assert held_ids[0] not in unknown.json()["detail"]
        # A member may look, not release.
        assert http.post(release, headers=member.headers, json={"all": True}).status_code == 403
        assert DeliveryRepository(app_context.db).count_held(workspace.id) == 3

        one = http.post(release, headers=admin.headers, json={"ids": [held_ids[0]]})
        assert one.status_code == 200, one.text
        assert one.json() == {
            "action": "released",
            "ids": [held_ids[0]],
            "count": 1,
            "still_held": 2,
        }
        shown = http.get(f"{base}/deliveries/{held_ids[0]}", headers=admin.headers).json()
        assert (shown["status"], shown["history"][-1]["outcome"]) == ("pending", "unheld")

        rest = http.post(
            f"{base}/deliveries/held/discard", headers=admin.headers, json={"all": True}
        )
        assert rest.status_code == 200, rest.text
        assert (rest.json()["action"], rest.json()["count"], rest.json()["still_held"]) == (
            "discarded",
            2,
            0,
        )
        assert set(rest.json()["ids"]) == set(held_ids[1:])
        statuses = http.get(f"{base}/deliveries", headers=admin.headers).json()["deliveries"]
        assert sorted(d["status"] for d in statuses) == [
            "discarded",
            "discarded",
            "pending",
            "pending",
            "pending",
        ]
        # Discarded is final: they cannot be released any more.
        again = http.post(release, headers=admin.headers, json={"ids": held_ids[1:2]})
        assert again.status_code == 404


def test_a_repeat_is_an_occurrence_shown_on_the_alert(
    app_context: AppContext, people: Any, jira_settings: Callable[..., dict[str, Any]]
) -> None:
    workspace = people.workspace("SOC")
    key = people.api_key(workspace.id)
    member = people.user("member@soc.test", {workspace.id: Role.MEMBER})
    configure(app_context, workspace.id, "jira", jira_settings(), actor="t")
    base = f"/api/v1/workspaces/{workspace.id}"
    first = _alert(1, fingerprint="beacon-c2")
    repeat = {
        **first,
        "external_id": "ndr-2",
        "detected_at": "2026-11-27T09:30:00Z",
        "severity": "critical",
        "observables": [{"type": "domain", "value": "c2.example.net"}],
        "affected_assets": ["FIN-LT-0142"],
    }
    with TestClient(create_app(app_context)) as http:
        sent = http.post(
            f"{base}/alerts",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            content=_ndjson(first, repeat, repeat),
        )
        assert sent.status_code == 200, sent.text
        results = sent.json()["results"]
        assert [(r["status"], r["occurrence"]) for r in results] == [
            ("accepted", None),
            ("occurrence", 1),
            ("duplicate", None),
        ]
        assert sent.json()["totals"]["occurrence"] == 1
        alert_id = results[0]["alert_id"]
        assert results[1]["alert_id"] == alert_id

        shown = http.get(f"{base}/alerts/{alert_id}", headers=member.headers).json()
        assert shown["occurrence_count"] == 1
        assert shown["last_seen_at"] == "2026-11-27T09:30:00Z"
        assert shown["peak_severity"] == "critical"
        assert shown["occurrences"] == [
            {
                "seq": 1,
                "received_at": shown["occurrences"][0]["received_at"],
                "detected_at": "2026-11-27T09:30:00Z",
                "source_id": "ndr-2",
                "severity": "critical",
                "raised_from": "medium",
                "new_observables": [{"type": "domain", "value": "c2.example.net"}],
                "new_assets": ["FIN-LT-0142"],
            }
        ]
        assert sorted((d["operation"], d["status"]) for d in shown["deliveries"]) == [
            ("create_issue", "pending"),
            ("report_occurrences", "pending"),
        ]


def test_the_alert_shows_the_latest_twenty_repeats_newest_first(
    app_context: AppContext, people: Any
) -> None:
    workspace = people.workspace("SOC")
    key = people.api_key(workspace.id)
    member = people.user("member@soc.test", {workspace.id: Role.MEMBER})
    base = f"/api/v1/workspaces/{workspace.id}"
    records = [
        {**_alert(n), "fingerprint": "same-problem", "external_id": f"r-{n}"} for n in range(25)
    ]
    with TestClient(create_app(app_context)) as http:
        sent = http.post(
            f"{base}/alerts",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            content=_ndjson(*records),
        ).json()
        assert sent["totals"]["occurrence"] == 24
        alert_id = sent["results"][0]["alert_id"]
        shown = http.get(f"{base}/alerts/{alert_id}", headers=member.headers).json()
        assert shown["occurrence_count"] == 24
        assert [o["seq"] for o in shown["occurrences"]] == list(range(24, 4, -1))
        assert shown["last_seen_at"] == "2026-11-27T08:24:00Z"


def test_the_fingerprint_recipe_is_shown_set_used_by_ingest_and_reset(
    app_context: AppContext, people: Any
) -> None:
    workspace = people.workspace("SOC")
    key = people.api_key(workspace.id)
    admin = people.user("admin@soc.test", {workspace.id: Role.ADMIN})
    member = people.user("member@soc.test", {workspace.id: Role.MEMBER})
    base = f"/api/v1/workspaces/{workspace.id}"
    url = f"{base}/fingerprint-recipe"
    # No fingerprint, no external id: the recipe decides. Two sensors report one lookalike domain.
    seen_by = [
        {
            "title": f"Lookalike domain acme-login.com seen by sensor {n}",
            "severity": "low",
            "source": f"sensor-{n}",
            "detected_at": f"2026-11-27T08:0{n}:00Z",
            "observables": [
                {"type": "domain", "value": "acme-login.com"},
                {"type": "ip", "value": f"203.0.113.{n}"},
            ],
        }
        for n in (1, 2)
    ]
    with TestClient(create_app(app_context)) as http:
        shown = http.get(url, headers=member.headers)
        assert shown.status_code == 200, shown.text
        assert shown.json() == {
            "parts": ["module", "source", "title", "observables"],
            "observable_types": ["hash_sha256", "hash_sha1", "hash_md5", "domain", "url"],
            "default": True,
        }
        for sent, field in (
            ({"parts": ["title", "colour"]}, "body.parts.1"),
            ({"parts": []}, "body.parts"),
            ({"parts": ["title", "title"]}, "body.parts"),
            (
                {"parts": ["title"], "observable_types": ["domain", "dns"]},
                "body.observable_types.1",
            ),
            ({"observable_types": ["domain"]}, "body.parts"),
            ({"parts": "title"}, "body.parts"),
            ({"parts": ["title"], "reset": True}, "body.reset"),
        ):
            refused = http.put(url, headers=admin.headers, json=sent)
            assert refused.status_code == 422, (sent, refused.text)
            assert [e["field"] for e in refused.json()["errors"]] == [field], refused.text
        recipe = {"parts": ["module", "title", "observables"], "observable_types": ["domain"]}
        assert http.put(url, headers=member.headers, json=recipe).status_code == 403
        saved = http.put(url, headers=admin.headers, json=recipe)
        assert saved.status_code == 200, saved.text
        assert saved.json() == {**recipe, "default": False}
        assert http.get(url, headers=member.headers).json() == {**recipe, "default": False}

        sent = http.post(
            f"{base}/alerts",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            content=_ndjson(*seen_by),
        ).json()
        # Source and IP left out of the recipe: the second sensor's report is a repeat.
        assert [r["status"] for r in sent["results"]] == ["accepted", "occurrence"]

        reset = http.delete(url, headers=admin.headers)
        assert reset.status_code == 200, reset.text
        assert reset.json()["default"] is True
        other = [{**a, "title": a["title"].replace("acme-login", "acme-logins")} for a in seen_by]
        sent = http.post(
            f"{base}/alerts",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            content=_ndjson(*other),
        ).json()
        assert [r["status"] for r in sent["results"]] == ["accepted", "accepted"]

    changes = [
        entry
        for entry in AuditRepository(app_context.db).list(workspace.id)
        if entry.action == "workspace.fingerprint_recipe_changed"
    ]
    assert [(c.actor, c.details["after"]) for c in reversed(changes)] == [
        (
            "admin@soc.test",
            {"parts": ["module", "title", "observables"], "observable_types": ["domain"]},
        ),
        ("admin@soc.test", "default"),
    ]
    assert changes[-1].details["before"] == "default"
