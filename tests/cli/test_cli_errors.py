"""The CLI's error boundary: the exception hierarchy -> exit codes, in `cli/app.py`'s table."""

from __future__ import annotations

import pytest

from sentineliq.cli import app as cli_app
from sentineliq.cli.output import ExitCode
from sentineliq.errors import SentinelIQError
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.net import UnsafeTargetError
from sentineliq.services.identity import AccessDenied, InvalidFieldError, NotVisible
from sentineliq.services.providers import ProviderConfigError
from sentineliq.settings import SettingsError
from sentineliq.storage.crypto import SecretError
from sentineliq.storage.errors import InvalidStateError, LeaseLostError, NotFoundError

EXPECTED = [
    (NotFoundError("workspace 'SOC' not found"), ExitCode.USAGE),
    (InvalidStateError("delivery is delivered"), ExitCode.USAGE),
    (SecretError("cannot decrypt provider secrets"), ExitCode.USAGE),
    (LeaseLostError("lease lost"), ExitCode.USAGE),  # every StorageError, as before
    (ProviderConfigError("jira", ["base_url: is required"]), ExitCode.USAGE),
    (SettingsError("SENTINELIQ_LOG_LEVEL: unknown level"), ExitCode.USAGE),
    (UnsafeTargetError("a private address", "10.0.0.1"), ExitCode.USAGE),
    (InvalidFieldError("email", "not a valid email address"), ExitCode.USAGE),
    (NotVisible("workspace not found"), ExitCode.USAGE),
    (AccessDenied("this requires the replay permission"), ExitCode.USAGE),
    (ProviderError(ErrorKind.UNAVAILABLE, "Jira answered 503", status=503), ExitCode.FAILURE),
]


def _run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception
) -> tuple[int, str]:
    def command(**_: object) -> None:
        raise error

    monkeypatch.setattr(cli_app, "app", command)
    monkeypatch.setattr(cli_app, "configure_logging", lambda: None)
    monkeypatch.delenv("SENTINELIQ_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli_app.main()
    assert isinstance(exited.value.code, int)
    return exited.value.code, capsys.readouterr().err


@pytest.mark.parametrize(("error", "code"), EXPECTED, ids=lambda v: type(v).__name__)
def test_expected_errors_exit_with_their_branch_code_and_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
    code: int,
) -> None:
    exit_code, stderr = _run_main(monkeypatch, capsys, error)
    assert exit_code == code
    assert stderr == f"error: {error}\n"  # no debug hint, no traceback


@pytest.mark.parametrize("error", [SentinelIQError("no branch"), RuntimeError("boom")])
def test_anything_else_is_a_failure_with_the_debug_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception
) -> None:
    exit_code, stderr = _run_main(monkeypatch, capsys, error)
    assert exit_code == ExitCode.FAILURE
    assert f"({type(error).__name__}); set SENTINELIQ_DEBUG=1 for a traceback" in stderr
