"""Inputs: alerts in the formats the tools teams already run, each a small adapter to the alert
model (one module per format, registered by name in inputs.registry)."""
