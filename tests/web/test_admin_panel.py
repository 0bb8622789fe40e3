"""The admin panel over HTTP: sessions, CSRF, roles, headers, and the token never shown."""

from __future__ import annotations

import json
from datetime import timedelta

import admin_fixtures
import pytest
from admin_fixtures import ADMIN, MEMBER, OUTSIDER, OWNER, PASSWORD, World, csrf_of, sign_in
from fastapi.testclient import TestClient
from sqlalchemy import update

from sentineliq.services.identity import IdentityService
from sentineliq.services.ingest import ingest_text
from sentineliq.services.providers import configure
from sentineliq.storage.providers import ProviderRepository
from sentineliq.storage.tables import WebSessionRow
from sentineliq.storage.types import utcnow

# Fixtures shared with the end-to-end tests (tests/web/conftest.py belongs to the API tests).
admin_world = admin_fixtures.admin_world
admin_client = admin_fixtures.admin_client

TOKEN = "ATATT-panel-secret-0123456789abcdef"


def jira_raw(token: str = TOKEN) -> dict[str, object]:
    return {
        "base_url": "http://127.0.0.1:9",
        "email": "bot@acme.test",
        "api_token": token,
        "project_key": "SEC",
        "issue_type": "Task",
    }


def form_for(csrf: str, action: str = "save", token: str = TOKEN) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "action": action,
        "base_url": "http://127.0.0.1:9",
        "email": "bot@acme.test",
        "api_token": token,
        "project_key": "SEC",
        "issue_type": "Task",
        "cf_field_0": "customfield_10050",
        "cf_attr_0": "threat_score",
    }
    for name, value in (
        ("low", "Low"),
        ("medium", "Medium"),
        ("high", "High"),
        ("critical", "Highest"),
        ("urgent", "Highest"),
    ):
        data[f"priority_{name}"] = value
    return data


def integrations(world: World) -> str:
    return f"/w/{world.acme.id}/settings/integrations"


# --- login, headers, redirects ----------------------------------------------------------------


