"""The login page over real HTTP: delayed addresses get 429 with Retry-After, unknown and known
addresses look alike, and the owner's proven browser (device cookie) still gets in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx2
from admin_fixtures import PASSWORD, csrf_of

from sentineliq.services.context import AppContext
from sentineliq.settings import LoginThrottleSettings
from sentineliq.web.server import BackgroundServer

OWNER = "owner@acme.test"
WRONG = "not the password at all"
# A first delay far longer than any test run: the refusals never depend on how fast it goes.
POLICY = LoginThrottleSettings(first_delay_s=600.0)


def sign_in(browser: httpx2.Client, email: str, password: str) -> httpx2.Response:
    token = csrf_of(browser.get("/login").text)
    return browser.post(
        "/login", data={"csrf_token": token, "email": email, "password": password, "next": "/"}
    )


def test_login_page_delays_the_address_but_not_the_owners_proven_browser(
    app_context: AppContext, people: Any, serve: Callable[..., BackgroundServer]
) -> None:
    app_context.settings = replace(app_context.settings, login=POLICY)
    people.user(OWNER)
    live = serve()
    with (
        httpx2.Client(base_url=live.url, timeout=30) as owner,
        httpx2.Client(base_url=live.url, timeout=30) as attacker,
        httpx2.Client(base_url=live.url, timeout=30) as stranger,
    ):
        signed = sign_in(owner, OWNER, PASSWORD)
        assert signed.status_code == 303
        (device,) = [
            c for c in signed.headers.get_list("set-cookie") if c.startswith("siq_device=")
        ]
        attributes = {part.strip().lower() for part in device.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/login", "max-age=2592000"} <= attributes
        assert "secure" not in attributes  # plain http here; https gets Secure
        owner.cookies.delete("siq_session")  # only the device cookie proves this browser now

        # An attacker works through the free failures, spelling the address every way; an
        # unknown address at its side gets exactly the same answers.
        spellings = ["{}@Acme.test", " {}@acme.test ", "{}@ACME.TEST"]
        for number in range(POLICY.free_failures + 1):
            spelling = spellings[number % 3]
            known = sign_in(attacker, spelling.format("Owner"), WRONG)
            unknown = sign_in(attacker, spelling.format("Ghost"), WRONG)
            assert known.status_code == unknown.status_code == 401
            assert "Wrong email or password." in known.text

        for email in (OWNER, " ghost@acme.test "):
            refused = sign_in(attacker, email, PASSWORD)
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["retry-after"]) <= 600
            assert "Too many failed sign-ins. Try again in 10 minutes." in refused.text
            assert "siq_session" not in attacker.cookies

        # The right password from a browser with nothing to show is refused too...
        assert sign_in(stranger, OWNER, PASSWORD).status_code == 429
        # ...but the owner's browser, proven by its device cookie, signs in.
        again = sign_in(owner, OWNER, PASSWORD)
        assert again.status_code == 303
        assert "siq_session" in owner.cookies
