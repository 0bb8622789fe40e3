"""`python -m sentineliq ...`: the CLI, e.g. under a profiler (bench/ingest.py --profile)."""

from sentineliq.cli.app import main

if __name__ == "__main__":  # importing the package's modules (tests walk them all) runs nothing
    main()
