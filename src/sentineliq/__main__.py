"""`python -m sentineliq ...`: the CLI, e.g. under a profiler (bench/ingest.py --profile)."""

from sentineliq.cli.app import main

main()
