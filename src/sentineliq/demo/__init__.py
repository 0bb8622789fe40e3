"""`sentineliq demo`: sample alerts to Jira sandbox tickets, end to end, on embedded defaults.

`run.run_demo()` is the whole demo; `run.sample_alerts()` and `run.sandbox_provider_config()`
are what the tests and the CLI reuse.
"""
