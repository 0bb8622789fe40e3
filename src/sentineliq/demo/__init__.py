"""`sentineliq demo`: sample alerts to Jira sandbox tickets, end to end, on embedded defaults."""
