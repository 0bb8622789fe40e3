"""`sentineliq worker` and `sentineliq demo`."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from sentineliq.cli.common import open_app
from sentineliq.cli.output import console
from sentineliq.delivery.worker import Worker
from sentineliq.logs import configure_logging


def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once nothing is due instead of polling.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=500)] = 5,
    poll_interval: Annotated[float, typer.Option(min=0.05, help="Seconds between polls.")] = 1.0,
) -> None:
    """Drain the outbox: file a ticket for every due delivery, retrying failures with backoff."""
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # finish the delivery in hand, then exit

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with open_app() as context:
        stats = Worker(context, batch_size=batch_size).run(
            until_idle=until_idle, stop=stop, poll_interval=poll_interval
        )
    console.print(
        f"delivered {stats.delivered}, retry scheduled {stats.retrying}, dead {stats.dead}"
    )


def demo(
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Keep the sandbox up to browse the issues.")
    ] = False,
) -> None:
    """Turn the sample alerts into tickets in a built-in Jira sandbox, on a throwaway database."""
    from sentineliq.demo.run import run_demo  # the sandbox is only loaded when asked for

    if not os.environ.get("SENTINELIQ_LOG_LEVEL"):
        configure_logging("WARNING")  # the demo's table is its output; per-delivery logs are noise

    raise typer.Exit(run_demo(keep_running=keep_running))
