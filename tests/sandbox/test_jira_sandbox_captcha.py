"""The sandbox's CAPTCHA lock, as Jira Cloud applies it after repeated failed logins."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx2
import pytest

from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox


@pytest.fixture
def sb() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started


def _basic(email: str, token: str) -> dict[str, str]:
    pair = base64.b64encode(f"{email}:{token}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_locked_refuses_good_credentials_with_cloud_headers(sb: JiraSandbox) -> None:
    sb.set_captcha_lock(True, login_url="https://acme.atlassian.net/login.jsp")
    with httpx2.Client(base_url=sb.url) as http:
        refused = http.get("/rest/api/3/myself", headers=_basic(ADMIN_EMAIL, ADMIN_TOKEN))
        anonymous = http.get("/rest/api/3/serverInfo")
    assert refused.status_code == 403
    assert refused.headers["X-Authentication-Denied-Reason"] == (
        "CAPTCHA_CHALLENGE; login-url=https://acme.atlassian.net/login.jsp"
    )
    assert refused.headers["X-Seraph-LoginReason"] == "AUTHENTICATION_DENIED"
    assert anonymous.status_code == 200  # only Basic-auth requests are locked
    assert sb.captcha_refusals() == 1

    sb.set_captcha_lock(False)  # someone signed in through the browser
    with httpx2.Client(base_url=sb.url) as http:
        assert http.get("/rest/api/3/myself", headers=_basic(ADMIN_EMAIL, ADMIN_TOKEN)).is_success
    assert sb.captcha_refusals() == 1


def test_failed_logins_trigger_the_lock(sb: JiraSandbox) -> None:
    sb.set_captcha_lock(False, after_failed_logins=3)
    with httpx2.Client(base_url=sb.url) as http:
        wrong = [
            http.get("/rest/api/3/myself", headers=_basic(ADMIN_EMAIL, "wrong")).status_code
            for _ in range(3)
        ]
        after = http.get("/rest/api/3/myself", headers=_basic(ADMIN_EMAIL, ADMIN_TOKEN))
    assert wrong == [401, 401, 401]
    assert after.status_code == 403
    assert after.headers["X-Authentication-Denied-Reason"] == (
        f"CAPTCHA_CHALLENGE; login-url={sb.url}/login.jsp"
    )


def test_control_endpoint_switches_the_lock_and_reset_clears_it(sb: JiraSandbox) -> None:
    with httpx2.Client(base_url=sb.url) as http:
        assert http.post("/_sandbox/captcha", json={"locked": "yes"}).status_code == 400
        assert http.post("/_sandbox/captcha", json={"locked": True}).status_code == 200
        auth = _basic(ADMIN_EMAIL, ADMIN_TOKEN)
        assert http.get("/rest/api/3/myself", headers=auth).status_code == 403
        assert http.post("/_sandbox/reset").status_code == 200
        assert http.get("/rest/api/3/myself", headers=auth).status_code == 200
    assert sb.captcha_refusals() == 0
