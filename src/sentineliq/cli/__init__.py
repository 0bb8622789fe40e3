"""The `sentineliq` command line."""
