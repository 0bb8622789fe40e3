"""`make bench` keeps working as the product changes, and compares like with like.

The harness drives the product through its CLI and HTTP API and the sandbox through its control
API; a renamed flag or route would otherwise only show up when someone runs the 15-minute bench.
These tests run its parts on a handful of issues, without latency, and check what it counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from issuebodies import capture_templates, fields_for  # noqa: E402
from peerclients import raw_loop  # noqa: E402
from sandboxproc import SandboxProcess  # noqa: E402

from sentineliq.sandbox.jira import JiraSandbox  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def templates() -> list[dict[str, Any]]:
    return capture_templates()


def test_a_peer_files_the_same_issue_the_product_filed(templates: list[dict[str, Any]]) -> None:
    with JiraSandbox() as sandbox:
        raw_loop(sandbox.url, templates, 10, 2)
        filed = sandbox.issues()
    assert len(filed) == 10
    numbers = set()
    for issue in filed:
        fields = issue["fields"]
        (own,) = [label for label in fields["labels"] if label.startswith("siq-peer")]
        number = int(own.removeprefix("siq-peer"))  # two threads: any order
        numbers.add(number)
        template = templates[number % len(templates)]
        assert fields["description"] == template["description"]  # our ADF, node for node
        assert fields["summary"] == template["summary"]
        assert fields["priority"]["id"] == template["priority"]["id"]
        assert fields["customfield_10050"] == template["customfield_10050"]
        ours = [label for label in template["labels"] if not label.startswith("siq-")]
        assert [label for label in fields["labels"] if not label.startswith("siq-")] == ours
        assert len(fields["labels"]) == len(template["labels"])  # the id label is replaced
    assert numbers == set(range(10))


def test_names_and_ids_describe_the_same_issue(templates: list[dict[str, Any]]) -> None:
    by_name, by_id = fields_for(templates, 3, names=True), fields_for(templates, 3, names=False)
    assert by_name["project"] == {"key": "SEC"}
    assert by_id["project"] == {"id": "10000"}
    assert by_name["issuetype"] == {"name": "Task"}
    assert by_id["issuetype"] == {"id": "10001"}
    named = ("project", "issuetype", "priority")
    rest = {k: v for k, v in by_name.items() if k not in named}
    assert rest == {k: v for k, v in by_id.items() if k not in named}
    again = fields_for(templates, 13, names=False)  # the same template for another issue
    assert again["labels"] != by_id["labels"]  # its own id label
    assert again["description"] == by_id["description"]


def run_way(way: str, count: int, *extra: str) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / "sidebyside.py"), "--way", way, "--count", str(count)]
    done = subprocess.run(
        [*command, *extra], capture_output=True, text=True, timeout=300, check=False
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in result, done.stderr[-3000:]
    return result


def test_the_product_run_counts_issues_and_requests() -> None:
    """End to end through `serve` and `worker` subprocesses: every alert became an issue, and
    the sandbox saw one create per issue plus the cached metadata reads."""
    result = run_way("product-single", 4, "--limit", "100")
    assert (result["issues"], result["dead"]) == (4, 0)
    assert result["by_endpoint"]["POST /rest/api/3/issue"] == 4
    assert result["requests"] == sum(result["by_endpoint"].values())
    assert result["rate_limited"] == 0
    assert result["seconds"] > result["ingest_seconds"] > 0


def test_a_site_limit_shows_as_429s_in_the_counts(templates: list[dict[str, Any]]) -> None:
    """A loop that does not pace itself to the site: the sandbox's 429s reach the figures, and
    every issue is filed, each retry after its Retry-After."""
    with SandboxProcess() as sandbox:
        # A bucket of one refilled every 2 s: the second create, sent as soon as the first is
        # answered, is refused (Retry-After: 2).
        sandbox.set_rate_limit(0.5)
        raw_loop(sandbox.url, templates, 3, 1, rate=1000.0)
        counts = sandbox.counts()
        assert sandbox.created_issues() == 3
    assert counts.rate_limited >= 1
    assert counts.by_endpoint == {"POST /rest/api/3/issue": 3 + counts.rate_limited}
    assert counts.early == 0
