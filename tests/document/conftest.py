"""Schema validation for rendered ADF: jsonschema_rs for speed, jsonschema for readable errors."""

from __future__ import annotations

from typing import Any, Protocol

import jsonschema
import jsonschema_rs
import pytest

from sentineliq.document.schema import adf_schema


class AdfCheck(Protocol):
    def __call__(self, doc: dict[str, Any], *, thorough: bool = False) -> None: ...


@pytest.fixture(scope="session")
def assert_valid_adf() -> AdfCheck:
    fast = jsonschema_rs.Draft4Validator(adf_schema())
    slow = jsonschema.Draft4Validator(adf_schema())

    def check(doc: dict[str, Any], *, thorough: bool = False) -> None:
        # `thorough` also runs the reference implementation (about 20 ms a document).
        error = jsonschema.exceptions.best_match(slow.iter_errors(doc)) if thorough else None
        if error is None and fast.is_valid(doc):
            return
        error = error or jsonschema.exceptions.best_match(slow.iter_errors(doc))
        pytest.fail(f"invalid ADF: {error}")

    return check
