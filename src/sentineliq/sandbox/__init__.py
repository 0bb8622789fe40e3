"""Local stand-ins for the ticket systems SentinelIQ talks to (tests, the demo, trying it out)."""
