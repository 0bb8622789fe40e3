"""Who may do what: owner, admin, member, API key and outsider against every permission."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from identity_support import PASSWORD, FakeClock

from sentineliq.services.identity import (
    AccessDenied,
    IdentityService,
    NotVisible,
    Permission,
    Principal,
    Role,
)
from sentineliq.storage import AuditRepository, Database, NotFoundError, WorkspaceRecord

P = Permission
# Written out rather than derived from ROLE_PERMISSIONS, so a wrong table there fails here.
EXPECTED: dict[str, set[Permission]] = {
    "owner": {P.VIEW, P.INGEST, P.MANAGE_PROVIDERS, P.REPLAY, P.MANAGE_KEYS, P.VIEW_AUDIT}
    | {P.TRIAGE},
    "admin": {P.VIEW, P.INGEST, P.MANAGE_PROVIDERS, P.REPLAY, P.MANAGE_KEYS, P.VIEW_AUDIT}
    | {P.TRIAGE},
    "member": {P.VIEW, P.TRIAGE},
    "api_key": {P.INGEST, P.TRIAGE},
    "outsider": set(),
}


def _user(identity: IdentityService, email: str) -> Principal:
    user = identity.create_user(email, PASSWORD, actor="t")
    return Principal(kind="user", id=user.id, name=user.email, user_id=user.id, workspace_id=None)


def test_authorization_matrix(
    identity: IdentityService, workspace_factory: Callable[[str], WorkspaceRecord]
) -> None:
    soc, other = workspace_factory("SOC"), workspace_factory("Other")
    principals = {name: _user(identity, f"{name}@example.test") for name in EXPECTED}
    for role in (Role.OWNER, Role.ADMIN, Role.MEMBER):
        identity.add_member(soc.id, principals[role.value].id, role, actor="t")
    # The outsider belongs to another workspace only: that must not open this one.
    identity.add_member(other.id, principals["outsider"].id, Role.OWNER, actor="t")
    _, plaintext = identity.create_api_key(soc.id, "SIEM", actor="t")
    key = identity.api_key_principal(plaintext)
    assert key is not None
    principals["api_key"] = key

    for name, principal in principals.items():
        assert identity.permissions(principal, soc.id) == EXPECTED[name], name
        for permission in Permission:
            if permission in EXPECTED[name]:
                identity.authorize(principal, soc.id, permission)
            elif EXPECTED[name]:
                with pytest.raises(AccessDenied):
                    identity.authorize(principal, soc.id, permission)
            else:
                with pytest.raises(NotVisible):
                    identity.authorize(principal, soc.id, permission)
        if name != "outsider":
            # Nobody reaches into the other workspace, whatever their role in SOC.
            for permission in Permission:
                with pytest.raises(NotVisible):
                    identity.authorize(principal, other.id, permission)

    assert identity.role_in(principals["owner"], soc.id) is Role.OWNER
    assert identity.role_in(principals["member"], soc.id) is Role.MEMBER
    assert identity.role_in(principals["owner"], other.id) is None
    assert identity.role_in(principals["outsider"], soc.id) is None
    assert identity.role_in(key, soc.id) is Role.MEMBER
    assert identity.role_in(key, other.id) is None
    with pytest.raises(NotVisible):
        identity.authorize(key, "00000000-0000-0000-0000-000000000000", Permission.VIEW)


def test_memberships_are_listed_changed_and_audited(
    identity: IdentityService,
    workspace_factory: Callable[[str], WorkspaceRecord],
    database: Database,
    clock: FakeClock,
) -> None:
    soc, blue = workspace_factory("SOC"), workspace_factory("Blue team")
    frank = _user(identity, "frank@example.test")
    identity.add_member(soc.id, frank.id, Role.MEMBER, actor="owner@example.test", ip="192.0.2.8")
    identity.add_member(blue.id, frank.id, Role.ADMIN, actor="t")
    identity.add_member(soc.id, frank.id, Role.MEMBER, actor="t")  # unchanged: not audited
    assert [(w.name, r) for w, r in identity.workspaces_of(frank.id)] == [
        ("Blue team", Role.ADMIN),
        ("SOC", Role.MEMBER),
    ]
    clock.advance(seconds=1)  # the audit log orders by time
    identity.add_member(soc.id, frank.id, Role.ADMIN, actor="owner@example.test")
    assert identity.role_in(frank, soc.id) is Role.ADMIN
    assert [(u.email, r) for u, r in identity.members_of(soc.id)] == [
        ("frank@example.test", Role.ADMIN)
    ]

    entries = list(reversed(AuditRepository(database).list(soc.id)))
    actions = [(e.action, e.details.get("role")) for e in entries if e.action.startswith("member")]
    assert actions == [("member.added", "member"), ("member.role_changed", "admin")]
    added = next(e for e in entries if e.action == "member.added")
    assert (added.actor, added.target) == ("owner@example.test", f"user:{frank.id}")
    assert added.details == {"email": "frank@example.test", "role": "member", "ip": "192.0.2.8"}

    with pytest.raises(NotFoundError):
        identity.add_member(soc.id, "00000000-0000-0000-0000-000000000000", Role.ADMIN, actor="t")
    with pytest.raises(NotFoundError):
        identity.add_member("00000000-0000-0000-0000-000000000000", frank.id, Role.ADMIN, actor="t")