def test_login_page_has_a_csrf_token_and_security_headers(admin_client: TestClient) -> None:
    page = admin_client.get("/login")
    assert page.status_code == 200
    assert csrf_of(page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"


def test_login_sets_a_strict_http_only_session_cookie(admin_client: TestClient) -> None:
    token = csrf_of(admin_client.get("/login").text)
    answer = admin_client.post(
        "/login", data={"csrf_token": token, "email": OWNER, "password": PASSWORD, "next": "/"}
    )
    assert answer.status_code == 303
    cookie = next(
        value for value in answer.headers.get_list("set-cookie") if value.startswith("siq_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # plain http here; https requests get Secure


def test_wrong_password_is_refused_without_saying_which_part(admin_client: TestClient) -> None:
    token = csrf_of(admin_client.get("/login").text)
    answer = admin_client.post(
        "/login", data={"csrf_token": token, "email": OWNER, "password": "not the password!"}
    )
    assert answer.status_code == 401
    assert "Wrong email or password." in answer.text
    assert "siq_session" not in admin_client.cookies


@pytest.mark.parametrize("forge", ["missing", "wrong", "no_cookie", "other_nonce"])
def test_login_without_a_valid_csrf_token_is_403(admin_client: TestClient, forge: str) -> None:
    token = csrf_of(admin_client.get("/login").text)
    data = {"email": OWNER, "password": PASSWORD}
    if forge == "wrong":
        data["csrf_token"] = token[:-4] + "AAAA"
    elif forge == "no_cookie":
        data["csrf_token"] = token
        admin_client.cookies.clear()
    elif forge == "other_nonce":
        data["csrf_token"] = token
        admin_client.cookies.clear()
        admin_client.cookies.set("siq_login_csrf", "a-different-nonce")
    answer = admin_client.post("/login", data=data)
    assert answer.status_code == 403
    assert "siq_session" not in admin_client.cookies


def test_pages_send_signed_out_browsers_to_the_login(
    admin_client: TestClient, admin_world: World
) -> None:
    answer = admin_client.get(integrations(admin_world))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2Fw%2F")


def test_login_never_redirects_off_site(admin_client: TestClient) -> None:
    token = csrf_of(admin_client.get("/login").text)
    answer = admin_client.post(
        "/login",
        data={"csrf_token": token, "email": OWNER, "password": PASSWORD, "next": "//evil.test/x"},
    )
    assert answer.headers["location"] == "/"


# --- CSRF on signed-in forms ------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_the_session_csrf_token_is_403_and_changes_nothing(
    admin_client: TestClient, admin_world: World, token: str | None
) -> None:
    sign_in(admin_client, OWNER)
    data = form_for("unused")
    data.pop("csrf_token")
    if token is not None:
        data["csrf_token"] = token
    answer = admin_client.post(integrations(admin_world) + "/jira", data=data)
    assert answer.status_code == 403
    assert "could not be verified" in answer.text
    repository = ProviderRepository(admin_world.app.db, admin_world.app.secrets)
    assert repository.get(admin_world.acme.id, "jira", decrypt=False) is None


def test_another_sessions_csrf_token_is_refused(
    admin_client: TestClient, admin_world: World
) -> None:
    configure(admin_world.app, admin_world.acme.id, "jira", jira_raw(), enabled=False, actor="t")
    with TestClient(admin_client.app, follow_redirects=False) as other:
        foreign = sign_in(other, ADMIN)
    sign_in(admin_client, OWNER)
    answer = admin_client.post(
        integrations(admin_world) + "/jira/enable", data={"csrf_token": foreign}
    )
    assert answer.status_code == 403
    record = ProviderRepository(admin_world.app.db, admin_world.app.secrets).get(
        admin_world.acme.id, "jira", decrypt=False
    )
    assert record is not None
    assert not record.is_enabled


# --- session end ------------------------------------------------------------------------------


def test_logout_ends_the_session_for_good(admin_client: TestClient, admin_world: World) -> None:
    csrf = sign_in(admin_client, OWNER)
    cookie = admin_client.cookies["siq_session"]
    answer = admin_client.post("/logout", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    admin_client.cookies.set("siq_session", cookie)  # a copied cookie must be dead too
    assert admin_client.get(integrations(admin_world)).status_code == 303


def test_logout_needs_the_csrf_token(admin_client: TestClient, admin_world: World) -> None:
    sign_in(admin_client, OWNER)
    assert admin_client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert admin_client.get(integrations(admin_world)).status_code == 200


def test_an_idle_session_expires(admin_client: TestClient, admin_world: World) -> None:
    sign_in(admin_client, OWNER)
    assert admin_client.get(integrations(admin_world)).status_code == 200
    with admin_world.app.db.session() as session:
        session.execute(update(WebSessionRow).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    answer = admin_client.get(integrations(admin_world))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


# --- roles and workspaces ---------------------------------------------------------------------


def test_a_member_sees_the_status_but_never_the_settings(
    admin_client: TestClient, admin_world: World
) -> None:
    configure(admin_world.app, admin_world.acme.id, "jira", jira_raw(), enabled=True, actor="t")
    sign_in(admin_client, MEMBER)
    page = admin_client.get(integrations(admin_world))
    assert page.status_code == 200
    assert "Enabled" in page.text
    for hidden in ("127.0.0.1:9", "bot@acme.test", 'name="api_token"', "Test connection", TOKEN):
        assert hidden not in page.text
    assert admin_client.get(integrations(admin_world) + "/jira/delete").status_code == 403


@pytest.mark.parametrize(
    ("suffix", "extra"),
    [
        ("/jira", {"action": "save"}),
        ("/jira", {"action": "test"}),
        ("/jira/disable", {}),
        ("/jira/resume", {}),
        ("/jira/delete", {"confirm": "jira"}),
    ],
)
def test_a_member_cannot_change_the_integration(
    admin_client: TestClient, admin_world: World, suffix: str, extra: dict[str, str]
) -> None:
    configure(admin_world.app, admin_world.acme.id, "jira", jira_raw(), enabled=True, actor="t")
    csrf = sign_in(admin_client, MEMBER)
    data = {**form_for(csrf, token="member-typed-token"), **extra}
    answer = admin_client.post(integrations(admin_world) + suffix, data=data)
    assert answer.status_code == 403
    record = ProviderRepository(admin_world.app.db, admin_world.app.secrets).get(
        admin_world.acme.id, "jira", decrypt=True
    )
    assert record is not None
    assert record.is_enabled
    assert record.config["api_token"] == TOKEN
    assert record.config_version == 1


def test_a_member_cannot_manage_keys_or_read_the_audit_log(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, MEMBER)
    base = f"/w/{admin_world.acme.id}"
    assert admin_client.get(base + "/api-keys").status_code == 403
    assert admin_client.get(base + "/audit").status_code == 403
    answer = admin_client.post(base + "/api-keys", data={"csrf_token": csrf, "name": "x"})
    assert answer.status_code == 403
    assert admin_client.get(base + "/deliveries").status_code == 200


def test_another_workspace_looks_like_no_workspace(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, OUTSIDER)
    base = f"/w/{admin_world.acme.id}"
    for path in ("/deliveries", "/alerts", "/settings/integrations", "/audit", "/api-keys"):
        assert admin_client.get(base + path).status_code == 404
    answer = admin_client.post(base + "/settings/integrations/jira", data=form_for(csrf))
    assert answer.status_code == 404
    missing = admin_client.get("/w/00000000-0000-0000-0000-000000000000/deliveries")
    assert missing.status_code == 404
    assert missing.text.count("There is no such workspace") == 1


# --- the Jira form ----------------------------------------------------------------------------


def test_invalid_settings_are_shown_under_their_fields_and_not_saved(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, ADMIN)
    data = form_for(csrf)
    data.update(base_url="ftp://jira.example", project_key="sec", priority_high="")
    answer = admin_client.post(integrations(admin_world) + "/jira", data=data)
    assert answer.status_code == 422
    assert 'id="base_url-error">Must use https' in answer.text
    assert 'id="project_key-error">Must be 2-10 capital letters' in answer.text
    assert "&#39;high&#39; must not be empty" in answer.text
    assert 'value="ftp://jira.example"' in answer.text  # the typed values come back...
    assert TOKEN not in answer.text  # ...except the token
    repository = ProviderRepository(admin_world.app.db, admin_world.app.secrets)
    assert repository.get(admin_world.acme.id, "jira", decrypt=False) is None


def test_saving_keeps_the_stored_token_when_the_field_is_left_empty(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, ADMIN)
    first = admin_client.post(integrations(admin_world) + "/jira", data=form_for(csrf))
    assert first.status_code == 303
    data = form_for(csrf, token="")
    data["project_key"] = "OPS"
    assert admin_client.post(integrations(admin_world) + "/jira", data=data).status_code == 303
    record = ProviderRepository(admin_world.app.db, admin_world.app.secrets).get(
        admin_world.acme.id, "jira", decrypt=True
    )
    assert record is not None
    assert record.config["api_token"] == TOKEN
    assert record.config["project_key"] == "OPS"
    assert record.config["custom_fields"] == {"customfield_10050": "threat_score"}
    assert not record.is_enabled  # a new integration waits for an explicit Enable


def test_delete_needs_the_typed_confirmation(admin_client: TestClient, admin_world: World) -> None:
    configure(admin_world.app, admin_world.acme.id, "jira", jira_raw(), enabled=True, actor="t")
    csrf = sign_in(admin_client, OWNER)
    url = integrations(admin_world) + "/jira/delete"
    assert admin_client.get(url).status_code == 200
    refused = admin_client.post(url, data={"csrf_token": csrf, "confirm": "yes"})
    assert refused.status_code == 422
    repository = ProviderRepository(admin_world.app.db, admin_world.app.secrets)
    assert repository.get(admin_world.acme.id, "jira", decrypt=False) is not None
    done = admin_client.post(url, data={"csrf_token": csrf, "confirm": "jira"})
    assert done.status_code == 303
    assert repository.get(admin_world.acme.id, "jira", decrypt=False) is None
    assert "Not configured" in admin_client.get(integrations(admin_world)).text


def test_the_token_never_appears_in_any_page(admin_client: TestClient, admin_world: World) -> None:
    csrf = sign_in(admin_client, OWNER)
    base = f"/w/{admin_world.acme.id}"
    pages = []
    pages.append(admin_client.post(integrations(admin_world) + "/jira", data=form_for(csrf)))
    # A test with the typed token (the sandbox port is closed: the checks fail, nothing leaks).
    pages.append(
        admin_client.post(integrations(admin_world) + "/jira", data=form_for(csrf, "test"))
    )
    pages.append(
        admin_client.post(integrations(admin_world) + "/jira", data=form_for(csrf, "test", ""))
    )
    bad = form_for(csrf)
    bad["base_url"] = "nope"
    pages.append(admin_client.post(integrations(admin_world) + "/jira", data=bad))
    admin_client.post(integrations(admin_world) + "/jira/enable", data={"csrf_token": csrf})
    for path in (
        "/settings/integrations",
        "/settings/integrations?done=saved",
        "/settings/integrations/jira/delete",
        "/deliveries",
        "/alerts",
        "/api-keys",
        "/audit",
    ):
        pages.append(admin_client.get(base + path))
    assert [p.status_code for p in pages[1:3]] == [200, 200]
    assert "Connection test failed" in pages[1].text
    for page in pages:
        assert TOKEN not in page.text, page.url
        assert TOKEN not in str(page.headers)


# --- API keys ---------------------------------------------------------------------------------


def test_an_api_key_is_shown_once_and_can_be_revoked(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, ADMIN)
    base = f"/w/{admin_world.acme.id}/api-keys"
    created = admin_client.post(base, data={"csrf_token": csrf, "name": "SIEM"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    plaintext = created.text.split('id="new-key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert plaintext.startswith("siq_")
    assert "shown only once" in created.text
    listing = admin_client.get(base)
    assert plaintext not in listing.text
    assert "SIEM" in listing.text
    service = IdentityService(admin_world.app)
    assert service.api_key_principal(plaintext) is not None
    key_id = service.list_api_keys(admin_world.acme.id)[0].id
    revoked = admin_client.post(f"{base}/{key_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert service.api_key_principal(plaintext) is None


def test_an_empty_key_name_is_refused_inline(admin_client: TestClient, admin_world: World) -> None:
    csrf = sign_in(admin_client, ADMIN)
    answer = admin_client.post(
        f"/w/{admin_world.acme.id}/api-keys", data={"csrf_token": csrf, "name": "  "}
    )
    assert answer.status_code == 422
    assert 'id="name-error"' in answer.text


def test_changes_are_in_the_audit_log_with_where_they_came_from(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, OWNER)
    admin_client.post(integrations(admin_world) + "/jira", data=form_for(csrf))
    admin_client.post(integrations(admin_world) + "/jira/enable", data={"csrf_token": csrf})
    page = admin_client.get(f"/w/{admin_world.acme.id}/audit")
    assert page.status_code == 200
    for action in ("provider.configured", "provider.enabled", "provider.saved_in_panel"):
        assert action in page.text
    assert "testclient" in page.text  # TestClient's client address: the "from where"
    assert OWNER in page.text


def test_defanging_and_redaction_are_set_in_the_form_and_other_settings_kept(
    admin_client: TestClient, admin_world: World
) -> None:
    lifecycle = {"storm_threshold": 7}
    raw = {**jira_raw(), "lifecycle": lifecycle}
    configure(admin_world.app, admin_world.acme.id, "jira", raw, enabled=True, actor="t")
    csrf = sign_in(admin_client, ADMIN)
    page = admin_client.get(integrations(admin_world)).text
    assert 'name="defang" value="on" checked' in page  # on by default
    assert 'name="redact_api_tokens" value="on" checked' in page
    assert 'name="redact_emails" value="on">' in page  # emails off by default
    repository = ProviderRepository(admin_world.app.db, admin_world.app.secrets)

    def content() -> object:
        record = repository.get(admin_world.acme.id, "jira", decrypt=False)
        assert record is not None
        assert record.config["lifecycle"]["storm_threshold"] == 7  # not dropped by the form
        return record.config["content"]

    # Boxes as a browser sends them: defang unticked, emails ticked, JWTs unticked.
    data = {**form_for(csrf, token=""), "content_form": "1", "defang": "", "redact_emails": "on"}
    data.update({f"redact_{n}": "on" for n in ("api_tokens", "url_passwords", "aws_keys")})
    data["redact_private_keys"] = "on"
    assert admin_client.post(integrations(admin_world) + "/jira", data=data).status_code == 303
    shown = content()
    assert isinstance(shown, dict)
    assert {key: shown[key] for key in ("defang", "redaction")} == {
        "defang": False,
        "redaction": {
            "api_tokens": True,
            "url_passwords": True,
            "aws_keys": True,
            "private_keys": True,
            "jwts": False,
            "emails": True,
        },
    }
    # A post without the fieldset (an older page) changes none of it.
    assert (
        admin_client.post(
            integrations(admin_world) + "/jira", data=form_for(csrf, token="")
        ).status_code
        == 303
    )
    assert content()["defang"] is False  # type: ignore[index]


def test_the_brand_gate_is_set_in_the_form_and_kept_by_posts_without_it(
    admin_client: TestClient, admin_world: World
) -> None:
    raw = {**jira_raw(), "content": {"defang": False}}
    configure(admin_world.app, admin_world.acme.id, "jira", raw, enabled=True, actor="t")
    csrf = sign_in(admin_client, ADMIN)
    page = admin_client.get(integrations(admin_world)).text
    assert 'name="gate_sev_critical" value="on" checked' in page  # the defaults
    assert 'name="gate_inf_counterfeiting" value="on" checked' in page
    assert 'name="gate_inf_phishing" value="on">' in page
    repository = ProviderRepository(admin_world.app.db, admin_world.app.secrets)

    def gate() -> object:
        record = repository.get(admin_world.acme.id, "jira", decrypt=False)
        assert record is not None
        return record.config["content"]["brand_gate"]

    data = {**form_for(csrf, token=""), "brand_gate_form": "1"}
    data.update({"gate_sev_medium": "on", "gate_inf_phishing": "on", "gate_inf_copyright": ""})
    assert admin_client.post(integrations(admin_world) + "/jira", data=data).status_code == 303
    assert gate() == {"severities": ["medium"], "infringements": ["phishing"]}
    # A post without the fieldset (an older page) leaves the gate as saved.
    plain = form_for(csrf, token="")
    assert admin_client.post(integrations(admin_world) + "/jira", data=plain).status_code == 303
    assert gate() == {"severities": ["medium"], "infringements": ["phishing"]}


def test_the_alerts_list_says_why_a_detection_was_not_ticketed(
    admin_client: TestClient, admin_world: World
) -> None:
    configure(admin_world.app, admin_world.acme.id, "jira", jira_raw(), enabled=True, actor="t")
    detection = {
        "title": "Acme look-alike shop",
        "severity": "medium",
        "source": "Eclipse",
        "detected_at": "2026-11-27T08:00:00Z",
        "brand_protection": {"brand": "Acme", "infringement_type": "counterfeiting"},
    }
    ingest_text(admin_world.app, admin_world.acme.id, json.dumps(detection), actor="t")
    sign_in(admin_client, MEMBER)
    page = admin_client.get(f"/w/{admin_world.acme.id}/alerts").text
    assert "Acme look-alike shop" in page
    assert "jira: below the brand-protection gate: medium counterfeiting" in page
