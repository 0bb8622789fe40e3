"""SentinelIQ Tickets: security alerts in, well-formed tickets out."""

__version__ = "0.1.0"
