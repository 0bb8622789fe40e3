"""Cost and yield of rendering ticket descriptions: time per render_adf call, serialised size and
how many visible (non-whitespace) characters reach Jira within its 32,767-character limit.

Cases: the ten demo samples, and large alerts built from the first sample. Timing is the median
of N renders of an already built Document. Usage: .venv/bin/python bench/render.py [N]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from itertools import cycle
from typing import Any

from sentineliq.alerts.model import Alert
from sentineliq.demo.run import sample_alerts
from sentineliq.document.adf import TRUNCATION_NOTE_PREFIX, adf_size, render_adf
from sentineliq.document.model import Document
from sentineliq.tickets.layout import build_description

SENTENCES = (
    "The beacon from FIN-LT-0142 reached the staging host every sixty seconds; analysts saw "
    "credential dumping via lsass, lateral movement over SMB and a scheduled task named "
    "OneDriveUpdate that re-launched the loader after each reboot."
)
WORDS = SENTENCES.split(" ")


def prose(total: int, length: int) -> str:
    words = cycle(WORDS)
    paragraphs: list[str] = []
    while sum(map(len, paragraphs)) < total:
        paragraph = ""
        while len(paragraph) < length:
            paragraph += next(words) + " "
        paragraphs.append(paragraph.strip())
    return "\n\n".join(paragraphs)[:total]


def observables(count: int) -> list[dict[str, str]]:
    return [{"type": "ip", "value": f"203.0.{n // 256}.{n % 256}"} for n in range(count)]


def visible(adf: dict[str, Any]) -> int:
    content = adf["content"]
    if content and TRUNCATION_NOTE_PREFIX in json.dumps(content[-1], ensure_ascii=False):
        content = content[:-1]
    stack, count = list(content), 0
    while stack:
        node = stack.pop()
        if node["type"] == "text" and not node["text"].startswith("… and "):
            count += len("".join(node["text"].split()))
        stack.extend(node.get("content", ()))
    return count


def cases() -> list[tuple[str, Alert]]:
    samples = json.loads(sample_alerts())
    out = [(f"demo {n}", samples[n]) for n in range(len(samples))]
    large = {**samples[0], "observables": observables(300)}
    out += [
        (
            "50,000 chars prose (2,500-char paragraphs)",
            {**samples[0], "description": prose(50_000, 2500)},
        ),
        (
            "50,000 chars prose (500-char paragraphs)",
            {**samples[0], "description": prose(50_000, 500)},
        ),
        (
            "50,000 chars prose (200-char paragraphs)",
            {**samples[0], "description": prose(50_000, 200)},
        ),
        (
            "300 observables + 45,000-char paragraph",
            {**large, "description": prose(45_000, 45_000)},
        ),
        (
            "300 observables + 45,000 chars in paragraphs",
            {**large, "description": prose(45_000, 500)},
        ),
        (
            "1,000 observables + 1,000 assets (the maximum)",
            {
                **samples[0],
                "observables": observables(1000),
                "affected_assets": [f"host-{n}" for n in range(1000)],
            },
        ),
    ]
    return [(name, Alert.model_validate_json(json.dumps(record))) for name, record in out]


def main(runs: int) -> None:
    print(f"{'case':46} {'ms':>7} {'size':>7} {'shown':>7} {'of':>7} {'ratio':>6}")
    for name, alert in cases():
        doc: Document = build_description(alert, workspace_name="Acme SOC")
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            adf = render_adf(doc, full_content_url=str(alert.link))
            timings.append(time.perf_counter() - start)
        full = render_adf(doc, max_chars=sys.maxsize)
        shown, size = visible(adf), adf_size(adf)
        print(
            f"{name:46} {statistics.median(timings) * 1000:7.1f} {size:7,} {shown:7,} "
            f"{visible(full):7,} {shown / size:6.3f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
